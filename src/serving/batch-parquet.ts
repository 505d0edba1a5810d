/**
 * A finished batch job as Parquet (hyparquet-writer: maintained, one dependency — the hyparquet
 * reader): one row per user, in the JSONL's order, with the columns
 *
 * | column | Parquet type | what |
 * |---|---|---|
 * | user | string (required) | the user id |
 * | items | list<string> | recommended item ids, best first |
 * | scores | list<double> | their scores (log-probabilities), aligned with items |
 * | skipped | list<string> | history items not in the index |
 * | error | string (optional) | `E_EMPTY_HISTORY` when no history item is in the index |
 *
 * Lists are the standard three-level LIST layout that Spark, pyarrow and DuckDB read. Written row
 * group by row group from the job's JSONL, so memory holds one row group.
 */
import { promises as fs } from 'node:fs';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { FormatError } from '../errors.js';
import { readLines } from '../util/io.js';

const list = (name: string, element: Record<string, unknown>) => [
  { name, repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', ...element },
];

/** The Parquet schema of a batch file (see the module comment). */
const BATCH_PARQUET_SCHEMA = [
  { name: 'root', num_children: 5 },
  { name: 'user', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  ...list('items', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
  ...list('scores', { type: 'DOUBLE' }),
  ...list('skipped', { type: 'BYTE_ARRAY', converted_type: 'UTF8' }),
  { name: 'error', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
];

interface BatchLine {
  user: string;
  items: { itemId: string; score: number }[];
  skipped: string[];
  error?: string;
}

/**
 * Convert a batch job's JSONL (`recommendBatch`'s lines) into a Parquet file at `out` (written
 * and fsynced there; the caller renames it into place). Returns the rows written.
 */
export async function batchJsonlToParquet(jsonl: string, out: string, rowGroup = 100_000): Promise<number> {
  const writer = new ParquetWriter({ writer: fileWriter(out), schema: BATCH_PARQUET_SCHEMA as never, createdBy: 'semrec recommend-batch' });
  let cols = { user: [] as string[], items: [] as string[][], scores: [] as number[][], skipped: [] as string[][], error: [] as (string | null)[] };
  let rows = 0;
  const flush = () => {
    if (!cols.user.length) return;
    writer.write({ columnData: Object.entries(cols).map(([name, data]) => ({ name, data })), rowGroupSize: rowGroup });
    cols = { user: [], items: [], scores: [], skipped: [], error: [] };
  };
  for await (const [n, line] of readLines(jsonl)) {
    if (!line) continue;
    let j: BatchLine;
    try {
      j = JSON.parse(line) as BatchLine;
    } catch {
      throw new FormatError(jsonl, `line ${n} is not JSON`);
    }
    cols.user.push(j.user);
    cols.items.push(j.items.map((i) => i.itemId));
    cols.scores.push(j.items.map((i) => i.score));
    cols.skipped.push(j.skipped);
    cols.error.push(j.error ?? null);
    rows++;
    if (cols.user.length >= rowGroup) flush();
  }
  flush();
  writer.finish();
  const fh = await fs.open(out, 'r+');
  await fh.sync().finally(() => fh.close());
  return rows;
}
