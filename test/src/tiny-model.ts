/** A tiny transformer trained on small synthetic data: the shared fixture of the generator tests. */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesize } from '../../src/data/synth.js';
import { prepare } from '../../src/data/split.js';
import { loadDataset, writeDataset, type Dataset } from '../../src/data/store.js';
import { buildIndexJob } from '../../src/indexing/jobs.js';
import { trainModel } from '../../src/training/train.js';

/**
 * Model sizes and training settings small enough for the test suite; the GPT-2 block (no longer
 * the default: these suites keep it tested — the llm block has llm.test.ts and finetune.test.ts).
 */
export const tiny = { block: 'gpt2' as const, layers: 2, dModel: 32, heads: 2, epochs: 3, batchSize: 32, lr: 3e-3, seed: 1, threads: 1, nproc: 1 };

/** Paths of the fixture. */
export interface TinyModel {
  root: string;
  dataDir: string;
  indexDir: string;
  modelDir: string;
  ds: Dataset;
}

/** Synthesize data (120 items, 400 users), build an rqkmeans:2x8 index, train the tiny model. */
export async function trainTinyModel(): Promise<TinyModel> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-trainer-'));
  const dataDir = path.join(root, 'data');
  const indexDir = path.join(root, 'index');
  const modelDir = path.join(root, 'model');
  const raw = synthesize({ items: 120, users: 400, seed: 5 });
  await writeDataset(dataDir, prepare(raw), { malformed: raw.malformed });
  const ds = await loadDataset(dataDir);
  await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:2x8', seed: 1, out: indexDir });
  await trainModel({ data: dataDir, index: indexDir, out: modelDir, arch: 'decoder', decoder: tiny });
  return { root, dataDir, indexDir, modelDir, ds };
}
