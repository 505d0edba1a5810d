/**
 * Evaluation on a leave-one-out split. Every model and baseline is a {@link Ranker} and is scored
 * by the same code ({@link evaluateRankers}): Recall@5/10 and NDCG@5/10 on de-duplicated lists,
 * invalid-ID rate, catalogue coverage@10, per-request latency (p50/p99) and throughput. A
 * Recommender is a Ranker through {@link recommenderRanker} (full-catalogue ranking by constrained
 * beam search); {@link evaluateRecommender} scores one next to the popularity baseline.
 */
import type { Dataset } from '../data/store.js';
import type { Recommender } from '../serving/recommender.js';
import { dedupe, MetricAccumulator, type RankingMetrics } from './metrics.js';
import { PopularityRanker, type Ranker } from './baselines.js';
import { seededSample } from './sample.js';
import { shardOf, type RankerShard, type ShardSpec } from './shard-spec.js';
import { InputError } from '../errors.js';

/** Options of {@link evaluateRankers} and {@link evaluateRecommender}. */
export interface EvalOptions {
  split?: 'test' | 'valid';
  beamWidth?: number;
  /** Evaluate a seeded random sample of `limit` users (default: all). */
  limit?: number;
  /** Seed of that sample (default 0). */
  sampleSeed?: number;
  /** Concurrent requests in flight per ranker (default 64; a Recommender batches them). */
  concurrency?: number;
  /** Also return every user's rank of the target (`ranks`), for paired comparisons. */
  perUser?: boolean;
  /**
   * Evaluate one shard of the users (`index` 0-based of `count`: the users at positions
   * index, index + count, … of the seeded sample) and return what merging needs (shard.ts).
   */
  shard?: ShardSpec;
  onProgress?: (done: number, total: number) => void;
}

/** One ranker's figures. */
export interface RankerReport {
  name: string;
  metrics: RankingMetrics;
  /** Returned ids that are not items of the catalogue (must be 0). */
  invalidRate: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** Requests per second over the ranker's whole run. */
  throughput: number;
  seconds: number;
  /** With `perUser`: per evaluated user (sample order), the target's 1-based rank in the top 10, 0 if absent. */
  ranks?: number[];
  /** With `shard`: this shard's share, merged exactly by {@link mergeEvalShards}. */
  part?: RankerShard;
}

/** Figures of several rankers on the same users. */
export interface RankersReport {
  split: 'test' | 'valid';
  users: number;
  /** Users in the split; `users` < `ofUsers` means a seeded random sample of `sampleSeed`. */
  ofUsers: number;
  sampleSeed?: number;
  rankers: RankerReport[];
}

