/**
 * Transformer training through the PyTorch trainer: write tokenised sequences (int32 tokens +
 * int64 offsets), run `python3 -m trainer train` (optionally under torchrun), export ONNX, and
 * assemble the model directory (config.json, model.onnx, tokenizer.json, tokenizer_config.json,
 * checkpoint.pt) atomically.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import { InputError } from '../errors.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelConfig } from '../serving/model/model-dir.js';
import { checkNodes, runTrainer, type TrainerNodes } from './python.js';
import { tokenizerFiles } from '../serving/model/tokenizer.js';
import { makeScratch } from '../util/scratch.js';
import { planFineTune, type FineTuneOptions, type FineTunePlan } from './finetune.js';

/** The transformer block trained when none is named (`gpt2` before 2026-12-08). */
export const DEFAULT_BLOCK = 'llm';

/**
 * Transformer sizes and training settings (CLI flags of `semrec train`). The defaults are the
 * converged recipe (docs/generator.md): 4 layers, d_model 128, dropout 0.2, batch 256, peak lr
 * 3e-3, warmup-stable-decay schedule (peak rate until the validation loss is flat for `patience`
 * epochs, the epoch cap or the time budget is near, then a linear decay over 20 % of the epochs
 * run), at most 200 epochs; on CPU one single-threaded DDP process per core.
 */
export interface DecoderTrainOptions {
  /**
   * The transformer block: `llm` (default) — the Llama-family decoder of trainer/llm.py (RMSNorm,
   * rotary positions, SwiGLU, grouped-query attention, Qwen3's q/k norms), trained from scratch
   * with Hugging Face config and tensor names — or `gpt2` (LayerNorm, GELU, learned positions; the
   * default before 2026-12-08). The llm block is the better one on Beauty (docs/generator.md).
   */
  block?: 'gpt2' | 'llm';
  /** Key/value heads of the `llm` block (grouped-query attention; default: heads). */
  kvHeads?: number;
  /**
   * Fine-tune a Hugging Face checkpoint (llama / qwen2 / qwen3) instead of training from scratch
   * (finetune.ts): the sizes come from its config.json and `block` is `llm`. Its defaults differ:
   * lr 1e-4 (1e-3 with LoRA), batch 32, at most 10 epochs, no dropout.
   */
  finetune?: FineTuneOptions;
  layers?: number;
  dModel?: number;
  heads?: number;
  dFF?: number;
  dropout?: number;
  /** Epoch cap (default 200; the schedule decides when to stop). */
  epochs?: number;
  batchSize?: number;
  lr?: number;
  weightDecay?: number;
  /** Warmup: fraction of the first epoch's steps (wsd) or of all steps (cosine). */
  warmup?: number;
  /** Flat validation epochs before the decay starts (wsd) or training stops (cosine); default 3. */
  patience?: number;
  /** `wsd` (default) or `cosine` (over the epoch cap, early stopping on patience). */
  schedule?: 'wsd' | 'cosine';
  /** Decay length as a fraction of the epochs run before it (wsd, default 0.2). */
  decayFrac?: number;
  /** Wall-clock budget for training in seconds (wsd starts its decay in time to finish inside it). */
  timeBudget?: number;
  /** Validation examples scored each epoch: a fixed seeded random sample (default 5,000; 0 = all). */
  validSample?: number;
  /** Stop after this many optimiser steps (0 = no limit; used by benchmarks). */
  maxSteps?: number;
  seed?: number;
  device?: string;
  /** Processes for DDP (torchrun) on this machine; 1 = plain. */
  nproc?: number;
  /**
   * Train across machines (DDP over `nodes.count` nodes, `nproc` processes each): every node runs
   * the same training with its own `nodes.rank`. Node 0 runs {@link trainDecoderFiles} (it writes
   * the model); the others run {@link trainDecoderRanks} (their ranks only).
   */
  nodes?: TrainerNodes;
  threads?: number;
  /** Progress events from the trainer (progress, epoch, done). */
  onEvent?: (e: Record<string, unknown>) => void;
}

