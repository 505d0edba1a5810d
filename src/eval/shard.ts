/**
 * Sharded evaluation: `semrec eval --shard I/N` scores every N-th user of the (seeded) evaluation
 * sample, starting at the I-th, in its own process or on its own machine, and writes what merging
 * needs — per user the target's position, the items its lists covered, invalid counts, latencies.
 * {@link mergeEvalShards} puts the users back in sample order and sums them exactly as one
 * unsharded run does (evaluateRankers sums in sample order too), so the merged Recall / NDCG /
 * coverage / invalid rate / per-user ranks are the unsharded figures, bit for bit.
 */
import { z } from 'zod';
import { readRegularText, zodIssues } from '../../quantizer/core/index.js';
import { FormatError, InputError } from '../errors.js';
import { MetricAccumulator, type RankingMetrics } from './metrics.js';
import type { EvalReport } from './evaluate.js';
import type { RankerShard, ShardSpec } from './shard-spec.js';

export { shardOf } from './shard-spec.js';
export type { RankerShard, ShardSpec } from './shard-spec.js';

/** A shard's `semrec eval --shard I/N --json` output: its report plus what must agree to merge. */
export interface EvalShardFile extends EvalReport {
  modelDir?: string;
  modelName: string;
  modelHash: string;
  dataHash: string;
  beamWidth: number;
  excludeSeen: boolean;
  shard: NonNullable<EvalReport['shard']>;
}

/** A merged evaluation: the unsharded report, its identity, and how many shards made it. */
export type MergedEval = Omit<EvalShardFile, 'shard'> & { shards: number };

/** Parse `I/N` (1-based, as `--shard 2/4`) into a 0-based {@link ShardSpec}. */
export function parseShard(v: string | undefined, flag = '--shard'): ShardSpec | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v.trim());
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && n <= 100_000) || !(i >= 1 && i <= n)) throw new InputError(`${flag} must be I/N with 1 ≤ I ≤ N ≤ 100000, got ${JSON.stringify(v)}`, { param: 'shard' });
  return { index: i - 1, count: n };
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;
}

/** One ranker's metrics and per-user ranks from its shards, users back in sample order. */
function mergeRanker(parts: RankerShard[]): { metrics: RankingMetrics; ranks: number[]; invalidRate: number; latencies: number[]; seconds: number } {
  const N = parts.length;
  const users = parts.reduce((a, p) => a + p.ranks0.length, 0);
  const acc = new MetricAccumulator([5, 10], parts[0].catalogue);
  const ranks: number[] = [];
  for (let i = 0; i < users; i++) {
    const r = parts[i % N].ranks0[Math.floor(i / N)];
    acc.addRank(r);
    ranks.push(r >= 0 && r < 10 ? r + 1 : 0);
  }
  for (const p of parts) acc.cover(p.covered);
  const returned = parts.reduce((a, p) => a + p.returned, 0);
  const invalid = parts.reduce((a, p) => a + p.invalid, 0);
  return { metrics: acc.result(), ranks, invalidRate: returned ? invalid / returned : 0, latencies: parts.flatMap((p) => p.latencies), seconds: parts.reduce((a, p) => a + p.seconds, 0) };
}

/**
 * Merge the shards of one evaluation into its report (the shape `semrec eval --json` prints):
 * exactly the unsharded figures and per-user ranks. Refuses (typed errors) shards of different
 * evaluations (model, data, split, sample, beam, seen-item policy) and a missing or repeated
 * shard. `seconds` is the shards' summed wall time; `throughput` users per summed second.
 */
