/**
 * Evaluation of a Recommender on a leave-one-out split: full-catalogue ranking by constrained
 * beam search, Recall@5/10 and NDCG@5/10 on de-duplicated results, invalid-ID rate, catalogue
 * coverage@10 and per-request latency (p50/p99), with the popularity baseline in the same run.
 */
import type { Dataset } from '../data/store.js';
import type { Recommender } from '../recommender.js';
import { MetricAccumulator, type RankingMetrics } from './metrics.js';
import { PopularityRanker } from './baselines.js';
import { seededSample } from './sample.js';

/** Options of {@link evaluateRecommender}. */
export interface EvalOptions {
  split?: 'test' | 'valid';
  beamWidth?: number;
  /** Evaluate a seeded random sample of `limit` users (default: all). */
  limit?: number;
  /** Seed of that sample (default 0). */
  sampleSeed?: number;
  /** Concurrent requests in flight (default 64; they are batched by the Recommender). */
  concurrency?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Evaluation report. */
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
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Evaluate `rec` on a dataset split. */
export async function evaluateRecommender(rec: Recommender, ds: Dataset, opts: EvalOptions = {}): Promise<EvalReport> {
  const split = opts.split ?? 'test';
  const pool = split === 'test' ? ds.test : ds.valid;
  const examples = seededSample(pool, opts.limit, opts.sampleSeed ?? 0);
  const n = rec.index.size;
  const acc = new MetricAccumulator([5, 10], n);
  const pop = new MetricAccumulator([5, 10], n);
  const popRanker = new PopularityRanker(ds.train);
  const lat: number[] = [];
  let invalid = 0;
  let returned = 0;
  let empty = 0;
  let done = 0;
  const t0 = performance.now();
  const conc = opts.concurrency ?? 64;
  let next = 0;
  const worker = async () => {
    while (next < examples.length) {
      const e = examples[next++];
      const s = performance.now();
      let ranked: string[] = [];
      try {
        const r = await rec.recommend(e.history, { k: 10, beamWidth: opts.beamWidth ?? 20 });
        ranked = r.items.map((x) => x.itemId);
      } catch (err) {
        if ((err as { code?: string }).code !== 'E_EMPTY_HISTORY') throw err;
        empty++;
      }
      lat.push(performance.now() - s);
      for (const id of ranked) {
        returned++;
        if (rec.index.rowOf(id) === undefined) invalid++;
      }
      acc.add(ranked, e.target);
      pop.add(popRanker.rank(e.history, 10), e.target);
      opts.onProgress?.(++done, examples.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, examples.length) }, worker));
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return {
    split,
    users: examples.length,
    ofUsers: pool.length,
    ...(examples.length < pool.length ? { sampleSeed: opts.sampleSeed ?? 0 } : {}),
    model: acc.result(),
    popularity: pop.result(),
    invalidRate: returned ? invalid / returned : 0,
    emptyHistories: empty,
    latencyMs: { p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), mean: lat.reduce((a, b) => a + b, 0) / Math.max(1, lat.length) },
    throughput: examples.length / seconds,
    seconds,
  };
}
