/**
 * Parquet input (hyparquet: a maintained, dependency-free reader; hyparquet-compressors adds the
 * gzip, zstd, brotli and LZ4 codecs to its built-in snappy). Rows are read one row group at a
 * time through an open, checked regular file, so memory holds one row group, not the file.
 * Values come out as loose records for the loaders: 64-bit integers as numbers (or strings when
 * beyond 2^53), timestamps as epoch seconds, byte arrays as UTF-8 text.
 */
import type { FileHandle } from 'node:fs/promises';
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { openRegular } from '../../quantizer/core/index.js';
import { FormatError } from '../errors.js';

/** Whether the first bytes are Parquet's magic (`PAR1`). */
function isParquetMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}

/** Whether `file` starts with Parquet's magic (read through a checked regular-file open). */
export async function isParquetFile(file: string): Promise<boolean> {
  const { fh } = await openRegular(file);
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return isParquetMagic(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** One loaded value, as the loaders take it. */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return v.getTime() / 1000;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

function asyncBuffer(fh: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice: async (start: number, end?: number) => {
      const stop = Math.min(end ?? size, size);
      const buf = Buffer.alloc(Math.max(0, stop - start));
      let off = 0;
      while (off < buf.length) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, start + off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return buf.buffer.slice(buf.byteOffset, buf.byteOffset + off);
    },
  };
}

/**
 * The rows of a Parquet file as `[row number (1-based), record]`, one row group in memory at a
 * time. A file that is not readable Parquet is a FormatError naming it.
 */
export async function* parquetRecords(file: string): AsyncGenerator<[number, Record<string, unknown>]> {
  const { fh, size } = await openRegular(file);
  try {
    const buffer = asyncBuffer(fh, size);
    const fail = (err: unknown): never => {
      throw new FormatError(file, `not a readable Parquet file (${(err as Error).message})`);
    };
    const metadata: FileMetaData = await parquetMetadataAsync(buffer).catch(fail);
    let row = 0;
    for (const group of metadata.row_groups) {
      const n = Number(group.num_rows);
      const rows = (await parquetReadObjects({ file: buffer, metadata, rowStart: row, rowEnd: row + n, compressors }).catch(fail)) as Record<string, unknown>[];
      for (const r of rows) {
        row++;
        const rec: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(r)) rec[k] = plain(v);
        yield [row, rec];
      }
    }
  } finally {
    await fh.close();
  }
}
