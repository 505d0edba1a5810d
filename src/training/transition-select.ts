/**
 * Choosing the transition model's shape on the **validation** split: for each counting window
 * and each (history, decay) of a small grid, fit the counts on the train split, decode a seeded
 * random sample of validation users under trie-constrained beam search and keep the shape with
 * the best Recall@10 (ties: NDCG@10, then the earlier — simpler — grid point). The grid starts with
 * the classic first-order model (window 1, history 1), so the choice is never worse on the sample
 * than that. The test split is never read. Cost on Beauty (12k items, 5,000 users, 20 points):
 * about half a minute on 2 cores.
 */
import type { StepModel } from '../../decoding/index.js';
import type { EvalExample } from '../data/split.js';
import { InputError } from '../errors.js';
import { bestByRecall, sampleUsers, scoreSample, type DecodeContext } from '../eval/decode.js';
import { TransitionStepModel, fitTransition, type TransitionData, type TransitionShape } from '../serving/model/transition.js';
import { TABLE_MAX_BATCH } from '../serving/model/kinds.js';

/** Default counting windows tried. */
const DEFAULT_TRANSITION_WINDOWS = [1, 2, 3, 5];
/** Default (history items, decay) pairs tried. */
const DEFAULT_TRANSITION_HISTORIES: ReadonlyArray<{ history: number; decay: number }> = [
  { history: 1, decay: 1 },
  { history: 2, decay: 0.5 },
  { history: 3, decay: 0.5 },
  { history: 3, decay: 0.3 },
  { history: 5, decay: 0.5 },
];
/** Default number of validation users the shape is chosen on. */
const DEFAULT_TRANSITION_USERS = 5000;

/** One grid point's validation figures. */
export interface TransitionGridPoint {
  window: number;
  history: number;
  decay: number;
  recall10: number;
  ndcg10: number;
}

/** The chosen shape and the evidence for it (recorded in config.json as `params.transition.selection`). */
export interface TransitionChoice {
  window: number;
  history: number;
  decay: number;
  criterion: 'valid Recall@10 (ties: NDCG@10, then the simpler shape)';
  split: 'valid';
  users: number;
  sampleSeed: number;
  beamWidth: number;
  grid: TransitionGridPoint[];
  seconds: number;
}

/** Options of {@link chooseTransitionShape}. */
export interface TransitionSelectOptions {
  windows?: readonly number[];
  histories?: ReadonlyArray<{ history: number; decay: number }>;
  /** Validation users to decode (default 5,000; a seeded random sample). */
  users?: number;
  seed?: number;
  beamWidth?: number;
  beta?: number;
  onProgress?: (done: number, total: number) => void;
}

/** What selection decodes with (the same as the fusion weight's). */
export type TransitionSelectContext = DecodeContext;

/**
 * Choose window, history and decay on validation examples (see the file header).
 * @param train training sequences as index rows (the counts are fitted on these alone)
 */
export async function chooseTransitionShape(train: ReadonlyArray<ArrayLike<number>>, ctx: TransitionSelectContext, valid: readonly EvalExample[], opts: TransitionSelectOptions = {}): Promise<TransitionChoice> {
  const windows = [...new Set(opts.windows ?? DEFAULT_TRANSITION_WINDOWS)].sort((a, b) => a - b);
  const histories = opts.histories ?? DEFAULT_TRANSITION_HISTORIES;
  if (!windows.length || windows.some((w) => !Number.isInteger(w) || w < 1)) throw new InputError(`transition windows must be integers ≥ 1, got [${windows.join(', ')}]`);
  if (!histories.length || histories.some((h) => !Number.isInteger(h.history) || h.history < 1 || !(h.decay > 0 && h.decay <= 1))) throw new InputError('transition histories must be integers ≥ 1 with a decay in (0, 1]');
  const seed = opts.seed ?? 0;
  const beamWidth = opts.beamWidth ?? 20;
  const sample = sampleUsers(ctx, valid, opts.users ?? DEFAULT_TRANSITION_USERS, seed);
  const t0 = performance.now();
  let done = 0;
  const total = sample.examples.length * windows.length * histories.length;
  const grid: TransitionGridPoint[] = [];
  for (const window of windows) {
    const counts = fitTransition(train, ctx.index.size, opts.beta ?? 2, { window });
    for (const h of histories) {
      const data: TransitionData = { ...counts, window, history: h.history, decay: h.decay };
      const model = new TransitionStepModel(data, ctx.trie, ctx.layout, { rows: ctx.index.size }) as StepModel<unknown>;
      const r = await scoreSample(model, TABLE_MAX_BATCH, ctx, sample, beamWidth, () => opts.onProgress?.(++done, total));
      grid.push({ window, history: h.history, decay: h.decay, recall10: r.recall10, ndcg10: r.ndcg10 });
    }
  }
  const best = bestByRecall(grid);
  return {
    window: best.window,
    history: best.history,
    decay: best.decay,
    criterion: 'valid Recall@10 (ties: NDCG@10, then the simpler shape)',
    split: 'valid',
    users: sample.examples.length,
    sampleSeed: seed,
    beamWidth,
    grid,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Parse `auto` or `WINDOW:HISTORY:DECAY` (e.g. `3:3:0.3`; `1:1:1` is the first-order model). */
export function parseTransitionShape(v: string | undefined): TransitionShape | 'auto' | undefined {
  if (v === undefined || v === 'auto') return v;
  const m = /^(\d+):(\d+):([0-9.]+)$/.exec(v);
  const bad = () => new InputError(`transition shape must be auto or WINDOW:HISTORY:DECAY (integers ≥ 1, decay in (0, 1]), got ${JSON.stringify(v)}`, { param: 'transitionShape' });
  if (!m) throw bad();
  const shape = { window: Number(m[1]), history: Number(m[2]), decay: Number(m[3]) };
  if (shape.window < 1 || shape.history < 1 || !(shape.decay > 0 && shape.decay <= 1)) throw bad();
  return shape;
}
