/**
 * The transition part of a training job: the train split as index rows, and the transition model
 * fitted on them (its shape fixed or chosen on the validation split, transition-select.ts).
 */
import type { PrefixTrie, TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import { InputError } from '../errors.js';
import { fitTransition, type TransitionData, type TransitionShape } from '../serving/model/transition.js';
import { chooseTransitionShape, type TransitionChoice } from './transition-select.js';
import type { TrainOptions } from './options.js';

/**
 * The train split as index rows (with `withValid`, each user's sequence continues with their
 * validation target: the counts a test-time model can legitimately use, since the validation
 * interaction is known then), and how many items were not in the index.
 */
function trainRows(ds: Dataset, index: ItemIndex, withValid = false): { seqs: number[][]; unknown: number } {
  let unknown = 0;
  const validOf = new Map<string, string>();
  if (withValid) for (const e of ds.valid) if (e.user) validOf.set(e.user, e.target);
  const seqs = ds.train.map((s) => {
    const rows: number[] = [];
    const v = validOf.get(s.user);
    for (const it of v === undefined ? s.items : [...s.items, v]) {
      const r = index.rowOf(it);
      if (r === undefined) unknown++;
      else rows.push(r);
    }
    return rows;
  });
  if (seqs.every((s) => s.length === 0)) throw new InputError(`no training item of ${ds.dir} is in the index`);
  return { seqs, unknown };
}

/** Fit the transition model (shape fixed or chosen on validation); returns its data and a summary. */
export async function fitTransitionPart(ds: Dataset, index: ItemIndex, trie: PrefixTrie, layout: TokenLayout, maxHistory: number, opts: TrainOptions, seed: number): Promise<{ data: TransitionData; params: Record<string, unknown>; stored: () => { data: TransitionData; params: Record<string, unknown> } }> {
  const beta = opts.beta ?? 2;
  const train = trainRows(ds, index);
  const want = opts.transitionShape ?? 'auto';
  let selection: TransitionChoice | undefined;
  let shape: TransitionShape = want === 'auto' ? {} : want;
  if (want === 'auto') {
    selection = await chooseTransitionShape(train.seqs, { index, trie, layout, maxHistory }, ds.valid, { seed, ...opts.transitionSelect, beta, onProgress: opts.onTransitionProgress });
    shape = { window: selection.window, history: selection.history, decay: selection.decay };
  }
  const summary = (data: TransitionData, rows: { seqs: number[][]; unknown: number }, fittedOn: string) => ({
    beta: data.beta,
    window: data.window ?? 1,
    history: data.history ?? 1,
    decay: data.decay ?? 1,
    transitions: data.dst.length,
    trainSequences: rows.seqs.length,
    unknownTrainItems: rows.unknown,
    fittedOn,
    ...(selection ? { selection } : {}),
  });
  const data = fitTransition(train.seqs, index.size, beta, shape);
  return {
    data,
    params: summary(data, train, 'train'),
    // the counts stored in the model directory: train-only, or train + validation targets
    stored: () => {
      if (opts.transitionFit !== 'train+valid') return { data, params: summary(data, train, 'train') };
      const rows = trainRows(ds, index, true);
      const d = fitTransition(rows.seqs, index.size, beta, shape);
      return { data: d, params: summary(d, rows, 'train+valid') };
    },
  };
}
