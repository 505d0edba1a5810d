/**
 * Training jobs, by model kind (see models/kinds.ts):
 * - `fused` (default): the transformer (PyTorch trainer → ONNX, train-decoder.ts) and the transition
 *   model, decoded together with a log-linear fusion whose weight is chosen on the validation split
 *   (fusion.ts); one model directory holds both and the weight;
 * - `transformer` (config `decoder`): the transformer alone;
 * - `transition` (config `bigram`): the transition model over item tuples (seconds), its window,
 *   history and decay chosen on the validation split (transition-select.ts) unless fixed;
 * - `sasrec`: the ID-based SASRec baseline (PyTorch trainer → ONNX, sasrec.ts), served over the
 *   trie with exact top-k (serving/model/item-scores.ts).
 */
import { TokenLayout, type PrefixTrie, type StepModel } from '../../decoding/index.js';
import { candidateTrie } from '../indexing/jobs.js';
import { loadIndex, type ItemIndex } from '../../quantizer/index.js';
import { checkWritable, openRequired, resolveArtifact } from '../../quantizer/core/index.js';
import { loadDataset, type Dataset } from '../data/store.js';
import { InputError, ModelError } from '../errors.js';
import { fusedAt, kindName, openNeural, TABLE_MAX_BATCH, transformerDims } from '../serving/model/kinds.js';
import { chooseFusionWeight, type FusionOptions } from './fusion.js';
import type { DecodeContext } from '../eval/decode.js';
import { chooseSeenPolicy, type SeenChoice, type SeenSelectOptions } from './seen-select.js';
import type { EvalExample } from '../data/split.js';
import { TransitionStepModel, fitTransition, type TransitionData, type TransitionShape } from '../serving/model/transition.js';
import { LEGACY_TRANSITION_FILE, TRANSITION_FILE, encodeTransition } from '../serving/model/transition-file.js';
import { chooseTransitionShape, type TransitionChoice, type TransitionSelectOptions } from './transition-select.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, modelConfigOf, writeModelDir, type ModelConfig } from '../serving/model/model-dir.js';
import { OnnxStepModel } from '../serving/model/onnx-runner.js';
import path from 'node:path';
import os from 'node:os';
import { promises as fs } from 'node:fs';
import { runTrainer } from './python.js';
import type { ModelFiles } from '../serving/model/text-model.js';
import { trainDecoderFiles, trainDecoderRanks, type DecoderTrainOptions, type NodeRanks } from './train-decoder.js';
import { trainSasrecFiles, type SasrecOptions } from './sasrec.js';

/** Model kinds `semrec train` produces, by user-facing name (`decoder` / `bigram` are accepted aliases). */
export type TrainKind = 'fused' | 'transformer' | 'transition' | 'sasrec';

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Dataset directory (train split is used; the validation split chooses the fusion weight). */
  data: string;
  /** Index directory the model is trained on. */
  index: string;
  /** Output model directory (written atomically). */
  out: string;
  /** Replace a semrec artifact of another kind at `out` (never unrelated files, never the inputs). */
  force?: boolean;
  /** The job's inputs (files or directories): a forced replacement never removes a directory holding one. */
  inputs?: readonly string[];
  /** `fused` (default), `transformer`, `transition` (aliases: `decoder`, `bigram`) or `sasrec`. */
  arch?: string;
  /** SASRec's recipe (kind `sasrec`). */
  sasrec?: SasrecOptions;
  /** Transformer settings (kinds `fused`, `transformer`). */
  decoder?: DecoderTrainOptions;
  /** Fusion-weight selection (kind `fused`). */
  fusion?: Omit<FusionOptions, 'onProgress'>;
  /** Progress of the fusion-weight selection (decoded validation requests). */
  onFusionProgress?: (done: number, total: number) => void;
  /** Pseudo-count of the popularity prior (transition model). */
  beta?: number;
  /**
   * The transition model's window, history and decay: `auto` (default) chooses them on the
   * validation split; a fixed shape skips the choice (`{}` or 1/1/1: the first-order model).
   */
  transitionShape?: TransitionShape | 'auto';
  /** Shape selection settings (when `transitionShape` is `auto`). */
  transitionSelect?: Omit<TransitionSelectOptions, 'onProgress' | 'beta'>;
  /** Progress of the shape selection (decoded validation requests). */
  onTransitionProgress?: (done: number, total: number) => void;
  /**
   * What the stored transition counts are fitted on: `train` (default) or `train+valid` — each
   * user's validation target appended, as a test-time model may (the validation interaction is
   * known then). The fusion weight is always chosen with train-only counts; a model stored with
   * train+valid counts cannot be evaluated on the validation split (it has seen its targets).
   */
  transitionFit?: 'train' | 'train+valid';
  /** History items kept in prompts (default 20). */
  maxHistory?: number;
  /**
   * The model's default seen-item policy (`params.seen`): `auto` (default) decides on the
   * validation split whether excluding history items raises Recall@10 (seen-select.ts); `keep` /
   * `exclude` fix it. A request's `excludeSeen` overrides the default.
   */
  seen?: 'auto' | 'keep' | 'exclude';
  /** Progress of the seen-item policy choice (decoded validation requests). */
  onSeenProgress?: (done: number, total: number) => void;
  /**
   * Kind `fused`: take the transformer of this model directory (transformer or fused, trained on
   * the same index) instead of training one — refit the transition part and choose the weight
   * again, e.g. after a new transition shape or more data. Its trainer settings are kept.
   */
  transformerFrom?: string;
}

