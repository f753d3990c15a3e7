/**
 * The Parquet writer library, loaded only when a Parquet file is asked for:
 * `hyparquet-writer` is an optional dependency, and its absence is one line
 * naming the package to install.
 */
import { TraceFileError } from './errors.js';

const PARQUET_PACKAGE = 'hyparquet-writer';

/** The part of hyparquet-writer this package uses (its incremental writer over a byte buffer). */
export interface HyparquetWriterModule {
  ByteWriter: new () => HyparquetByteWriter;
  ParquetWriter: new (options: { writer: HyparquetByteWriter; schema: unknown[]; createdBy?: string }) => {
    write(options: { columnData: { name: string; data: unknown[] }[]; rowGroupSize?: number }): void | Promise<void>;
    finish(): void;
  };
}

export interface HyparquetByteWriter {
  buffer: ArrayBuffer;
  index: number;
  flush?: () => void | Promise<void>;
  finish: () => void;
}

export async function loadHyparquetWriter(): Promise<HyparquetWriterModule> {
  try {
    return (await import('hyparquet-writer')) as unknown as HyparquetWriterModule;
  } catch {
    throw new TraceFileError(`writing Parquet needs the optional package ${PARQUET_PACKAGE}: npm install ${PARQUET_PACKAGE}`);
  }
}
