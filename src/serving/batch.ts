/**
 * Batch recommendations, the offline job around the model: top-k items for every user of a
 * dataset (their whole sequence as history) or of a JSONL file of histories, written as JSONL
 * (`{"user", "items": [{"itemId", "score"}], "skipped"}` per line, in input order), sharded like
 * evaluation (`shard`: every N-th user), resumable and never half-visible: lines are appended to
 * `OUT.partial` (fsynced per chunk, with `OUT.partial.json` recording what the job is), a rerun
 * of the same job continues after the last complete line, and the finished file is renamed to
 * `OUT` in one step. An `OUT` ending in `.parquet` gets the same rows as Parquet
 * (batch-parquet.ts), converted from the finished JSONL.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { readRegularText, zodIssues } from '../../quantizer/core/index.js';
import type { Dataset } from '../data/store.js';
import { FormatError, InputError } from '../errors.js';
import { shardOf, type ShardSpec } from '../eval/shard-spec.js';
import { readLines } from '../util/io.js';
import type { Recommender } from './recommender.js';
import { batchJsonlToParquet } from './batch-parquet.js';

/** Whether a batch output path asks for Parquet (its extension). */
const isParquetPath = (file: string): boolean => /\.parquet$/i.test(file);

/** One user's request. */
export interface BatchRequest {
  user: string;
  /** Item ids, oldest first. */
  history: string[];
}

/** Options of {@link recommendBatch}. */
export interface BatchOptions {
  /**
   * The file written: JSONL, or Parquet when it ends in `.parquet` (batch-parquet.ts: one row per
   * user). Either way the job appends JSONL to `OUT.partial` (resumable) and the finished file is
   * renamed into place.
   */
  out: string;
  k?: number;
  beamWidth?: number;
  /** Override the model's seen-item policy. */
  excludeSeen?: boolean;
  /** Only this shard of the requests (positions index, index + count, …). */
  shard?: ShardSpec;
  /** Requests written per fsync (default 512). */
  chunk?: number;
  /** Replace a finished `out` (default: refuse it). */
  force?: boolean;
  onProgress?: (done: number, total: number) => void;
}

/** What a batch job did. */
export interface BatchReport {
  out: string;
  users: number;
  /** Lines found complete in `OUT.partial` and kept (a resumed job). */
  resumed: number;
  /** Users none of whose history items is in the index (a line with no items). */
  emptyHistories: number;
  seconds: number;
}

/** Every user of a dataset with their whole sequence (train, validation and test items), the most recent `maxHistory` kept. */
export function datasetRequests(ds: Dataset, maxHistory: number): BatchRequest[] {
  return ds.test.map((e, i) => ({ user: e.user ?? `#${i}`, history: [...e.history, e.target].slice(-maxHistory) }));
}

const LineSchema = z.object({ user: z.string().min(1), history: z.array(z.string().min(1)) }).strict();

/** Histories from JSONL (`{"user": "u1", "history": ["a", "b"]}` per line); a bad line is a FormatError naming it. */
export async function readBatchRequests(file: string): Promise<BatchRequest[]> {
  const out: BatchRequest[] = [];
  const users = new Set<string>();
  for await (const [n, line] of readLines(file)) {
    if (!line.trim()) continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new FormatError(file, `line ${n} is not JSON`);
    }
    const r = LineSchema.safeParse(raw);
    if (!r.success) throw new FormatError(file, `line ${n}: ${zodIssues(r.error)} (each line is {"user": "...", "history": ["item", ...]})`);
    if (users.has(r.data.user)) throw new FormatError(file, `line ${n}: user ${JSON.stringify(r.data.user)} appears twice`);
    users.add(r.data.user);
    out.push(r.data);
  }
  if (!out.length) throw new FormatError(file, 'holds no history');
  return out;
}

/** The job a partial file belongs to: a resume continues only the same job. */
interface JobMeta {
  modelHash: string;
  k: number;
  beamWidth: number;
  excludeSeen: boolean;
  shard: ShardSpec | null;
  users: number;
  /** First and last user of the shard's requests (the same input). */
  firstUser: string;
  lastUser: string;
}

