/**
 * The normalised dataset directory (format `semrec-dataset` v1):
 *
 * - `dataset.json`      — format, version, source, counts, split settings, malformed-line report
 * - `items.jsonl`       — one item per line: `{"id","title","text",...}`, sorted by id
 * - `interactions.tsv`  — `user<TAB>item<TAB>timestamp` after k-core filtering, per user chronological
 * - `train.jsonl`       — `{"user","items":[...]}`: each user's sequence minus the last two items
 * - `valid.jsonl`, `test.jsonl` — `{"user","history":[...],"target"}` (history ≤ maxHistory)
 *
 * Written atomically (temporary directory, verified, renamed).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { readArtifact, writeArtifact, openRequired, zodIssues } from '../../quantizer/core/index.js';
import { z } from 'zod';
import { FormatError, NotFoundError, SemrecError } from '../errors.js';
import type { EvalExample, PreparedDataset, UserSequence, DatasetCounts } from './split.js';
import type { Item, MalformedReport } from './types.js';

/** Format name written into dataset.json. */
export const DATASET_FORMAT = 'semrec-dataset';
/** Current format version. */
export const DATASET_VERSION = 1;

/** Contents of dataset.json. */
export interface DatasetMeta {
  format: typeof DATASET_FORMAT;
  /** The format version, named as in index.json and config.json (datasets written before 2026-12-08 say `version`: read alike). */
  formatVersion: number;
  source: string;
  counts: DatasetCounts;
  split: { scheme: 'leave-one-out'; maxHistory: number; trainUsers: number; validExamples: number; testExamples: number };
  core: number;
  malformed: MalformedReport;
  /** Free-form parameters of the loader or generator (e.g. synthetic seed and sizes). */
  params?: Record<string, unknown>;
}

