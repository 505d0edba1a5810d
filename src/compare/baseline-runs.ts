/**
 * Trained baselines of a comparison: SASRec (the standard ID-based sequential model), trained once
 * per seed with its own recipe, served through an index of the seed's first scheme (its search is
 * exact: with item ids only the index just numbers the items and does not change SASRec's ranking;
 * with `--item-embedding id+sid` its tuples are the semantic IDs SASRec embeds) and scored by the same
 * evaluator on the same users as the schemes' runs, with per-user ranks for paired intervals.
 */
import path from 'node:path';
import type { Dataset } from '../data/store.js';
import { evaluateRecommender } from '../eval/evaluate.js';
import { buildIndexJob } from '../indexing/jobs.js';
import { Recommender } from '../serving/recommender.js';
import { trainModel } from '../training/train.js';
import type { BaselineRun, BaselineSettings, EvalSettings } from './types.js';
import type { ItemIndex } from '../../quantizer/index.js';

/** Progress of one stage of a run (`label` names the bar; `detail` e.g. the loss). */
export type StageCallback = (stage: 'index' | 'train' | 'eval', label: string, done: number, total: number, detail?: string) => void;

/** A trainer's progress events as a run's `train` stage (`label` N: step / steps, the loss). */
export function trainProgress(ev: StageCallback, label: string): (e: Record<string, unknown>) => void {
  return (e) => {
    if (e.event === 'progress') ev('train', `${label} ${e.epoch as number}`, e.step as number, e.steps as number, `loss ${(e.loss as number).toFixed(3)}`);
  };
}

/** A run's index: its scheme and seed over the dataset (collaborative embeddings from the train split). */
export async function buildRunIndex(ds: Dataset, settings: EvalSettings, indexDir: string, ev: StageCallback): Promise<ItemIndex> {
  const sequences = ds.train.map((s) => s.items);
  const { index } = await buildIndexJob({
    items: ds.items,
    sequences,
    embeddings: settings.embed ? { kind: settings.embed, sequences, seed: settings.seed } : undefined,
    scheme: settings.scheme,
    seed: settings.seed,
    out: indexDir,
    onProgress: (stage, d, t) => ev('index', `index: ${stage}`, d, t),
  });
  return index;
}

/** Train, serve and evaluate SASRec for one seed in `dir` (index/, model/ inside it). */
export async function sasrecRun(ds: Dataset, settings: BaselineSettings, dir: string, ev: StageCallback): Promise<BaselineRun> {
  const { seed } = settings;
  const indexDir = path.join(dir, 'index');
  const modelDir = path.join(dir, 'model');
  await buildRunIndex(ds, settings, indexDir, ev);
  const t0 = Date.now();
  const cfg = await trainModel({
    data: ds.dir,
    index: indexDir,
    out: modelDir,
    arch: 'sasrec',
    sasrec: {
      ...settings.sasrec,
      seed,
      onEvent: trainProgress(ev, 'sasrec epoch'),
    },
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  const rec = await Recommender.load(modelDir, indexDir);
  try {
    const report = await evaluateRecommender(rec, ds, { split: settings.split, beamWidth: settings.beamWidth, limit: settings.limit ?? undefined, perUser: true, onProgress: (d, t) => ev('eval', 'evaluate sasrec', d, t) });
    return { run: path.basename(dir), name: 'sasrec', seed, settings, train: { seconds: trainSeconds, params: cfg.params }, eval: report, finishedAt: new Date().toISOString() };
  } finally {
    await rec.close();
  }
}
