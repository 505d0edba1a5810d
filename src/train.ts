/**
 * Training jobs: `decoder` — the transformer, trained by the PyTorch trainer and exported to ONNX
 * (see train-decoder.ts); `bigram` — the transition model over item tuples (seconds; a reference).
 */
import { TokenLayout } from '../decoding/index.js';
import { loadIndex } from '../quantizer/index.js';
import { loadDataset } from './data/store.js';
import { InputError } from './errors.js';
import { fitBigram } from './models/bigram.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, writeModelDir, type ModelConfig } from './models/model-dir.js';
import path from 'node:path';
import { trainDecoder, type DecoderTrainOptions } from './train-decoder.js';

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Dataset directory (train split is used). */
  data: string;
  /** Index directory the model is trained on. */
  index: string;
  /** Output model directory (written atomically). */
  out: string;
  /** `decoder` (transformer, default) or `bigram` (transition model). */
  arch?: string;
  /** Transformer settings (arch `decoder`). */
  decoder?: DecoderTrainOptions;
  /** Pseudo-count of the popularity prior (bigram). */
  beta?: number;
  /** History items kept in prompts (default 20). */
  maxHistory?: number;
}

/** Train a model on a dataset's train split under an index; returns its config. */
export async function trainModel(opts: TrainOptions): Promise<ModelConfig> {
  const arch = opts.arch ?? 'decoder';
  if (arch !== 'bigram' && arch !== 'decoder') throw new InputError(`--arch must be decoder or bigram, got ${JSON.stringify(arch)}`);
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  if (arch === 'decoder') {
    return trainDecoder(ds, index, { out: opts.out, indexDir: opts.index, maxHistory: opts.maxHistory ?? ds.meta.split.maxHistory }, opts.decoder);
  }
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