const nat = z.number().int().min(0);
const MetaSchema = z
  .object({
    format: z.literal(DATASET_FORMAT),
    formatVersion: z.literal(DATASET_VERSION),
    source: z.string(),
    counts: z.object({ users: nat, items: nat, interactions: nat, avgHistory: z.number().min(0).finite(), itemsWithoutTitle: nat }).passthrough(),
    split: z.object({ scheme: z.literal('leave-one-out'), maxHistory: z.number().int().min(1), trainUsers: nat, validExamples: nat, testExamples: nat }).passthrough(),
    core: nat,
    malformed: z.object({ count: nat, examples: z.array(z.unknown()) }).passthrough(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

/** A dataset loaded from its directory. */
export interface Dataset {
  dir: string;
  meta: DatasetMeta;
  items: Item[];
  train: UserSequence[];
  valid: EvalExample[];
  test: EvalExample[];
}

/**
 * A fingerprint of a dataset's content: sha256 over its items (ids and text) and its train,
 * validation and test sequences, in order. Equal for the same data wherever it is stored (and
 * whichever generation directory holds it); different when any item text or sequence differs —
 * e.g. the same source prepared by a semrec that decodes item text differently.
 */
export function datasetFingerprint(ds: Pick<Dataset, 'items' | 'train' | 'valid' | 'test'>): string {
  const h = createHash('sha256');
  for (const part of [ds.items, ds.train, ds.valid, ds.test]) {
    for (const line of jsonlLines(part)) h.update(line);
    h.update('\u0000');
  }
  return h.digest('hex');
}

/** One JSON line per row. */
function* jsonlLines(rows: Iterable<unknown>): Generator<string> {
  for (const r of rows) yield JSON.stringify(r) + '\n';
}

/**
 * Write text given line by line, about 1 MB per write: no string holds the whole file (a file of
 * tens of millions of interactions would pass V8's 512 MB string limit).
 */
async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const fh = await fs.open(file, 'w');
  try {
    let buf: string[] = [];
    let size = 0;
    for (const line of lines) {
      buf.push(line);
      size += line.length;
      if (size >= 1 << 20) {
        await fh.write(buf.join(''));
        buf = [];
        size = 0;
      }
    }
    if (buf.length) await fh.write(buf.join(''));
  } finally {
    await fh.close();
  }
}

/** Write a prepared dataset to `dir` atomically; returns its metadata. */
export async function writeDataset(
  dir: string,
  ds: PreparedDataset,
  extra: { malformed: MalformedReport; params?: Record<string, unknown>; force?: boolean; inputs?: readonly string[] },
): Promise<DatasetMeta> {
  const meta: DatasetMeta = {
    format: DATASET_FORMAT,
    formatVersion: DATASET_VERSION,
    source: ds.source,
    counts: ds.counts,
    split: {
      scheme: 'leave-one-out',
      maxHistory: ds.maxHistory,
      trainUsers: ds.split.train.length,
      validExamples: ds.split.valid.length,
      testExamples: ds.split.test.length,
    },
    core: ds.core,
    malformed: extra.malformed,
    ...(extra.params ? { params: extra.params } : {}),
  };
  await writeArtifact(
    dir,
    async (tmp) => {
      // streamed line by line: the same bytes as whole-file strings, without holding them
      await writeLines(path.join(tmp, 'items.jsonl'), jsonlLines(ds.items));
      await writeLines(path.join(tmp, 'interactions.tsv'), (function* () {
        yield 'user\titem\ttimestamp\n';
        for (const s of ds.sequences) for (let i = 0; i < s.items.length; i++) yield `${s.user}\t${s.items[i]}\t${s.times ? s.times[i] : i}\n`;
      })());
      await writeLines(path.join(tmp, 'train.jsonl'), jsonlLines((function* () {
        for (const s of ds.split.train) yield { user: s.user, items: s.items };
      })()));
      await writeLines(path.join(tmp, 'valid.jsonl'), jsonlLines(ds.split.valid));
      await writeLines(path.join(tmp, 'test.jsonl'), jsonlLines(ds.split.test));
      await fs.writeFile(path.join(tmp, 'dataset.json'), JSON.stringify(meta, null, 2) + '\n');
    },
    async (tmp) => {
      await loadDataset(tmp);
    },
    { kind: DATASET_FORMAT, force: extra.force, inputs: extra.inputs },
  );
  return meta;
}

/** The records of a JSONL file given as its (verified) bytes. */
function parseJsonl<T>(buf: Buffer, file: string, check: (row: unknown) => row is T, what: string): T[] {
  const out: T[] = [];
  let n = 0;
  for (let at = 0; at < buf.length; ) {
    let end = buf.indexOf(10, at);
    if (end < 0) end = buf.length;
    const line = buf.toString('utf8', at, end);
    at = end + 1;
    n++;
    if (!line.trim()) continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new FormatError(file, `line ${n}: not JSON`);
    }
    if (!check(row)) throw new FormatError(file, `line ${n}: not a ${what} record`);
    out.push(row);
  }
  return out;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrArr = (v: unknown): v is string[] => Array.isArray(v) && v.every(isStr);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isItem = (v: unknown): v is Item => isObj(v) && isStr(v.id) && isStr(v.title) && isStr(v.text);
const isSeq = (v: unknown): v is UserSequence => isObj(v) && isStr(v.user) && isStrArr(v.items);
const isEx = (v: unknown): v is EvalExample => isObj(v) && isStr(v.user) && isStrArr(v.history) && isStr(v.target);

/**
 * Load a dataset directory written by {@link writeDataset}. Throws {@link NotFoundError} when
 * it does not exist and {@link FormatError} when it is not a semrec dataset, of another version,
 * or inconsistent (a split referencing an unknown item, counts that do not match).
 */
export async function loadDataset(dir: string): Promise<Dataset> {
  return readArtifact(dir, (d) => loadDatasetAt(d, dir));
}

async function loadDatasetAt(dir: string, logical: string): Promise<Dataset> {
  const metaFile = path.join(dir, 'dataset.json');
  // MANIFEST.json first: every file's size and sha256 (a damaged file is refused before parsing);
  // then every file is parsed from the bytes that were checked, never reopened by path
  const art = await openRequired(dir, DATASET_FORMAT, { verifyAll: true }).catch(async (err: unknown) => {
    if (err instanceof SemrecError && err.code === 'E_FORMAT' && /MANIFEST\.json: missing/.test(err.message)) {
      const hasMeta = await fs.lstat(metaFile).then(() => true, () => false);
      if (!hasMeta) throw new NotFoundError(metaFile, 'dataset (dataset.json)');
    }
    throw err;
  });
  if (!art.has('dataset.json')) throw new NotFoundError(metaFile, 'dataset (dataset.json)');
  let meta: DatasetMeta;
  try {
    meta = JSON.parse(await art.text('dataset.json')) as DatasetMeta;
  } catch (err) {
    throw new FormatError(metaFile, `not valid JSON: ${(err as Error).message}`);
  }
  if (!isObj(meta) || meta.format !== DATASET_FORMAT) throw new FormatError(metaFile, `not a ${DATASET_FORMAT} directory`);
  // `version`: the field's name in datasets written before 2026-12-08 (now `formatVersion`, as in index and model configs)
  const legacy = meta as DatasetMeta & { version?: unknown };
  if (legacy.version !== undefined) {
    if (legacy.formatVersion !== undefined) throw new FormatError(metaFile, 'both formatVersion and version (its older name) are set');
    const { version, ...rest } = legacy;
    meta = { ...rest, formatVersion: version as number };
  }
  if (meta.formatVersion !== DATASET_VERSION) {
    throw new FormatError(metaFile, `dataset format version ${String(meta.formatVersion)} is not supported (expected ${DATASET_VERSION})`);
  }
  const parsed = MetaSchema.safeParse(meta);
  if (!parsed.success) throw new FormatError(metaFile, `invalid dataset.json: ${zodIssues(parsed.error)}`);
  const jsonl = async <T>(name: string, check: (row: unknown) => row is T, what: string): Promise<T[]> => {
    const file = path.join(dir, name);
    if (!art.has(name)) throw new FormatError(file, 'missing (not listed in MANIFEST.json)');
    return parseJsonl(await art.read(name), file, check, what);
  };
  const items = await jsonl('items.jsonl', isItem, 'item');
  const train = await jsonl('train.jsonl', isSeq, 'train sequence');
  const valid = await jsonl('valid.jsonl', isEx, 'evaluation example');
  const test = await jsonl('test.jsonl', isEx, 'evaluation example');
  const ids = new Set(items.map((i) => i.id));
  if (ids.size !== items.length) throw new FormatError(path.join(dir, 'items.jsonl'), 'duplicate item ids');
  if (items.length !== meta.counts.items || train.length !== meta.split.trainUsers || test.length !== meta.split.testExamples || valid.length !== meta.split.validExamples) {
    throw new FormatError(metaFile, 'counts in dataset.json do not match the files (truncated dataset?)');
  }
  const check = (file: string, list: string[]) => {
    for (const it of list) if (!ids.has(it)) throw new FormatError(path.join(dir, file), `unknown item id ${JSON.stringify(it)}`);
  };
  for (const s of train) check('train.jsonl', s.items);
  for (const e of [...valid, ...test]) check('valid.jsonl/test.jsonl', [...e.history, e.target]);
  // the recorded counts must be the files' (leave-one-out: every user has a train sequence, one
  // validation and one test target)
  const c = meta.counts;
  const users = new Set(train.map((s) => s.user)).size;
  const interactions = train.reduce((a, s) => a + s.items.length, 0) + valid.length + test.length;
  const noTitle = items.filter((i) => !i.title).length;
  const avg = users ? interactions / users : 0;
  if (c.users !== users || c.interactions !== interactions || c.itemsWithoutTitle !== noTitle || Math.abs(c.avgHistory - avg) > 1e-9 * Math.max(1, avg)) {
    throw new FormatError(metaFile, `counts in dataset.json do not match the files (users ${c.users} vs ${users}, interactions ${c.interactions} vs ${interactions}, items without title ${c.itemsWithoutTitle} vs ${noTitle}, avgHistory ${c.avgHistory} vs ${avg})`);
  }
  return { dir: logical, meta, items, train, valid, test };
}
