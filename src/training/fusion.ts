/**
 * Choosing the fusion weight of a fused model on the **validation** split: for each transition
 * weight w in a small grid (0 = the transformer alone, 1 = the transition model alone), decode a
 * seeded random sample of validation users with FusedStepModel([transformer · (1 − w),
 * transition · w]) under trie-constrained beam search and keep the w with the best Recall@10
 * (ties: NDCG@10, then the smaller w). The test split is never read.
 */
import { beamSearch, FusedStepModel, type PrefixTrie, type StepModel, type TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { EvalExample } from '../data/split.js';
import { InputError } from '../errors.js';
import { MetricAccumulator } from '../eval/metrics.js';
import { seededSample } from '../eval/sample.js';
import { ONNX_MAX_BATCH, TABLE_MAX_BATCH } from '../serving/model/kinds.js';

/** Default grid of transition weights. */
export const DEFAULT_FUSION_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
/** Default number of validation users the weight is chosen on. */
export const DEFAULT_FUSION_USERS = 2000;

/** One grid point's validation figures. */
export interface FusionGridPoint {
  weight: number;
  recall5: number;
  ndcg5: number;
  recall10: number;
  ndcg10: number;
}

/** The choice and the evidence for it (recorded in config.json as `params.fusion`). */
export interface FusionChoice {
  /** The chosen transition weight (the transformer gets 1 − weight). */
  weight: number;
  criterion: 'valid Recall@10 (ties: NDCG@10, then the smaller weight)';
  split: 'valid';
  /** Validation users decoded per grid point (a seeded random sample when fewer than all). */
  users: number;
  sampleSeed: number;
  beamWidth: number;
  grid: FusionGridPoint[];
  seconds: number;
}

/** Options of {@link chooseFusionWeight}. */
export interface FusionOptions {
  grid?: readonly number[];
  /** Validation users to decode (default 2,000; a seeded random sample). */
  users?: number;
  seed?: number;
  beamWidth?: number;
  /** Requests per beam search when the transformer takes part (default: ONNX_MAX_BATCH). */
  transformerBatch?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What validation-split choices (fusion weight, transition shape) decode with. */
export interface FusionContext {
  index: ItemIndex;
  trie: PrefixTrie;
  layout: TokenLayout;
  maxHistory: number;
}

/** A seeded random sample of validation examples with their prompts, built once for every grid point. */
export interface ValidationSample {
  examples: readonly EvalExample[];
  /**
   * The serving prompt of each example and the index rows of its whole history (undefined: no
   * history item is in the index — a miss).
   */
  requests: ReadonlyArray<{ prompt: Int32Array; seen: number[] } | undefined>;
  seed: number;
}

/** Draw `users` seeded random validation examples whose target is in the index (typed error if none). */
export function validationSample(ctx: FusionContext, valid: readonly EvalExample[], users: number, seed: number): ValidationSample {
  const usable = valid.filter((e) => ctx.index.rowOf(e.target) !== undefined);
  if (!usable.length) throw new InputError('no validation example has a target in the index');
  const examples = seededSample(usable, users, seed);
  const requests = examples.map((e) => {
    const rows = e.history.map((id) => ctx.index.rowOf(id)).filter((r): r is number => r !== undefined);
    return rows.length ? { prompt: ctx.layout.prompt(ctx.index.codes, rows, ctx.maxHistory), seen: rows } : undefined;
  });
  return { examples, requests, seed };
}

/**
 * Decode a validation sample with `model` under trie-constrained beam search, `batch` requests
 * per search, and return its Recall/NDCG at 5 and 10 (examples without a prompt count as
 * misses). `tick` is called once per example. With `excludeSeen`, each user's history items are
 * never returned (as `Recommender.recommend` with `excludeSeen`).
 */
export async function scoreExamples(model: StepModel<unknown>, batch: number, ctx: FusionContext, sample: ValidationSample, beamWidth: number, tick: () => void, excludeSeen = false): Promise<Omit<FusionGridPoint, 'weight'>> {
  const acc = new MetricAccumulator([5, 10], ctx.index.size);
  const { examples, requests } = sample;
  for (let s = 0; s < examples.length; s += batch) {
    const chunk = requests.slice(s, s + batch);
    const live = chunk.filter((r): r is { prompt: Int32Array; seen: number[] } => r !== undefined).map((r) => ({ prompt: r.prompt, exclude: excludeSeen ? r.seen : undefined }));
    const hits = live.length ? await beamSearch(model, ctx.trie, ctx.layout, live, { beamWidth, k: 10 }) : [];
    let h = 0;
    chunk.forEach((r, i) => {
      const ranked = r ? hits[h++].map((x) => ctx.index.itemIds[x.row]) : [];
      acc.add(ranked, examples[s + i].target);
      tick();
    });
  }
  const m = acc.result();
  return { recall5: m.recall[5], ndcg5: m.ndcg[5], recall10: m.recall[10], ndcg10: m.ndcg[10] };
}

/** The grid point with the best Recall@10; ties: NDCG@10, then the earlier point. */
export function bestByRecall<T extends { recall10: number; ndcg10: number }>(grid: readonly T[]): T {
  return grid.reduce((a, b) => (b.recall10 > a.recall10 || (b.recall10 === a.recall10 && b.ndcg10 > a.ndcg10) ? b : a));
}

/**
 * The model served at transition weight `w` — the transformer alone at 0, the transition model
 * alone at 1, their fusion in between — and how many requests to decode per beam search with it.
 */
export function fusedAt(transformer: StepModel<unknown>, transition: StepModel<unknown>, w: number, transformerBatch = ONNX_MAX_BATCH): { model: StepModel<unknown>; batch: number } {
  if (w === 1) return { model: transition, batch: TABLE_MAX_BATCH };
  const model = w === 0 ? transformer : new FusedStepModel([{ model: transformer, weight: 1 - w }, { model: transition, weight: w }]);
  return { model, batch: transformerBatch }; // see models/kinds.ts
}

/** Choose the transition weight on validation examples (see the file header). */
export async function chooseFusionWeight(
  transformer: StepModel<unknown>,
  transition: StepModel<unknown>,
  ctx: FusionContext,
  valid: readonly EvalExample[],
  opts: FusionOptions = {},
): Promise<FusionChoice> {
  const grid = [...new Set(opts.grid ?? DEFAULT_FUSION_GRID)].sort((a, b) => a - b);
  if (!grid.length || grid.some((w) => !Number.isFinite(w) || w < 0 || w > 1)) throw new InputError(`fusion grid must be weights in [0, 1], got [${grid.join(', ')}]`);
  const seed = opts.seed ?? 0;
  const beamWidth = opts.beamWidth ?? 20;
  const sample = validationSample(ctx, valid, opts.users ?? DEFAULT_FUSION_USERS, seed);
  const t0 = performance.now();
  let done = 0;
  const total = sample.examples.length * grid.length;
  const out: FusionGridPoint[] = [];
  for (const w of grid) {
    const { model, batch } = fusedAt(transformer, transition, w, opts.transformerBatch);
    const r = await scoreExamples(model, batch, ctx, sample, beamWidth, () => opts.onProgress?.(++done, total));
    out.push({ weight: w, ...r });
  }
  const best = bestByRecall(out);
  return {
    weight: best.weight,
    criterion: 'valid Recall@10 (ties: NDCG@10, then the smaller weight)',
    split: 'valid',
    users: sample.examples.length,
    sampleSeed: seed,
    beamWidth,
    grid: out,
    seconds: (performance.now() - t0) / 1000,
  };
}
