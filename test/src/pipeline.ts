/** The small pipeline many tests start from: synthetic data → RQ-KMeans index → transition model. */
import path from 'node:path';
import { synthesize } from '../../src/data/synth.js';
import { prepare } from '../../src/data/split.js';
import { loadDataset, writeDataset, type Dataset } from '../../src/data/store.js';
import { buildIndexJob } from '../../src/indexing/jobs.js';
import { trainModel } from '../../src/training/train.js';

/** Paths of the pipeline's directories (under `root`) and the loaded dataset. */
export interface Pipeline {
  data: string;
  ds: Dataset;
  index: string;
  model: string;
}

/** Write `root/data`, `root/index` (rqkmeans:2x16, seed 1) and `root/model` (the transition model). */
export async function transitionPipeline(root: string, opts: { items: number; users: number; seed: number }): Promise<Pipeline> {
  const data = path.join(root, 'data');
  const raw = synthesize(opts);
  await writeDataset(data, prepare(raw), { malformed: raw.malformed });
  const ds = await loadDataset(data);
  const index = path.join(root, 'index');
  await buildIndexJob({ items: ds.items, sequences: ds.train.map((s) => s.items), scheme: 'rqkmeans:2x16', seed: 1, out: index });
  const model = path.join(root, 'model');
  await trainModel({ data, index, out: model, arch: 'transition' });
  return { data, ds, index, model };
}

/** The comparison tests' data (300 items, 800 users, seed 3) in `root/data`, and their tiny transformer flags. */
export const COMPARE_TRAIN_ARGS = '--epochs 2 --layers 1 --d-model 32 --heads 2 --threads 1';
export async function compareData(root: string): Promise<string> {
  const data = path.join(root, 'data');
  const raw = synthesize({ items: 300, users: 800, seed: 3 });
  await writeDataset(data, prepare(raw), { malformed: raw.malformed });
  return data;
}
