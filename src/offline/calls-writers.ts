/**
 * The calls table written as CSV, JSON Lines or Parquet, row batch by row
 * batch (memory is one batch, never the table). Parquet comes from
 * `hyparquet-writer`, an optional dependency loaded only when asked for.
 */
import { formatDecimal } from '../record/decimal.js';
import { loadHyparquetWriter } from './parquet-library.js';
import {
  CALLS_COLUMNS, COST_SCALE, isDecimal, isoMicros, isTime, unscaled, type CallsColumn, type CallsRow, type Cell,
} from './calls-table.js';

export type TableFormat = 'csv' | 'jsonl' | 'parquet';
export const TABLE_FORMATS: readonly TableFormat[] = ['csv', 'jsonl', 'parquet'];

/** Where the bytes go: a file or stdout. */
export interface ByteSink {
  write(chunk: Uint8Array | string): Promise<void>;
}

export interface TableWriter {
  /** Rows in order; may be called any number of times. */
  write(rows: readonly CallsRow[]): Promise<void>;
  /** Writes what is left (the Parquet footer). */
  finish(): Promise<TableSummary>;
}

export interface TableSummary {
  rows: number;
  /** Costs with more than COST_SCALE decimal places, rounded to fit the Parquet DECIMAL column. */
  roundedCosts: number;
}

/** The table format a file name asks for, if its extension says. */
export function tableFormatOfName(file: string): TableFormat | null {
  if (/\.csv$/i.test(file)) return 'csv';
  if (/\.(?:jsonl|ndjson)$/i.test(file)) return 'jsonl';
  if (/\.parquet$/i.test(file)) return 'parquet';
  return null;
}

export async function openTableWriter(format: TableFormat, sink: ByteSink): Promise<TableWriter> {
  if (format === 'csv') return textWriter(sink, csvLine(CALLS_COLUMNS.map((c) => c.name)), csvRow);
  if (format === 'jsonl') return textWriter(sink, null, jsonRow);
  return parquetWriter(sink);
}

function textWriter(sink: ByteSink, header: string | null, line: (row: CallsRow) => string): TableWriter {
  let rows = 0;
  let started = false;
  return {
    async write(batch) {
      let text = '';
      if (!started && header !== null) text += `${header}\n`;
      started = true;
      for (const row of batch) text += `${line(row)}\n`;
      rows += batch.length;
      if (text !== '') await sink.write(text);
    },
    async finish() {
      if (!started && header !== null) await sink.write(`${header}\n`);
      return { rows, roundedCosts: 0 };
    },
  };
}

function cellText(cell: Cell): string | null {
  if (cell === null) return null;
  if (typeof cell === 'string') return cell;
  if (typeof cell === 'number') return String(cell);
  if (isTime(cell)) return isoMicros(cell);
  return formatDecimal(cell);
}

/** RFC 4180: a field with a comma, quote, CR or LF (or edge spaces) is quoted, quotes doubled; null is an empty field. */
function csvField(text: string | null): string {
  if (text === null) return '';
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(fields: readonly (string | null)[]): string {
  return fields.map(csvField).join(',');
}

function csvRow(row: CallsRow): string {
  return csvLine(CALLS_COLUMNS.map((c) => cellText(row[c.name])));
}

/** One JSON object per row, keys in column order; a cost is a JSON number with exactly its decimal digits. */
function jsonRow(row: CallsRow): string {
  const parts = CALLS_COLUMNS.map((c) => {
    const cell = row[c.name];
    let value: string;
    if (cell === null) value = 'null';
    else if (isDecimal(cell)) value = formatDecimal(cell);
    else if (isTime(cell)) value = JSON.stringify(isoMicros(cell));
    else value = JSON.stringify(cell);
    return `${JSON.stringify(c.name)}:${value}`;
  });
  return `{${parts.join(',')}}`;
}

/** Rows per Parquet row group (and per batch held in memory). */
export const PARQUET_ROW_GROUP = 8192;
function schemaElement(column: CallsColumn): Record<string, unknown> {
  const base = { name: column.name, repetition_type: 'OPTIONAL' };
  switch (column.kind) {
    case 'string': return { ...base, type: 'BYTE_ARRAY', converted_type: 'UTF8' };
    case 'int': return { ...base, type: 'INT64' };
    case 'double': return { ...base, type: 'DOUBLE' };
    case 'timestamp': return { ...base, type: 'INT64', converted_type: 'TIMESTAMP_MICROS' };
    // 16 bytes hold any 38-digit decimal.
    case 'decimal': return { ...base, type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, converted_type: 'DECIMAL', precision: 38, scale: COST_SCALE };
  }
}

async function parquetWriter(sink: ByteSink): Promise<TableWriter> {
  const lib = await loadHyparquetWriter();
  const bytes = new lib.ByteWriter();
  // The library calls flush() after each row group and finish() at the end: both hand the bytes so far to the sink.
  let pending: Uint8Array[] = [];
  const take = () => {
    if (bytes.index > 0) pending.push(new Uint8Array(bytes.buffer.slice(0, bytes.index)));
    bytes.index = 0;
  };
  bytes.flush = take;
  bytes.finish = take;
  const drain = async () => {
    const chunks = pending;
    pending = [];
    for (const chunk of chunks) await sink.write(chunk);
  };
  const writer = new lib.ParquetWriter({
    writer: bytes,
    schema: [{ name: 'root', num_children: CALLS_COLUMNS.length }, ...CALLS_COLUMNS.map(schemaElement)],
    createdBy: 'moa-otel',
  });
  let rows = 0;
  let roundedCosts = 0;
  const columnData = (batch: readonly CallsRow[]) => CALLS_COLUMNS.map((column) => ({
    name: column.name,
    data: batch.map((row) => {
      const cell = row[column.name];
      if (cell === null) return null;
      if (isTime(cell)) return cell.micros;
      if (isDecimal(cell)) {
        const fitted = unscaled(cell);
        if (fitted.rounded) roundedCosts += 1;
        return fitted.units;
      }
      if (column.kind === 'int' && typeof cell === 'number') return BigInt(Math.trunc(cell));
      return cell;
    }),
  }));
  return {
    async write(batch) {
      for (let at = 0; at < batch.length; at += PARQUET_ROW_GROUP) {
        const slice = batch.slice(at, at + PARQUET_ROW_GROUP);
        await writer.write({ columnData: columnData(slice), rowGroupSize: PARQUET_ROW_GROUP });
        rows += slice.length;
        await drain();
      }
    },
    async finish() {
      writer.finish();
      await drain();
      return { rows, roundedCosts };
    },
  };
}
