/**
 * A record built in memory (from spans) checked as a parsed line is: the
 * same JSON value a line's `JSON.parse` would give, then the same fast check
 * and schema. `spans-record.ts` builds the value; this says whether it is a
 * turn record, in the reader's words.
 */
import { turnRecordSchema, type TurnRecord } from '../record/schema.js';
import { recordAsIs } from './record-shape.js';

export type RecordValueResult = { ok: true; record: TurnRecord } | { ok: false; message: string };

export function recordOfValue(value: unknown): RecordValueResult {
  // Most records are as every writer writes them: checked by hand, the schema runs only on the others.
  const record = recordAsIs(value);
  if (record !== null) return { ok: true, record };
  const parsed = turnRecordSchema.safeParse(value);
  if (parsed.success) return { ok: true, record: parsed.data };
  const issues = parsed.error.issues.slice(0, 3).map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join('.') : '(record)';
    return `${where}: ${issue.message}`;
  });
  const more = parsed.error.issues.length > 3 ? ` (+${parsed.error.issues.length - 3} more)` : '';
  return { ok: false, message: `not a turn record: ${issues.join('; ')}${more}` };
}
