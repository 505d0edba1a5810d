/**
 * Training jobs. `bigram`: the transition model over item tuples (seconds; a reference model
 * and the stand-in generator). The transformer (`decoder`) is trained by the PyTorch trainer.
 */
import { TokenLayout } from '../decoding/index.js';
import { loadIndex } from '../quantizer/index.js';
import { loadDataset } from './data/store.js';
import { InputError } from './errors.js';
import { fitBigram } from './models/bigram.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, writeModelDir, type ModelConfig } from './models/model-dir.js';
import path from 'node:path';

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Dataset directory (train split is used). */
  data: string;
  /** Index directory the model is trained on. */
  index: string;
  /** Output model directory (written atomically). */
  out: string;
  /** `bigram` (default for now). */
  arch?: string;
  /** Pseudo-count of the popularity prior (bigram). */
  beta?: number;
  /** History items kept in prompts (default 20). */
  maxHistory?: number;
}

/** Train a model on a dataset's train split under an index; returns its config. */
export async function trainModel(opts: TrainOptions): Promise<ModelConfig> {
  const arch = opts.arch ?? 'bigram';
  if (arch !== 'bigram') {
    throw new InputError(`--arch ${arch}: only "bigram" is available in this build (the transformer trainer is not part of it yet)`);
  }
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  let unknown = 0;
  const seqs = ds.train.map((s) => {
    const rows: number[] = [];
    for (const it of s.items) {
      const r = index.rowOf(it);
      if (r === undefined) unknown++;
      else rows.push(r);
    }
    return rows;
  });
  if (seqs.every((s) => s.length === 0)) throw new InputError(`no training item of ${opts.data} is in the index ${opts.index}`);
  const data = fitBigram(seqs, index.size, opts.beta ?? 2);
  const config: ModelConfig = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    architecture: 'bigram',
    indexHash: index.hash(),
    tokenLayout: new TokenLayout(index.codebookSizes).spec(),
    maxHistory: opts.maxHistory ?? ds.meta.split.maxHistory,
    dataDir: path.resolve(opts.data),
    indexDir: path.resolve(opts.index),
    params: { beta: data.beta, transitions: data.dst.length, trainSequences: seqs.length, unknownTrainItems: unknown },
  };
  await writeModelDir(opts.out, config, { 'bigram.json': JSON.stringify(data) });
  return config;
}
