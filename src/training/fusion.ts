/**
 * Choosing the fusion weight of a fused model on the **validation** split: for each transition
 * weight w in a small grid (0 = the transformer alone, 1 = the transition model alone), decode a
 * seeded random sample of validation users with FusedStepModel([transformer · (1 − w),
 * transition · w]) under trie-constrained beam search and keep the w with the best Recall@10
 * (ties: NDCG@10, then the smaller w). The test split is never read.
 */
import type { StepModel } from '../../decoding/index.js';
import type { EvalExample } from '../data/split.js';
import { InputError } from '../errors.js';
import { bestByRecall, sampleUsers, scoreSample, type DecodeContext } from '../eval/decode.js';
import { fusedAt } from '../serving/model/kinds.js';

/** Default grid of transition weights. */
const DEFAULT_FUSION_GRID = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
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

/** Choose the transition weight on validation examples (see the file header). */
export async function chooseFusionWeight(
  transformer: StepModel<unknown>,
  transition: StepModel<unknown>,
  ctx: DecodeContext,
  valid: readonly EvalExample[],
  opts: FusionOptions = {},
): Promise<FusionChoice> {
  const grid = [...new Set(opts.grid ?? DEFAULT_FUSION_GRID)].sort((a, b) => a - b);
  if (!grid.length || grid.some((w) => !Number.isFinite(w) || w < 0 || w > 1)) throw new InputError(`fusion grid must be weights in [0, 1], got [${grid.join(', ')}]`);
  const seed = opts.seed ?? 0;
  const beamWidth = opts.beamWidth ?? 20;
  const sample = sampleUsers(ctx, valid, opts.users ?? DEFAULT_FUSION_USERS, seed);
  const t0 = performance.now();
  let done = 0;
  const total = sample.examples.length * grid.length;
  const out: FusionGridPoint[] = [];
  for (const w of grid) {
    const { model, batch } = fusedAt(transformer, transition, w, opts.transformerBatch);
    const r = await scoreSample(model, batch, ctx, sample, beamWidth, () => opts.onProgress?.(++done, total));
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
