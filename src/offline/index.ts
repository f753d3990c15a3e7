/**
 * `moa-otel/offline`: reading trace files (of this package and of the
 * original Python feature) and the logic behind the offline commands.
 */
export {
  readTurnRecords, parseRecordLine,
  type ReadRecord, type ReadOptions, type ReadPosition, type RecordProblem, type ProblemKind, type LineParseResult,
} from './reader.js';
export { TraceFileError } from './errors.js';
export {
  readInput, readInputs, expandInputPaths, LINE_DECODERS, STDIN_ARG,
  type InputRecord, type InputOptions, type LineDecoder, type DecoderContext,
} from './inputs.js';
export { TRACE_FORMAT_NAMES, type TraceFormat, type Compression } from './trace-format.js';
export { listSessionFiles, overviewSession, sessionStem, SESSION_FILE_SUFFIX, type SessionOverview } from './session-files.js';
export { SessionTotalsAccumulator, type SessionTotals } from './session-totals.js';
export { matchesSession, type TraceTarget } from './target.js';
export { summarizeTurn, type TurnSummary, type CallSummary } from './summary.js';
export { collectStats } from './collect-stats.js';
export { StatsAccumulator, STATS_GROUPS, type StatsGroup, type StatsRow } from './stats.js';
export { DecimalSum, parseDecimal, formatDecimal, type ScaledDecimal } from '../record/decimal.js';
export { checkRecord } from './checks.js';
export { renderTurnTree, type TurnTreeOptions } from './tree.js';
export { replayRecord, type ReplayContext } from './replay.js';
export { exportSession, type ExportOptions, type ExportSummary } from './export-session.js';
export { writeReport, type ReportWriter } from './report/write-report.js';
export {
  turnRecordSchema, referenceRecordSchema, aggregatorRecordSchema,
  type TurnRecord, type ReferenceRecord, type AggregatorRecord,
} from '../record/schema.js';
export {
  INSIGHTS_DOCUMENT_VERSION, VERDICTS, INSIGHTS_GROUPS,
  type InsightsDocument, type ReferenceInsight, type PresetInsight, type SessionBrief, type SpendTotals,
  type InsightsThresholds, type InsightsFilters, type InsightsGroupBy, type Verdict, type Quantiles, type WaitAdded,
  type FailureReasonCount, type TokenTotals,
} from './insights/document.js';
export {
  ngramSet, containment, attributeAnswer, redundancyMatrix, normalizeText, words,
  DEFAULT_NGRAM_SIZE, DEFAULT_MAX_TEXT_CHARS,
  type NGramSet, type TextOverlapOptions, type AnswerAttribution,
} from '../content/text-overlap.js';
export { analyzeInsights, WORKER_MIN_BYTES, type InsightsOptions } from './insights/run-insights.js';
export { DEFAULT_THRESHOLDS, THRESHOLD_NAMES, parseThreshold } from './insights/thresholds.js';
