/**
 * Training jobs, by model kind (see models/kinds.ts):
 * - `fused` (default): the transformer (PyTorch trainer → ONNX, train-decoder.ts) and the transition
 *   model, decoded together with a log-linear fusion whose weight is chosen on the validation split
 *   (fusion.ts); one model directory holds both and the weight;
 * - `transformer` (config `decoder`): the transformer alone;
 * - `transition` (config `bigram`): the first-order transition model over item tuples (seconds).
 */
import { TokenLayout, type StepModel } from '../decoding/index.js';
import { candidateTrie } from './indexing.js';
import { checkWritable, loadIndex, type ItemIndex } from '../quantizer/index.js';
import { loadDataset, type Dataset } from './data/store.js';
import { InputError } from './errors.js';
import { chooseFusionWeight, type FusionOptions } from './fusion.js';
import { BigramStepModel, fitBigram, type BigramData } from './models/bigram.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, writeModelDir, type ModelConfig } from './models/model-dir.js';
import { OnnxStepModel } from './models/onnx-runner.js';
import path from 'node:path';
import { trainDecoderFiles, type DecoderTrainOptions } from './train-decoder.js';

/** Model kinds `semrec train` produces, by user-facing name (`decoder` / `bigram` are accepted aliases). */
export type TrainKind = 'fused' | 'transformer' | 'transition';

/** Options of {@link trainModel}. */
export interface TrainOptions {
  /** Dataset directory (train split is used; the validation split chooses the fusion weight). */
  data: string;
  /** Index directory the model is trained on. */
  index: string;
  /** Output model directory (written atomically). */
  out: string;
  /** Replace whatever `out` holds (default: refuse anything but a model directory). */
  force?: boolean;
  /** `fused` (default), `transformer` or `transition` (aliases: `decoder`, `bigram`). */
  arch?: string;
  /** Transformer settings (kinds `fused`, `transformer`). */
  decoder?: DecoderTrainOptions;
  /** Fusion-weight selection (kind `fused`). */
  fusion?: Omit<FusionOptions, 'onProgress'>;
  /** Progress of the fusion-weight selection (decoded validation requests). */
  onFusionProgress?: (done: number, total: number) => void;
  /** Pseudo-count of the popularity prior (transition model). */
  beta?: number;
  /**
   * What the stored transition counts are fitted on: `train` (default) or `train+valid` — each
   * user's validation target appended, as a test-time model may (the validation interaction is
   * known then). The fusion weight is always chosen with train-only counts; a model stored with
   * train+valid counts cannot be evaluated on the validation split (it has seen its targets).
   */
  transitionFit?: 'train' | 'train+valid';
  /** History items kept in prompts (default 20). */
  maxHistory?: number;
}

/** Resolve a kind name or alias. */
export function trainKind(arch: string | undefined): TrainKind {
  const a = arch ?? 'fused';
  if (a === 'fused') return 'fused';
  if (a === 'transformer' || a === 'decoder') return 'transformer';
  if (a === 'transition' || a === 'bigram') return 'transition';
  throw new InputError(`model kind must be fused, transformer or transition (aliases decoder, bigram), got ${JSON.stringify(arch)}`);
}

/**
 * Fit the transition model on the train split (with `withValid`, each user's sequence continues
 * with their validation target: the counts a test-time model can legitimately use, since the
 * validation interaction is known then); returns its data and a summary.
 */
function fitTransition(ds: Dataset, index: ItemIndex, beta: number, withValid = false): { data: BigramData; params: Record<string, unknown> } {
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
  const data = fitBigram(seqs, index.size, beta);
  return { data, params: { beta: data.beta, transitions: data.dst.length, trainSequences: seqs.length, unknownTrainItems: unknown, fittedOn: withValid ? 'train+valid' : 'train' } };
}

/** Train a model on a dataset's train split under an index; returns its config. */
export async function trainModel(opts: TrainOptions): Promise<ModelConfig> {
  const kind = trainKind(opts.arch);
  await checkWritable(opts.out, { kind: MODEL_FORMAT, force: opts.force }); // refuse before training, not after
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
  if (kind === 'transition') {
    const t = fitTransition(ds, index, opts.beta ?? 2, withValid);
    const config: ModelConfig = { ...base, architecture: 'bigram', params: t.params };
    await writeModelDir(opts.out, config, { 'bigram.json': JSON.stringify(t.data) }, opts);
    return config;
  }
  const dec = await trainDecoderFiles(ds, index, { indexDir: opts.index, maxHistory }, opts.decoder);
  if (kind === 'transformer') {
    await writeModelDir(opts.out, dec.config, dec.files, opts);
    return dec.config;
  }
  const t = fitTransition(ds, index, opts.beta ?? 2);
  const trie = candidateTrie(index);
  const p = dec.config.params as { layers: number; heads: number; headDim: number };
  const tf = await OnnxStepModel.load(dec.files['model.onnx'] as Uint8Array, { vocabSize: layout.vocabSize, layers: p.layers, heads: p.heads, headDim: p.headDim });
  let fusion;
  try {
    const transition = new BigramStepModel(t.data, trie, layout, { rows: index.size }) as StepModel<unknown>;
    fusion = await chooseFusionWeight(tf as StepModel<unknown>, transition, { index, trie, layout, maxHistory }, ds.valid, { seed: dec.config.params.seed as number, ...opts.fusion, onProgress: opts.onFusionProgress });
  } finally {
    await tf.close();
  }
  // the weight was chosen with train-only counts; the stored counts may add the validation targets
  const stored = withValid ? fitTransition(ds, index, opts.beta ?? 2, true) : t;
  const config: ModelConfig = { ...dec.config, architecture: 'fused', params: { ...dec.config.params, transition: stored.params, fusion } };
  await writeModelDir(opts.out, config, { ...dec.files, 'bigram.json': JSON.stringify(stored.data) }, opts);
  return config;
}
