/**
 * Training, one object per model kind: each kind of training/options.ts {@link TrainKind} is a
 * {@link TrainerKind} whose `train` turns a prepared job (dataset, index, trie and layout opened
 * once by `trainModel`) into a written model directory. Loading the directories they write is the
 * serving side's (serving/model/kinds.ts, by config.json `architecture`):
 *
 * | kind (`--arch`) | trains | writes (`architecture`) |
 * |---|---|---|
 * | transition (alias bigram) | the transition model, its shape chosen on validation | `bigram` |
 * | transformer (alias decoder) | the transformer (`--block llm` default, or `gpt2`) | `decoder` |
 * | llm | the transformer with the Llama-family block, from scratch or fine-tuned from `--base` | `decoder` (`params.block: 'llm'`) |
 * | fused (default) | a transformer (or `--transformer-from`) + the transition model, weight chosen on validation | `fused` |
 * | sasrec | the ID-based SASRec baseline | `sasrec` |
 */
import type { PrefixTrie, StepModel, TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import { InputError } from '../errors.js';
import type { DecodeContext } from '../eval/decode.js';
import type { EvalExample } from '../data/split.js';
import { fusedAt, openNeural, TABLE_MAX_BATCH } from '../serving/model/kinds.js';
import { writeModelDir, type ModelConfig } from '../serving/model/model-dir.js';
import { TransitionStepModel } from '../serving/model/transition.js';
import { TRANSITION_FILE, encodeTransition } from '../serving/model/transition-file.js';
import { chooseFusionWeight } from './fusion.js';
import type { FixedSeenPolicy, TrainKind, TrainOptions } from './options.js';
import { filesOf, reuseTransformer } from './reuse.js';
import { trainSasrecFiles } from './sasrec.js';
import { chooseSeenPolicy, type SeenChoice, type SeenSelectOptions } from './seen-select.js';
import { trainDecoderFiles, type TrainedDecoder } from './train-decoder.js';
import { fitTransitionPart } from './transition-part.js';

/** What `trainModel` opens once for every kind: the job's options, data, index and decoding context. */
export interface TrainJob {
  opts: TrainOptions;
  ds: Dataset;
  index: ItemIndex;
  trie: PrefixTrie;
  layout: TokenLayout;
  /** Decoding context of the validation choices (index, trie, layout, history length). */
  ctx: DecodeContext;
  maxHistory: number;
  /** The config fields every kind writes (format, index hash, token layout, data and index paths). */
  base: Pick<ModelConfig, 'format' | 'formatVersion' | 'indexHash' | 'tokenLayout' | 'maxHistory' | 'dataDir' | 'indexDir'>;
}

/** One model kind's training. */
export interface TrainerKind {
  /** The user-facing name (`--arch`). */
  readonly name: TrainKind;
  /** Other names `--arch` accepts for it. */
  readonly aliases: readonly string[];
  /** Whether it trains a transformer here (multi-node training applies). */
  readonly trainsTransformer: (opts: TrainOptions) => boolean;
  /**
   * The options this kind trains with: those it cannot honour refused (typed error), its own
   * settings filled in — before anything is read or trained, on every node of a multi-node run.
   */
  prepare?(opts: TrainOptions): TrainOptions;
  /** Train on the job's train split (choices on its validation split) and write `job.opts.out`. */
  train(job: TrainJob): Promise<ModelConfig>;
}

/** Decide (or fix) the seen-item policy of a trained model (seen-select.ts). */
async function seenPolicy(model: StepModel<unknown>, batch: number, job: TrainJob, seed: number, keep?: SeenSelectOptions['keep']): Promise<SeenChoice | FixedSeenPolicy> {
  const { opts } = job;
  if (opts.seen === 'keep' || opts.seen === 'exclude') return { exclude: opts.seen === 'exclude', criterion: 'fixed by the trainer' };
  return chooseSeenPolicy(model, batch, job.ctx, job.ds.valid as readonly EvalExample[], { seed, users: opts.fusion?.users, beamWidth: opts.fusion?.beamWidth, keep, onProgress: opts.onSeenProgress });
}

/** Open a trained neural part on the job's trie, decide its seen-item policy, write it alone. */
async function writeNeuralAlone(job: TrainJob, t: TrainedDecoder, seed: number): Promise<ModelConfig> {
  const m = await openNeural(t.files['model.onnx'] as Uint8Array, t.config, { trie: job.trie, layout: job.layout, index: job.index, files: filesOf(t.files), rowOfCodes: (c) => job.index.rowOfCodes(c) ?? -1 });
  let seen;
  try {
    seen = await seenPolicy(m.model, m.batch, job, seed);
  } finally {
    await m.close();
  }
  const config: ModelConfig = { ...t.config, params: { ...t.config.params, seen } };
  await writeModelDir(job.opts.out, config, t.files, job.opts);
  return config;
}

const transition: TrainerKind = {
  name: 'transition',
  aliases: ['bigram'],
  trainsTransformer: () => false,
  async train(job) {
    const { opts, index } = job;
    const seed = opts.decoder?.seed ?? 0;
    const fit = await fitTransitionPart(job.ds, index, job.trie, job.layout, job.maxHistory, opts, seed);
    // the policy is decided with train-only counts, like the shape
    const seen = await seenPolicy(new TransitionStepModel(fit.data, job.trie, job.layout, { rows: index.size }) as StepModel<unknown>, TABLE_MAX_BATCH, job, seed);
    const t = fit.stored();
    const config: ModelConfig = { ...job.base, architecture: 'bigram', params: { ...t.params, seen } };
    await writeModelDir(opts.out, config, { [TRANSITION_FILE]: encodeTransition(t.data) }, opts);
    return config;
  },
};

const sasrec: TrainerKind = {
  name: 'sasrec',
  aliases: [],
  trainsTransformer: () => false,
  async train(job) {
    const t = await trainSasrecFiles(job.ds, job.index, { indexDir: job.opts.index, maxHistory: job.maxHistory }, job.opts.sasrec);
    return writeNeuralAlone(job, t, job.opts.sasrec?.seed ?? 0);
  },
};

const transformer: TrainerKind = {
  name: 'transformer',
  aliases: ['decoder'],
  trainsTransformer: () => true,
  async train(job) {
    const t = await trainDecoderFiles(job.ds, job.index, { indexDir: job.opts.index, maxHistory: job.maxHistory }, job.opts.decoder);
    return writeNeuralAlone(job, t, job.opts.decoder?.seed ?? 0);
  },
};

const llm: TrainerKind = {
  name: 'llm',
  aliases: [],
  trainsTransformer: () => true,
  prepare(opts) {
    const block = opts.decoder?.block;
    if (block !== undefined && block !== 'llm') throw new InputError(`kind llm is the Llama-family block; block ${JSON.stringify(block)} is trained by kind transformer`, { param: 'block' });
    return { ...opts, decoder: { ...opts.decoder, block: 'llm' } };
  },
  train: (job) => transformer.train(job),
};

const fused: TrainerKind = {
  name: 'fused',
  aliases: [],
  trainsTransformer: (opts) => opts.transformerFrom === undefined,
  async train(job) {
    const { opts, ds, index, trie, layout } = job;
    const dec = opts.transformerFrom !== undefined ? await reuseTransformer(opts.transformerFrom, index) : await trainDecoderFiles(ds, index, { indexDir: opts.index, maxHistory: job.maxHistory }, opts.decoder);
    const sasrecPart = dec.config.architecture === 'sasrec'; // fused over a reused SASRec model
    const seed = opts.decoder?.seed ?? ((dec.config.params.seed ?? (dec.config.params.sasrec as { seed?: number } | undefined)?.seed ?? 0) as number);
    const t = await fitTransitionPart(ds, index, trie, layout, job.maxHistory, opts, seed);
    const onnx = await openNeural(dec.files['model.onnx'] as Uint8Array, dec.config, { trie, layout, index, files: filesOf(dec.files), rowOfCodes: (c) => index.rowOfCodes(c) ?? -1 });
    let fusion;
    let seen;
    try {
      const tm = new TransitionStepModel(t.data, trie, layout, { rows: index.size }) as StepModel<unknown>;
      fusion = await chooseFusionWeight(onnx.model, tm, job.ctx, ds.valid, { seed, transformerBatch: onnx.batch, ...opts.fusion, onProgress: opts.onFusionProgress });
      const w = fusion.weight;
      const chosen = fusedAt(onnx.model, tm, w, onnx.batch);
      // decoded on the weight grid's sample (same users, seed and beam): its chosen point is the "keep" figure
      const keep = fusion.grid.find((g) => g.weight === w);
      seen = await seenPolicy(chosen.model, chosen.batch, job, fusion.sampleSeed, keep);
    } finally {
      await onnx.close();
    }
    // the weight and policy were chosen with train-only counts; the stored counts may add the validation targets
    const stored = t.stored();
    const config: ModelConfig = { ...dec.config, dataDir: job.base.dataDir, indexDir: job.base.indexDir, architecture: 'fused', params: { ...dec.config.params, ...(sasrecPart ? { neural: 'sasrec' } : {}), transition: stored.params, fusion, seen } };
    await writeModelDir(opts.out, config, { ...dec.files, [TRANSITION_FILE]: encodeTransition(stored.data) }, opts);
    return config;
  },
};

/** The kinds `semrec train` trains, by name. */
export const TRAIN_KINDS: Readonly<Record<TrainKind, TrainerKind>> = { fused, transformer, llm, transition, sasrec };

/** The kind of a name or alias (`undefined`: `fused`); a typed error names the kinds. */
export function trainerKind(arch: string | undefined): TrainerKind {
  const a = arch ?? 'fused';
  const k = Object.values(TRAIN_KINDS).find((x) => x.name === a || x.aliases.includes(a));
  if (!k) throw new InputError(`model kind must be fused, transformer, llm, transition or sasrec (aliases decoder, bigram), got ${JSON.stringify(arch)}`);
  return k;
}