/** A fixed seen-item policy (`params.seen` when not chosen on validation). */
export interface FixedSeenPolicy {
  exclude: boolean;
  criterion: 'fixed by the trainer';
}

/** Decide (or fix) the seen-item policy of a trained model (`opts.seen` checked by trainModel); see seen-select.ts. */
async function seenPolicy(model: StepModel<unknown>, batch: number, ctx: DecodeContext, valid: readonly EvalExample[], opts: TrainOptions, seed: number, keep?: SeenSelectOptions['keep']): Promise<SeenChoice | FixedSeenPolicy> {
  if (opts.seen === 'keep' || opts.seen === 'exclude') return { exclude: opts.seen === 'exclude', criterion: 'fixed by the trainer' };
  return chooseSeenPolicy(model, batch, ctx, valid, { seed, users: opts.fusion?.users, beamWidth: opts.fusion?.beamWidth, keep, onProgress: opts.onSeenProgress });
}

/** Resolve a kind name or alias. */
export function trainKind(arch: string | undefined): TrainKind {
  const a = arch ?? 'fused';
  if (a === 'fused') return 'fused';
  if (a === 'transformer' || a === 'decoder') return 'transformer';
  if (a === 'transition' || a === 'bigram') return 'transition';
  if (a === 'sasrec') return 'sasrec';
  throw new InputError(`model kind must be fused, transformer, transition or sasrec (aliases decoder, bigram), got ${JSON.stringify(arch)}`);
}

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
async function fitTransitionPart(ds: Dataset, index: ItemIndex, trie: PrefixTrie, layout: TokenLayout, maxHistory: number, opts: TrainOptions, seed: number): Promise<{ data: TransitionData; params: Record<string, unknown>; stored: () => { data: TransitionData; params: Record<string, unknown> } }> {
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

/**
 * The neural part's files and config of an existing model directory on `index`: a transformer, a
 * fused model's transformer, or a SASRec model (architecture `sasrec`: a fused model over it
 * records `params.neural: 'sasrec'`).
 */
async function reuseTransformer(dir: string, index: ItemIndex): Promise<{ config: ModelConfig; files: Record<string, string | Uint8Array> }> {
  const art = await openRequired(await resolveArtifact(dir), MODEL_FORMAT, { verifyAll: true });
  const config = await modelConfigOf(art, dir);
  if (config.architecture !== 'decoder' && config.architecture !== 'fused' && config.architecture !== 'sasrec') throw new InputError(`${dir} holds a ${kindName(config)} model, not a transformer or SASRec model`, { param: 'transformerFrom' });
  if (config.indexHash !== index.hash()) throw new ModelError(`${dir} was trained on index ${config.indexHash.slice(0, 12)}…, not this index (${index.hash().slice(0, 12)}…)`);
  const files: Record<string, string | Uint8Array> = {};
  for (const name of art.names) if (name !== 'config.json' && name !== TRANSITION_FILE && name !== LEGACY_TRANSITION_FILE) files[name] = await art.read(name);
  const params: Record<string, unknown> = { ...config.params };
  delete params.fusion; // a fused source: its transition part and weight are refitted
  delete params.transition;
  delete params.seen; // decided again for the new model
  const sasrec = config.architecture === 'sasrec' || params.neural === 'sasrec';
  delete params.neural;
  if (!sasrec && (await upgradeToTreeMask(files, config))) params.reexported = 'model.onnx re-exported from checkpoint.pt with the 3-D (tree attention) mask';
  return { config: { ...config, architecture: sasrec ? 'sasrec' : 'decoder', params: { ...params, transformerFrom: path.resolve(dir) } }, files };
}

/**
 * A transformer exported before tree attention (2-D attention mask) is re-exported from its
 * checkpoint with the current exporter — same weights, the 3-D mask that decodes all beams of a
 * request over one cache (models/onnx-tree.ts). Returns whether `files['model.onnx']` was replaced
 * (false: already 3-D, or no checkpoint.pt / trainer.json to export from).
 */
async function upgradeToTreeMask(files: Record<string, string | Uint8Array>, config: ModelConfig): Promise<boolean> {
  if (!(files['model.onnx'] instanceof Uint8Array) || files['checkpoint.pt'] === undefined || files['trainer.json'] === undefined) return false;
  const probe = await OnnxStepModel.load(files['model.onnx'], transformerDims(config.params, config.tokenLayout.vocabSize), { threads: 1 });
  const mask3d = probe.mask3d;
  await probe.close();
  if (mask3d) return false;
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'semrec-reexport-'));
  try {
    for (const name of ['checkpoint.pt', 'trainer.json']) await fs.writeFile(path.join(work, name), files[name]);
    const out = path.join(work, 'model.onnx');
    await runTrainer(['export', '--config', path.join(work, 'trainer.json'), '--checkpoint', path.join(work, 'checkpoint.pt'), '--out', out], () => {});
    files['model.onnx'] = new Uint8Array(await fs.readFile(out));
    return true;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** A model directory's files in memory, as the loaders read them. */
function filesOf(files: Record<string, string | Uint8Array>): ModelFiles {
  return {
    has: (name) => Object.hasOwn(files, name),
    read: async (name) => {
      const f = files[name];
      return typeof f === 'string' ? f : Buffer.from(f).toString('utf8');
    },
  };
}

/** Multi-node settings are for a transformer trained here (kinds transformer and fused). */
function checkNodeKind(kind: string, opts: TrainOptions): void {
  if (!opts.decoder?.nodes) return;
  if ((kind !== 'transformer' && kind !== 'fused') || opts.transformerFrom !== undefined) throw new InputError(`multi-node training (--nnodes) trains a transformer: kind transformer, llm or fused without --transformer-from, not ${opts.transformerFrom !== undefined ? 'a reused transformer' : kind}`, { param: 'nodes' });
}

/** Train a model on a dataset's train split under an index; returns its config. */
export async function trainModel(opts: TrainOptions): Promise<ModelConfig> {
  const kind = trainKind(opts.arch);
  if (opts.transformerFrom !== undefined && kind !== 'fused') throw new InputError(`transformerFrom is for fused models, not ${kind}`, { param: 'transformerFrom' });
  checkNodeKind(kind, opts);
  if ((opts.decoder?.nodes?.rank ?? 0) > 0) throw new InputError(`node ${opts.decoder!.nodes!.rank} of a multi-node run trains its ranks only (trainNodeRanks); node 0 writes the model`, { param: 'nodes' });
  opts = { ...opts, inputs: [...(opts.inputs ?? []), opts.data, opts.index] };
  await checkWritable(opts.out, { kind: MODEL_FORMAT, force: opts.force, inputs: opts.inputs }); // refuse before training, not after
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  const maxHistory = opts.maxHistory ?? ds.meta.split.maxHistory;
  const layout = new TokenLayout(index.codebookSizes);
  const base = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    indexHash: index.hash(),
    tokenLayout: layout.spec(),
    maxHistory,
    dataDir: path.resolve(opts.data),
    indexDir: path.resolve(opts.index),
  } as const;
  const withValid = opts.transitionFit === 'train+valid';
  if (opts.transitionFit !== undefined && opts.transitionFit !== 'train' && !withValid) throw new InputError(`transitionFit must be train or train+valid, got ${JSON.stringify(opts.transitionFit)}`, { param: 'transitionFit' });
  if (opts.seen !== undefined && !['auto', 'keep', 'exclude'].includes(opts.seen)) throw new InputError(`seen must be auto, keep or exclude, got ${JSON.stringify(opts.seen)}`, { param: 'seen' });
  const trie = candidateTrie(index);
  const ctx: DecodeContext = { index, trie, layout, maxHistory };
  if (kind === 'transition') {
    const seed = opts.decoder?.seed ?? 0;
    const fit = await fitTransitionPart(ds, index, trie, layout, maxHistory, opts, seed);
    // the policy is decided with train-only counts, like the shape
    const seen = await seenPolicy(new TransitionStepModel(fit.data, trie, layout, { rows: index.size }) as StepModel<unknown>, TABLE_MAX_BATCH, ctx, ds.valid, opts, seed);
    const t = fit.stored();
    const config: ModelConfig = { ...base, architecture: 'bigram', params: { ...t.params, seen } };
    await writeModelDir(opts.out, config, { [TRANSITION_FILE]: encodeTransition(t.data) }, opts);
    return config;
  }
  if (kind === 'sasrec') {
    const t = await trainSasrecFiles(ds, index, { indexDir: opts.index, maxHistory }, opts.sasrec);
    const m = await openNeural(t.files['model.onnx'] as Uint8Array, t.config, { trie, layout, files: filesOf(t.files), rowOfCodes: (c) => index.rowOfCodes(c) ?? -1 });
    let seen;
    try {
      seen = await seenPolicy(m.model, m.batch, ctx, ds.valid, opts, opts.sasrec?.seed ?? 0);
    } finally {
      await m.close();
    }
    const config: ModelConfig = { ...t.config, params: { ...t.config.params, seen } };
    await writeModelDir(opts.out, config, t.files, opts);
    return config;
  }
  const dec = opts.transformerFrom !== undefined ? await reuseTransformer(opts.transformerFrom, index) : await trainDecoderFiles(ds, index, { indexDir: opts.index, maxHistory }, opts.decoder);
  const sasrecPart = dec.config.architecture === 'sasrec'; // fused over a reused SASRec model
  const seed = opts.decoder?.seed ?? ((dec.config.params.seed ?? (dec.config.params.sasrec as { seed?: number } | undefined)?.seed ?? 0) as number);
  const onnx = await openNeural(dec.files['model.onnx'] as Uint8Array, dec.config, { trie, layout, index, files: filesOf(dec.files), rowOfCodes: (c) => index.rowOfCodes(c) ?? -1 });
  const tf = onnx.model;
  const tfBatch = onnx.batch;
  if (kind === 'transformer') {
    let seen;
    try {
      seen = await seenPolicy(tf, tfBatch, ctx, ds.valid, opts, seed);
    } finally {
      await onnx.close();
    }
    const config: ModelConfig = { ...dec.config, params: { ...dec.config.params, seen } };
    await writeModelDir(opts.out, config, dec.files, opts);
    return config;
  }
  const t = await fitTransitionPart(ds, index, trie, layout, maxHistory, opts, seed);
  let fusion;
  let seen;
  try {
    const transition = new TransitionStepModel(t.data, trie, layout, { rows: index.size }) as StepModel<unknown>;
    fusion = await chooseFusionWeight(tf, transition, ctx, ds.valid, { seed, transformerBatch: tfBatch, ...opts.fusion, onProgress: opts.onFusionProgress });
    const w = fusion.weight;
    const chosen = fusedAt(tf, transition, w, tfBatch);
    // decoded on the weight grid's sample (same users, seed and beam): its chosen point is the "keep" figure
    const keep = fusion.grid.find((g) => g.weight === w);
    seen = await seenPolicy(chosen.model, chosen.batch, ctx, ds.valid, opts, fusion.sampleSeed, keep);
  } finally {
    await onnx.close();
  }
  // the weight and policy were chosen with train-only counts; the stored counts may add the validation targets
  const stored = t.stored();
  const config: ModelConfig = { ...dec.config, dataDir: base.dataDir, indexDir: base.indexDir, architecture: 'fused', params: { ...dec.config.params, ...(sasrecPart ? { neural: 'sasrec' } : {}), transition: stored.params, fusion, seen } };
  await writeModelDir(opts.out, config, { ...dec.files, [TRANSITION_FILE]: encodeTransition(stored.data) }, opts);
  return config;
}

/**
 * A node other than node 0 of a multi-node transformer training (`decoder.nodes.rank > 0`): the
 * same data, index and settings as node 0's {@link trainModel}; runs this node's ranks and writes
 * nothing (node 0 writes the model, its transition part and fusion included).
 */
export async function trainNodeRanks(opts: TrainOptions): Promise<NodeRanks> {
  const kind = trainKind(opts.arch);
  checkNodeKind(kind, opts);
  const nodes = opts.decoder?.nodes;
  if (!nodes) throw new InputError('trainNodeRanks is for a node of a multi-node run (decoder.nodes)', { param: 'nodes' });
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  const maxHistory = opts.maxHistory ?? ds.meta.split.maxHistory;
  return trainDecoderRanks(ds, index, { indexDir: opts.index, maxHistory }, { ...opts.decoder, nodes });
}