export function mergeEvalShards(shards: readonly EvalShardFile[]): MergedEval {
  if (!shards.length) throw new InputError('no shard to merge', { param: 'shards' });
  const first = shards[0];
  const N = first.shard.count;
  const same = (k: keyof EvalShardFile) => shards.every((s) => JSON.stringify(s[k]) === JSON.stringify(first[k]));
  for (const k of ['modelHash', 'dataHash', 'split', 'ofUsers', 'sampleSeed', 'beamWidth', 'excludeSeen', 'modelName'] as const) {
    if (!same(k)) throw new InputError(`the shards are not of one evaluation: their ${k} differ (${[...new Set(shards.map((s) => JSON.stringify(s[k])))].join(' vs ')})`, { param: 'shards' });
  }
  const byIndex = new Map<number, EvalShardFile>();
  for (const s of shards) {
    if (s.shard.count !== N) throw new InputError(`the shards are not of one evaluation: split into ${N} and ${s.shard.count}`, { param: 'shards' });
    if (byIndex.has(s.shard.index)) throw new InputError(`shard ${s.shard.index + 1}/${N} is given twice`, { param: 'shards' });
    byIndex.set(s.shard.index, s);
  }
  const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length) throw new InputError(`missing shard(s) ${missing.map((i) => `${i + 1}/${N}`).join(', ')}`, { param: 'shards' });
  const ordered = Array.from({ length: N }, (_, i) => byIndex.get(i)!);
  // users of shard i are positions i, i + N, …: the counts must be those of one sample
  const users = ordered.reduce((a, s) => a + s.shard.model.ranks0.length, 0);
  ordered.forEach((s, i) => {
    const want = users > i ? Math.floor((users - i - 1) / N) + 1 : 0;
    if (s.shard.model.ranks0.length !== want || s.shard.popularity.ranks0.length !== want) throw new InputError(`shard ${i + 1}/${N} has ${s.shard.model.ranks0.length} users, ${want} expected for ${users} users in ${N} shards`, { param: 'shards' });
  });
  const m = mergeRanker(ordered.map((s) => s.shard.model));
  const p = mergeRanker(ordered.map((s) => s.shard.popularity));
  const lat = [...m.latencies].sort((a, b) => a - b);
  const { shard: _s, ranks: _r, ...rest } = first;
  return {
    ...rest,
    users,
    model: m.metrics,
    popularity: p.metrics,
    invalidRate: m.invalidRate,
    emptyHistories: ordered.reduce((a, s) => a + s.emptyHistories, 0),
    latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length) },
    throughput: users / Math.max(1e-9, m.seconds),
    seconds: m.seconds,
    ranks: m.ranks,
    shards: N,
  };
}

const RankerShardSchema = z.object({
  name: z.string(),
  ranks0: z.array(z.number().int().min(-1)),
  covered: z.array(z.string()),
  catalogue: z.number().int().min(0),
  invalid: z.number().int().min(0),
  returned: z.number().int().min(0),
  latencies: z.array(z.number().min(0)),
  seconds: z.number().min(0),
});
const ShardFileSchema = z
  .object({
    modelName: z.string(),
    modelHash: z.string(),
    dataHash: z.string(),
    beamWidth: z.number().int().positive(),
    excludeSeen: z.boolean(),
    split: z.enum(['test', 'valid']),
    users: z.number().int().min(0),
    ofUsers: z.number().int().min(0),
    emptyHistories: z.number().int().min(0),
    shard: z.object({ index: z.number().int().min(0), count: z.number().int().positive(), model: RankerShardSchema, popularity: RankerShardSchema }),
  })
  .passthrough();

/** Read one shard's output (`semrec eval --shard I/N --json`), checked (FormatError naming the file). */
export async function readEvalShard(file: string): Promise<EvalShardFile> {
  const text = await readRegularText(file, { what: 'evaluation shard', maxBytes: 2 ** 30 });
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `not JSON (${(err as Error).message})`);
  }
  const r = ShardFileSchema.safeParse(raw);
  if (!r.success) throw new FormatError(file, `not the output of \`semrec eval --shard I/N --json\`: ${zodIssues(r.error)}`);
  if (r.data.shard.index >= r.data.shard.count) throw new FormatError(file, `shard index ${r.data.shard.index} ≥ count ${r.data.shard.count}`);
  return r.data as unknown as EvalShardFile;
}