/** Ragged int32 sequences as `prefix.tokens.i32` + int64 offsets (trainer/data.py's read_ragged); `targets`: per sequence, how many trailing tokens carry the loss. */
export async function writeRagged(prefix: string, seqs: number[][], targets?: number[]): Promise<void> {
  if (targets) await fs.writeFile(prefix + '.target.i32', new Uint8Array(Int32Array.from(targets).buffer));
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

/** Default processes and threads per process: on CPU one single-threaded DDP rank per core (up to 8). */
function defaultParallelism(device: string | undefined, nproc?: number, threads?: number): { nproc: number; threads: number | undefined } {
  const cores = Math.max(1, os.availableParallelism());
  if ((device ?? 'cpu') !== 'cpu') return { nproc: nproc ?? 1, threads };
  const n = nproc ?? Math.min(cores, 8);
  return { nproc: n, threads: threads ?? Math.max(1, Math.floor(cores / n)) };
}

/** Training data and trainer model section of a transformer trained from scratch over the ID vocabulary. */
function ownExamples(ds: Dataset, index: ItemIndex, layout: TokenLayout, maxHistory: number, opts: DecoderTrainOptions): { train: number[][]; valid: number[][]; model: Record<string, unknown>; params: Record<string, unknown> } {
  const L = layout.levels;
  const rowsOf = (ids: readonly string[]) => ids.map((id) => index.rowOf(id)).filter((r): r is number => r !== undefined);
  // the training data uses the serving prompt format minus its BOS (the trainer adds it)
  const toks = (rows: readonly number[]) => Array.from(layout.prompt(index.codes, rows).subarray(1));
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
  if (dModel % heads !== 0) throw new InputError(`dModel ${dModel} must be divisible by heads ${heads}`, { param: 'dModel' });
  const block = opts.block ?? DEFAULT_BLOCK;
  if (block !== 'gpt2' && block !== 'llm') throw new InputError(`block must be gpt2 or llm, got ${JSON.stringify(block)}`, { param: 'block' });
  const kvHeads = opts.kvHeads ?? heads;
  if (!Number.isInteger(kvHeads) || kvHeads < 1 || heads % kvHeads !== 0) throw new InputError(`kvHeads must divide heads ${heads}, got ${kvHeads}`, { param: 'kvHeads' });
  if (block === 'gpt2' && opts.kvHeads !== undefined && kvHeads !== heads) throw new InputError('kvHeads (grouped-query attention) is for the llm block', { param: 'kvHeads' });
  if (block === 'llm' && (dModel / heads) % 2 !== 0) throw new InputError(`the llm block needs an even head width (dModel / heads), got ${dModel / heads}`, { param: 'heads' });
  const base = { layers: opts.layers ?? 4, d_model: dModel, heads, d_ff: opts.dFF ?? 4 * dModel, dropout: opts.dropout ?? 0.2, max_positions: 1 + (maxHistory + 1) * L + 8 };
  // the llm block is described by a Hugging Face config (Qwen3 family: q/k norms, no biases, tied head)
  const hf = {
    model_type: 'qwen3',
    vocab_size: layout.vocabSize,
    hidden_size: dModel,
    intermediate_size: base.d_ff,
    num_hidden_layers: base.layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: dModel / heads,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    max_position_embeddings: base.max_positions,
    tie_word_embeddings: true,
  };
  const params = {
    layers: base.layers,
    dModel,
    heads,
    headDim: dModel / heads,
    ...(block === 'llm' ? { block, kvHeads, hf } : {}),
    dFF: base.d_ff,
    dropout: base.dropout,
    maxPositions: base.max_positions,
    vocabSize: layout.vocabSize,
  };
  return { train, valid, model: block === 'llm' ? { ...base, block, kv_heads: kvHeads, hf } : base, params };
}

/** A trained transformer, not yet written: its config and the files of its model directory. */
export interface TrainedDecoder {
  config: ModelConfig;
  files: Record<string, string | Uint8Array>;
}

/**
 * Write the trainer's inputs and config into `work` and run this machine's trainer processes (all
 * of them, or this node's ranks of a multi-node run).
 */
async function runDecoderTrainer(ds: Dataset, index: ItemIndex, where: { indexDir: string; maxHistory: number }, opts: DecoderTrainOptions, work: string) {
  const { maxHistory } = where;
  const layout = new TokenLayout(index.codebookSizes);
  const ft: FineTunePlan | undefined = opts.finetune ? await planFineTune(ds, index, layout, maxHistory, opts.finetune) : undefined;
  const own = ft ? undefined : ownExamples(ds, index, layout, maxHistory, opts);
  const train = ft ? ft.train.seqs : own!.train;
  const valid = ft ? ft.valid.seqs : own!.valid;
  const model = ft ? ft.model : own!.model;
  const vocabSize = ft ? ft.vocabSize : layout.vocabSize;
  const par = defaultParallelism(opts.device, opts.nproc, opts.threads);
  await writeRagged(path.join(work, 'train'), train, ft?.train.targets);
  await writeRagged(path.join(work, 'valid'), valid, ft?.valid.targets);
  const lora = (opts.finetune?.lora ?? 0) > 0;
  const cfg = {
    vocab_size: vocabSize,
    levels: layout.levels,
    ...(ft ? { data_format: 'examples' } : {}),
    max_history: maxHistory,
    seed: opts.seed ?? 0,
    device: opts.device ?? 'cpu',
    threads: par.threads,
    data_dir: work,
    out_dir: work,
    model,
    train: {
      epochs: opts.epochs ?? (ft ? 10 : 200),
      batch_size: opts.batchSize ?? (ft ? 32 : 256),
      lr: opts.lr ?? (ft ? (lora ? 1e-3 : 1e-4) : 3e-3),
      weight_decay: opts.weightDecay ?? 0.01,
      schedule: opts.schedule ?? 'wsd',
      warmup: opts.warmup ?? ((opts.schedule ?? 'wsd') === 'wsd' ? 1 : 0.05),
      decay_frac: opts.decayFrac ?? 0.2,
      time_budget_s: opts.timeBudget ?? 0,
      valid_sample: opts.validSample ?? 5000,
      clip: 1.0,
      patience: opts.patience ?? 3,
      max_steps: opts.maxSteps ?? 0,
      ...(ft ? { bf16: true } : {}),
    },
  };
  const cfgFile = path.join(work, 'trainer.json');
  await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2));
  const t0 = Date.now();
  const events = await runTrainer(['train', '--config', cfgFile], (e) => opts.onEvent?.(e), { ...par, nodes: opts.nodes });
  return { layout, ft, own, train, valid, par, cfg, cfgFile, events, t0 };
}