/** Complete lines of a partial file that are the expected users in order; returns their count and byte length. */
async function validPrefix(file: string, expected: readonly BatchRequest[]): Promise<{ lines: number; bytes: number }> {
  const buf = await fs.readFile(file);
  let lines = 0;
  let start = 0;
  while (lines < expected.length) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) break; // an unfinished last line: dropped
    try {
      const j = JSON.parse(buf.subarray(start, nl).toString('utf8')) as { user?: unknown; items?: unknown };
      if (j.user !== expected[lines].user || !Array.isArray(j.items)) break;
    } catch {
      break;
    }
    lines++;
    start = nl + 1;
  }
  return { lines, bytes: start };
}

/** Run (or resume) a batch job; see the module comment. */
export async function recommendBatch(rec: Recommender, requests: readonly BatchRequest[], opts: BatchOptions): Promise<BatchReport> {
  const t0 = Date.now();
  const k = opts.k ?? 10;
  const beamWidth = opts.beamWidth ?? Math.max(k, 20);
  const mine = opts.shard ? shardOf(requests, opts.shard) : [...requests];
  const out = path.resolve(opts.out);
  const partial = out + '.partial';
  const metaFile = partial + '.json';
  const exists = (f: string) => fs.lstat(f).then(() => true, () => false);
  if ((await exists(out)) && !opts.force) throw new InputError(`${opts.out} exists (a finished batch): give another --out, or --force to redo it`, { param: 'out' });
  const meta: JobMeta = { modelHash: rec.modelHash, k, beamWidth, excludeSeen: opts.excludeSeen ?? rec.excludeSeenByDefault, shard: opts.shard ?? null, users: mine.length, firstUser: mine[0]?.user ?? '', lastUser: mine.at(-1)?.user ?? '' };
  let resumed = 0;
  if (await exists(partial)) {
    const prev = await readRegularText(metaFile, { what: 'batch job record', maxBytes: 1 << 20 }).then((t) => t, () => undefined);
    if (prev === undefined || prev !== JSON.stringify(meta)) {
      if (!opts.force) throw new InputError(`${partial} belongs to another job (model, k, beam, policy, shard or input differ${prev === undefined ? ': its record is missing' : ''}): --force starts over`, { param: 'out' });
    } else {
      const v = await validPrefix(partial, mine);
      await fs.truncate(partial, v.bytes);
      resumed = v.lines;
    }
  }
  if (resumed === 0) {
    await fs.mkdir(path.dirname(out), { recursive: true });
    await fs.writeFile(metaFile, JSON.stringify(meta));
    await fs.writeFile(partial, '');
  }
  const fh = await fs.open(partial, 'a');
  let empty = 0;
  try {
    const chunk = opts.chunk ?? 512;
    opts.onProgress?.(resumed, mine.length);
    for (let a = resumed; a < mine.length; a += chunk) {
      const part = mine.slice(a, a + chunk);
      const lines = await Promise.all(
        part.map(async (q) => {
          try {
            const r = await rec.recommend(q.history, { k, beamWidth, excludeSeen: opts.excludeSeen });
            return JSON.stringify({ user: q.user, items: r.items.map((i) => ({ itemId: i.itemId, score: i.score })), skipped: r.skipped });
          } catch (err) {
            if ((err as { code?: string }).code !== 'E_EMPTY_HISTORY') throw err;
            empty++;
            return JSON.stringify({ user: q.user, items: [], skipped: q.history, error: 'E_EMPTY_HISTORY' });
          }
        }),
      );
      await fh.write(lines.join('\n') + '\n');
      await fh.sync();
      opts.onProgress?.(a + part.length, mine.length);
    }
  } finally {
    await fh.close();
  }
  if (isParquetPath(out)) {
    // the resumable JSONL becomes the Parquet file, renamed into place once complete
    const tmp = partial + '.parquet';
    await batchJsonlToParquet(partial, tmp);
    await fs.rename(tmp, out);
    await fs.rm(partial, { force: true });
  } else {
    await fs.rename(partial, out);
  }
  await fs.rm(metaFile, { force: true });
  const dir = await fs.open(path.dirname(out), 'r');
  await dir.sync().finally(() => dir.close());
  return { out: opts.out, users: mine.length, resumed, emptyHistories: empty, seconds: (Date.now() - t0) / 1000 };
}
