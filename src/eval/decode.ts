/**
 * The evaluator of validation choices: decode a seeded sample of users with a StepModel under
 * trie-constrained beam search and return every user's rank of the target. The training
 * selectors (transition shape, fusion weight, seen-item policy) all score through it, on requests
 * built where `Recommender.recommend` builds them (serving/request.ts), and their figures come
 * from the same accumulator as `semrec eval`'s (metrics.ts).
 */
import { beamSearch, type PrefixTrie, type StepModel, type TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { EvalExample } from '../data/split.js';
import { InputError } from '../errors.js';
import { beamRequestOf, historyRows } from '../serving/request.js';
import { MetricAccumulator } from './metrics.js';
import { seededSample } from './sample.js';

/** What a StepModel is decoded with: the serving index, its candidate trie, the token layout, the history length. */
export interface DecodeContext {
  index: ItemIndex;
  trie: PrefixTrie;
  layout: TokenLayout;
  maxHistory: number;
}

/** A seeded random sample of examples with their prompts, built once for every model scored on it. */
export interface UserSample {
  examples: readonly EvalExample[];
  /**
   * The serving prompt of each example and the index rows of its whole history (undefined: no
   * history item is in the index — a miss).
   */
  requests: ReadonlyArray<{ prompt: Int32Array; seen: number[] } | undefined>;
  seed: number;
}

/** Draw `users` seeded random examples whose target is in the index (typed error if none). */
export function sampleUsers(ctx: DecodeContext, pool: readonly EvalExample[], users: number, seed: number): UserSample {
  const usable = pool.filter((e) => ctx.index.rowOf(e.target) !== undefined);
  if (!usable.length) throw new InputError('no validation example has a target in the index');
  const examples = seededSample(usable, users, seed);
  const requests = examples.map((e) => {
    const { rows } = historyRows(ctx.index, e.history);
    return rows.length ? { prompt: ctx.layout.prompt(ctx.index.codes, rows, ctx.maxHistory), seen: rows } : undefined;
  });
  return { examples, requests, seed };
}

/**
 * Decode a sample with `model`, `batch` requests per beam search, and return each user's rank of
 * the target in the top 10 (1-based; 0: not there, or no usable history). `tick` is called once
 * per user. With `excludeSeen`, a user's history items are never returned (as
 * `Recommender.recommend` with `excludeSeen`).
 */
export async function decodeRanks(model: StepModel<unknown>, batch: number, ctx: DecodeContext, sample: UserSample, beamWidth: number, tick: () => void, excludeSeen = false): Promise<number[]> {
  const { examples, requests } = sample;
  const ranks: number[] = [];
  for (let s = 0; s < examples.length; s += batch) {
    const chunk = requests.slice(s, s + batch);
    const live = chunk.filter((r): r is { prompt: Int32Array; seen: number[] } => r !== undefined).map((r) => beamRequestOf(r.seen, r.prompt, { excludeSeen }));
    const hits = live.length ? await beamSearch(model, ctx.trie, ctx.layout, live, { beamWidth, k: 10 }) : [];
    let h = 0;
    chunk.forEach((r, i) => {
      const target = ctx.index.rowOf(examples[s + i].target);
      ranks.push(r ? hits[h++].findIndex((x) => x.row === target) + 1 : 0);
      tick();
    });
  }
  return ranks;
}

/** Recall and NDCG at 5 and 10 of per-user ranks (from {@link decodeRanks}). */
export interface RankFigures {
  recall5: number;
  ndcg5: number;
  recall10: number;
  ndcg10: number;
}

/** Recall/NDCG at 5 and 10 of per-user ranks, by the accumulator `semrec eval` uses. */
export function rankFigures(ranks: readonly number[], catalogueSize: number): RankFigures {
  const acc = new MetricAccumulator([5, 10], catalogueSize);
  for (const r of ranks) acc.addRank(r - 1);
  const m = acc.result();
  return { recall5: m.recall[5], ndcg5: m.ndcg[5], recall10: m.recall[10], ndcg10: m.ndcg[10] };
}

/** {@link decodeRanks} then {@link rankFigures}. */
export async function scoreSample(model: StepModel<unknown>, batch: number, ctx: DecodeContext, sample: UserSample, beamWidth: number, tick: () => void, excludeSeen = false): Promise<RankFigures> {
  return rankFigures(await decodeRanks(model, batch, ctx, sample, beamWidth, tick, excludeSeen), ctx.index.size);
}

/** The grid point with the best Recall@10; ties: NDCG@10, then the earlier point. */
export function bestByRecall<T extends { recall10: number; ndcg10: number }>(grid: readonly T[]): T {
  return grid.reduce((a, b) => (b.recall10 > a.recall10 || (b.recall10 === a.recall10 && b.ndcg10 > a.ndcg10) ? b : a));
}