/** Train the transformer on `ds` under `index`; returns the model directory's config and files. */
export async function trainDecoderFiles(ds: Dataset, index: ItemIndex, where: { indexDir: string; maxHistory: number }, opts: DecoderTrainOptions = {}): Promise<TrainedDecoder> {
  const { maxHistory } = where;
  if (opts.nodes && checkNodes(opts.nodes).rank > 0) throw new InputError(`node ${opts.nodes.rank} of a multi-node run trains its ranks only (trainDecoderRanks); node 0 writes the model`, { param: 'nodes' });
  const work = await makeScratch('semrec-train');
  try {
    const { layout, ft, own, train, valid, par, cfg, cfgFile, events, t0 } = await runDecoderTrainer(ds, index, where, opts, work);
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
        ...(ft ? ft.params : own!.params),
        trainer: cfg.train,
        seed: cfg.seed,
        device: cfg.device,
        nproc: par.nproc,
        threads: par.threads,
        ...(opts.nodes ? { nodes: opts.nodes.count } : {}),
        bestEpoch: done.best_epoch,
        validLoss: done.valid_loss,
        epochsRun: epochs.length,
        decayReason: done.decay_reason,
        trainerSeconds: done.seconds,
        realTokensPerSecond: done.tokens_per_s,
        trainSeconds: (Date.now() - t0) / 1000,
        trainSequences: train.length,
        validExamples: valid.length,
      },
    };
    const files: Record<string, string | Uint8Array> = {
      'model.onnx': await fs.readFile(onnx),
      'checkpoint.pt': await fs.readFile(path.join(work, 'checkpoint.pt')),
      'trainer.json': JSON.stringify({ ...cfg, data_dir: null, out_dir: null }, null, 2),
      // a fine-tuned model keeps its checkpoint's tokenizer (with the ID tokens) and its titles
      ...(ft ? ft.files : tokenizerFiles(layout)),
    };
    return { config, files };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** What a node other than node 0 did in a multi-node run. */
export interface NodeRanks {
  /** This node's rank and the number of nodes. */
  node: number;
  nodes: number;
  /** The global ranks this node ran. */
  ranks: number[];
  seconds: number;
}

/**
 * A node other than node 0 of a multi-node run (`opts.nodes.rank > 0`): prepares the same training
 * data as node 0 and runs its `nproc` ranks of the run; node 0 writes the model.
 */
export async function trainDecoderRanks(ds: Dataset, index: ItemIndex, where: { indexDir: string; maxHistory: number }, opts: DecoderTrainOptions & { nodes: TrainerNodes }): Promise<NodeRanks> {
  const nodes = checkNodes(opts.nodes);
  if (nodes.rank === 0) throw new InputError('node 0 of a multi-node run writes the model: train it with trainDecoderFiles / trainModel', { param: 'nodes' });
  const work = await makeScratch('semrec-train');
  try {
    const t0 = Date.now();
    const { par } = await runDecoderTrainer(ds, index, where, opts, work);
    return { node: nodes.rank, nodes: nodes.count, ranks: Array.from({ length: par.nproc }, (_, i) => nodes.rank * par.nproc + i), seconds: (Date.now() - t0) / 1000 };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
