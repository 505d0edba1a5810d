/**
 * Transformer training through the PyTorch trainer: write tokenised sequences (int32 tokens +
 * int64 offsets), run `python3 -m trainer train` (optionally under torchrun), export ONNX, and
 * assemble the model directory (config.json, model.onnx, tokenizer.json, tokenizer_config.json,
 * checkpoint.pt) atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { TokenLayout } from '../decoding/index.js';
import type { ItemIndex } from '../quantizer/index.js';
import type { Dataset } from './data/store.js';
import { InputError } from './errors.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, writeModelDir, type ModelConfig } from './models/model-dir.js';
import { runTrainer } from './models/python.js';
import { tokenizerFiles } from './models/tokenizer.js';

/** Transformer sizes and training settings (CLI flags of `semrec train`). */
export interface DecoderTrainOptions {
  layers?: number;
  dModel?: number;
  heads?: number;
  dFF?: number;
  dropout?: number;
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  warmup?: number;
  patience?: number;
  /** Stop after this many optimiser steps (0 = no limit; used by benchmarks). */
  maxSteps?: number;
  seed?: number;
  device?: string;
  /** Processes for DDP (torchrun); 1 = plain. */
  nproc?: number;
  threads?: number;
  /** Progress events from the trainer (progress, epoch, done). */
  onEvent?: (e: Record<string, unknown>) => void;
}

async function writeRagged(prefix: string, seqs: number[][]): Promise<void> {
  const offsets = new BigInt64Array(seqs.length + 1);
  let total = 0;
  seqs.forEach((s, i) => {
    total += s.length;
    offsets[i + 1] = BigInt(total);
  });
  const tokens = new Int32Array(total);
  let o = 0;
  for (const s of seqs) {
    tokens.set(s, o);
    o += s.length;
  }
  await fs.writeFile(prefix + '.tokens.i32', new Uint8Array(tokens.buffer));
  await fs.writeFile(prefix + '.offsets.i64', new Uint8Array(offsets.buffer));
}

/** Train the transformer on `ds` under `index` and write the model directory `out`. */
export async function trainDecoder(
  ds: Dataset,
  index: ItemIndex,
  where: { out: string; indexDir: string; maxHistory: number },
  opts: DecoderTrainOptions = {},
): Promise<ModelConfig> {
  const { out, maxHistory } = where;
  const layout = new TokenLayout(index.codebookSizes);
  const L = layout.levels;
  const toks = (rows: readonly number[]) => rows.flatMap((r) => layout.tokens(index.codes.subarray(r * L, (r + 1) * L)));
  const rowsOf = (ids: readonly string[]) => ids.map((id) => index.rowOf(id)).filter((r): r is number => r !== undefined);
  const train = ds.train.map((s) => toks(rowsOf(s.items))).filter((s) => s.length >= 2 * L);
  const valid = ds.valid.flatMap((e) => {
    const t = index.rowOf(e.target);
    const h = rowsOf(e.history).slice(-maxHistory);
    return t === undefined || h.length === 0 ? [] : [toks([...h, t])];
  });
  if (!train.length) throw new InputError('no training sequence has two items known to the index');
  if (!valid.length) throw new InputError('no validation example is usable with this index');
  const heads = opts.heads ?? 4;
  const dModel = opts.dModel ?? 128;
  if (dModel % heads !== 0) throw new InputError(`--d-model ${dModel} must be divisible by --heads ${heads}`);
  const model = { layers: opts.layers ?? 4, d_model: dModel, heads, d_ff: opts.dFF ?? 4 * dModel, dropout: opts.dropout ?? 0.1, max_positions: 1 + (maxHistory + 1) * L + 8 };
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'semrec-train-'));
  try {
    await writeRagged(path.join(work, 'train'), train);
    await writeRagged(path.join(work, 'valid'), valid);
    const cfg = {
      vocab_size: layout.vocabSize,
      levels: L,
      max_history: maxHistory,
      seed: opts.seed ?? 0,
      device: opts.device ?? 'cpu',
      threads: opts.threads,
      data_dir: work,
      out_dir: work,
      model,
      train: {
        epochs: opts.epochs ?? 20,
        batch_size: opts.batchSize ?? 64,
        lr: opts.lr ?? 1e-3,
        weight_decay: opts.weightDecay ?? 0.01,
        warmup: opts.warmup ?? 0.05,
        clip: 1.0,
        patience: opts.patience ?? 3,
        max_steps: opts.maxSteps ?? 0,
      },
    };
    const cfgFile = path.join(work, 'trainer.json');
    await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2));
    const t0 = Date.now();
    const events = await runTrainer(['train', '--config', cfgFile], (e) => opts.onEvent?.(e), { nproc: opts.nproc, threads: opts.threads });
    const done = events.find((e) => e.event === 'done') ?? {};
    const epochs = events.filter((e) => e.event === 'epoch');
    const onnx = path.join(work, 'model.onnx');
    await runTrainer(['export', '--config', cfgFile, '--checkpoint', path.join(work, 'checkpoint.pt'), '--out', onnx], (e) => opts.onEvent?.(e));
    const config: ModelConfig = {
      format: MODEL_FORMAT,
      formatVersion: MODEL_FORMAT_VERSION,
      architecture: 'decoder',
      indexHash: index.hash(),
      tokenLayout: layout.spec(),
      maxHistory,
      dataDir: path.resolve(ds.dir),
      indexDir: path.resolve(where.indexDir),
      params: {
        layers: model.layers,
        dModel,
        heads,
        headDim: dModel / heads,
        dFF: model.d_ff,
        dropout: model.dropout,
        maxPositions: model.max_positions,
        vocabSize: layout.vocabSize,
        trainer: cfg.train,
        seed: cfg.seed,
        device: cfg.device,
        nproc: opts.nproc ?? 1,
        bestEpoch: done.best_epoch,
        validLoss: done.valid_loss,
        epochsRun: epochs.length,
        trainSeconds: (Date.now() - t0) / 1000,
        trainSequences: train.length,
        validExamples: valid.length,
      },
    };
    const files: Record<string, string | Uint8Array> = {
      'model.onnx': await fs.readFile(onnx),
      'checkpoint.pt': await fs.readFile(path.join(work, 'checkpoint.pt')),
      'trainer.json': JSON.stringify({ ...cfg, data_dir: null, out_dir: null }, null, 2),
      ...tokenizerFiles(layout),
    };
    await writeModelDir(out, config, files);
    return config;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