/** Evaluation report of one Recommender (the shape `semrec eval --json` prints). */
export interface EvalReport {
  split: 'test' | 'valid';
  users: number;
  /** Users in the split; `users` < `ofUsers` means a seeded random sample of `sampleSeed`. */
  ofUsers: number;
  sampleSeed?: number;
  model: RankingMetrics;
  popularity: RankingMetrics;
  /** Returned ids that are not items of the index (must be 0). */
  invalidRate: number;
  /** Users whose history had no item known to the index (counted as misses). */
  emptyHistories: number;
  latencyMs: { p50: number; p99: number; mean: number };
  /** Requests per second over the whole run. */
  throughput: number;
  seconds: number;
  /** With `perUser`: the model's rank of each user's target (1..10, 0 = not in the top 10). */
  ranks?: number[];
  /** A shard's share (`semrec eval --shard I/N`): merged into the whole report by {@link mergeEvalShards}. */
  shard?: { index: number; count: number; model: RankerShard; popularity: RankerShard };
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** A Recommender as a Ranker (top-k by constrained beam search); it counts empty histories. */
export interface RecommenderRanker extends Ranker {
  /** Requests whose history had no item known to the index (ranked as an empty list). */
  readonly emptyHistories: number;
}

/** Wrap a Recommender as a {@link Ranker} (beam `beamWidth`, default max(k, 20)). */
export function recommenderRanker(rec: Recommender, opts: { beamWidth?: number; name?: string } = {}): RecommenderRanker {
  let empty = 0;
  return {
    name: opts.name ?? rec.modelName,
    get emptyHistories() {
      return empty;
    },
    isValid: (id: string) => rec.index.rowOf(id) !== undefined,
    async rank(history, k) {
      try {
        const r = await rec.recommend(history, { k, beamWidth: opts.beamWidth ?? Math.max(k, 20) });
        return r.items.map((x) => x.itemId);
      } catch (err) {
        if ((err as { code?: string }).code !== 'E_EMPTY_HISTORY') throw err;
        empty++;
        return [];
      }
    },
  };
}

/** Score `rankers` one after another on the same users of a split (top 10 each). */
export async function evaluateRankers(rankers: readonly Ranker[], ds: Dataset, opts: EvalOptions = {}): Promise<RankersReport> {
  const split = opts.split ?? 'test';
  const pool = split === 'test' ? ds.test : ds.valid;
  const sample = seededSample(pool, opts.limit, opts.sampleSeed ?? 0);
  const examples = opts.shard ? shardOf(sample, opts.shard) : sample;
  const catalogue = new Set(ds.items.map((i) => i.id));
  const total = examples.length * rankers.length;
  let done = 0;
  const out: RankerReport[] = [];
  for (const ranker of rankers) {
    const valid = ranker.isValid ?? ((id: string) => catalogue.has(id));
    const acc = new MetricAccumulator([5, 10], ds.items.length);
    // per example, summed in example order afterwards: the figures do not depend on which request finished first
    const rank0 = new Int32Array(examples.length);
    const covered = new Set<string>();
    const lat: number[] = [];
    let invalid = 0;
    let returned = 0;
    let next = 0;
    const ranks = opts.perUser ? new Array<number>(examples.length).fill(0) : undefined;
    const t0 = performance.now();
    const worker = async () => {
      while (next < examples.length) {
        const i = next++;
        const e = examples[i];
        const s = performance.now();
        const ranked = await ranker.rank(e.history, 10);
        const list = dedupe(ranked);
        if (ranks) ranks[i] = list.slice(0, 10).indexOf(e.target) + 1;
        lat.push(performance.now() - s);
        for (const id of ranked) {
          returned++;
          if (!valid(id)) invalid++;
        }
        rank0[i] = list.indexOf(e.target);
        for (const id of list.slice(0, acc.coverageK)) covered.add(id);
        opts.onProgress?.(++done, total);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 64, examples.length) }, worker));
    const seconds = (performance.now() - t0) / 1000;
    for (const r of rank0) acc.addRank(r);
    acc.cover(covered);
    const part: RankerShard | undefined = opts.shard ? { name: ranker.name, ranks0: Array.from(rank0), covered: [...covered].sort(), catalogue: ds.items.length, invalid, returned, latencies: [...lat], seconds } : undefined;
    lat.sort((a, b) => a - b);
    out.push({
      name: ranker.name,
      metrics: acc.result(),
      invalidRate: returned ? invalid / returned : 0,
      latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length) },
      throughput: examples.length / Math.max(1e-9, seconds),
      seconds,
      ...(ranks ? { ranks } : {}),
      ...(part ? { part } : {}),
    });
  }
  return { split, users: examples.length, ofUsers: pool.length, ...(examples.length < pool.length ? { sampleSeed: opts.sampleSeed ?? 0 } : {}), rankers: out };
}

/** Evaluate `rec` on a dataset split, next to the popularity baseline on the same users. */
export async function evaluateRecommender(rec: Recommender, ds: Dataset, opts: EvalOptions = {}): Promise<EvalReport> {
  const p = rec.config.params as { fittedOn?: string; transition?: { fittedOn?: string } };
  const fitted = p.transition?.fittedOn ?? p.fittedOn;
  if ((opts.split ?? 'test') === 'valid' && fitted === 'train+valid' && !rec.modelName.startsWith('transformer')) {
    throw new InputError(`this model's transition counts were fitted on train+valid: it has seen the validation targets, so it cannot be evaluated on the validation split (evaluate the test split, or retrain with transitionFit train)`, { param: 'split' });
  }
  const model = recommenderRanker(rec, { beamWidth: opts.beamWidth ?? 20 });
  const n = (opts.split ?? 'test') === 'test' ? ds.test.length : ds.valid.length;
  const all = Math.min(n, opts.limit ?? Infinity);
  const users = opts.shard ? (all > opts.shard.index ? Math.floor((all - opts.shard.index - 1) / opts.shard.count) + 1 : 0) : all;
  const r = await evaluateRankers([model, new PopularityRanker(ds.train)], ds, { ...opts, onProgress: opts.onProgress && ((d) => opts.onProgress!(Math.min(d, users), users)) });
  const [m, pop] = r.rankers;
  return {
    split: r.split,
    users: r.users,
    ofUsers: r.ofUsers,
    ...(r.sampleSeed !== undefined ? { sampleSeed: r.sampleSeed } : {}),
    model: m.metrics,
    popularity: pop.metrics,
    invalidRate: m.invalidRate,
    emptyHistories: model.emptyHistories,
    latencyMs: m.latencyMs,
    throughput: m.throughput,
    seconds: m.seconds,
    ...(m.ranks ? { ranks: m.ranks } : {}),
    ...(opts.shard && m.part && pop.part ? { shard: { ...opts.shard, model: m.part, popularity: pop.part } } : {}),
  };
}
