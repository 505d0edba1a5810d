/**
 * Choosing the seen-item policy on the **validation** split: should the model, by default, never
 * recommend an item the user already has in their history? Catalogues differ: in some a user
 * buys the same item again (groceries, music), in others almost never (Amazon reviews, where
 * the 5-core data hold each user–item pair once). The policy is decided by what the data show,
 * not assumed: a seeded random sample of validation users is decoded with the trained model
 * twice, keeping and excluding history items, and exclusion is chosen only if it raises
 * Recall@10 (ties: NDCG@10; a full tie keeps history items — no change without evidence). The
 * sample's repeat rate (targets that are in their own history) is recorded next to it. The test
 * split is never read. The choice is the model's default; a request's `excludeSeen` overrides it.
 */
import type { StepModel } from '../../decoding/index.js';
import type { EvalExample } from '../data/split.js';
import { sampleUsers, scoreSample, type DecodeContext } from '../eval/decode.js';
import { DEFAULT_FUSION_USERS, type FusionGridPoint } from './fusion.js';

/** Validation figures of one policy. */
export type SeenPolicyFigures = Omit<FusionGridPoint, 'weight'>;

/** The choice and the evidence for it (recorded in config.json as `params.seen`). */
export interface SeenChoice {
  /** Exclude history items by default. */
  exclude: boolean;
  criterion: 'valid Recall@10 (ties: NDCG@10, then keep)';
  split: 'valid';
  users: number;
  sampleSeed: number;
  beamWidth: number;
  /** Share of the sampled validation targets that are in their user's history. */
  repeatRate: number;
  keep: SeenPolicyFigures;
  excluded: SeenPolicyFigures;
  seconds: number;
}

/** Options of {@link chooseSeenPolicy}. */
export interface SeenSelectOptions {
  /** Validation users to decode (default 2,000; a seeded random sample). */
  users?: number;
  seed?: number;
  beamWidth?: number;
  /** Figures already measured with history items kept on the same sample (skips that pass). */
  keep?: SeenPolicyFigures;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Decide the seen-item policy of `model` (see the file header).
 * @param batch requests per beam search (see models/kinds.ts)
 */
export async function chooseSeenPolicy(model: StepModel<unknown>, batch: number, ctx: DecodeContext, valid: readonly EvalExample[], opts: SeenSelectOptions = {}): Promise<SeenChoice> {
  const seed = opts.seed ?? 0;
  const beamWidth = opts.beamWidth ?? 20;
  const sample = sampleUsers(ctx, valid, opts.users ?? DEFAULT_FUSION_USERS, seed);
  const t0 = performance.now();
  let done = 0;
  const total = sample.examples.length * (opts.keep ? 1 : 2);
  const tick = () => opts.onProgress?.(++done, total);
  const keep = opts.keep ?? (await scoreSample(model, batch, ctx, sample, beamWidth, tick, false));
  const excluded = await scoreSample(model, batch, ctx, sample, beamWidth, tick, true);
  const exclude = excluded.recall10 > keep.recall10 || (excluded.recall10 === keep.recall10 && excluded.ndcg10 > keep.ndcg10);
  const repeats = sample.examples.filter((e) => e.history.includes(e.target)).length;
  return {
    exclude,
    criterion: 'valid Recall@10 (ties: NDCG@10, then keep)',
    split: 'valid',
    users: sample.examples.length,
    sampleSeed: seed,
    beamWidth,
    repeatRate: repeats / sample.examples.length,
    keep: { recall5: keep.recall5, ndcg5: keep.ndcg5, recall10: keep.recall10, ndcg10: keep.ndcg10 },
    excluded,
    seconds: (performance.now() - t0) / 1000,
  };
}
