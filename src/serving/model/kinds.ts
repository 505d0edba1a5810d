/**
 * Model kinds: one entry per kind of semrec model directory, so loading never grows an
 * `if (architecture === ...)` chain. Each kind has one user-facing name; `architecture` in
 * config.json keeps the values written since format version 1 (`bigram`, `decoder`) plus `fused`.
 *
 * | name (flags, docs, reports) | config.json `architecture` | files |
 * |---|---|---|
 * | transition  | bigram  | transition.bin (bigram.json before it) |
 * | transformer | decoder | model.onnx, tokenizer.json, … |
 * | llm (trained as its own kind, training/kinds.ts) | decoder, `params.block: 'llm'` | as transformer; a `--base` fine-tune adds its text tokenizer and titles |
 * | fused       | fused   | both, and `params.fusion.weight` (the transition model's weight) |
 * | sasrec      | sasrec  | model.onnx (item scores; the ID-based baseline, item-scores.ts) |
 */
import path from 'node:path';
import { FusedStepModel, type PrefixTrie, type StepModel, type TokenLayout } from '../../../decoding/index.js';
import { InputError, ModelError, SemrecError } from '../../errors.js';
import { TransitionStepModel } from './transition.js';
import { LEGACY_TRANSITION_FILE, TRANSITION_FILE, checkLegacyTransition, decodeTransition } from './transition-file.js';
import type { ModelConfig } from './model-dir.js';
import type { Artifact } from '../../../quantizer/core/index.js';
import type { ItemIndex } from '../../../quantizer/index.js';
import { OnnxStepModel } from './onnx-runner.js';
import { ItemScoreStepModel } from './item-scores.js';
import { SasrecScorer, sasrecShape } from './sasrec.js';
import { isTextModel, textModelParts, textModelVocab, type ModelFiles } from './text-model.js';

/** User-facing names of the model kinds. */
export type ModelKindName = 'transition' | 'transformer' | 'fused' | 'sasrec';

/** Which part of a fused model to serve (`fused`: both, with the recorded weight). */
export type ModelPart = 'transition' | 'transformer' | 'fused';

/** Where and how a model is loaded. */
export interface LoadContext {
  dir: string;
  /** The model directory's verified files: every file is read through it (its checked bytes), never reopened by path. */
  art: Artifact;
  config: ModelConfig;
  /** Candidates: the index's live items. */
  trie: PrefixTrie;
  layout: TokenLayout;
  /** Rows of the serving index (retired included; may exceed the rows the model was trained on). */
  rows?: number;
  /** Row of any tuple of the serving index, retired items included (−1: none). */
  rowOfCodes?: (codes: ArrayLike<number>) => number;
  /** The serving index (needed by a transformer fine-tuned from a text checkpoint: its prompts write items as text). */
  index?: ItemIndex;
  /** onnxruntime intra-op threads. */
  threads?: number;
  /** Serve one part of a fused model alone (ablations); default: the whole model. */
  part?: ModelPart;
  /** Override the fused model's transition weight (in [0, 1]). */
  fusionWeight?: number;
}

/** A loaded model, ready for beam search. */
export interface LoadedModel {
  model: StepModel<unknown>;
  /** What is served, e.g. `fused (transition weight 0.3)`. */
  name: string;
  /** Requests per beam search (see Recommender). */
  maxBatch: number;
  /** Release native resources. */
  close(): Promise<void>;
}

/** The transition model's settings in a fused model's config. */
export interface FusionParams {
  /** Weight of the transition model's log-probabilities; the transformer gets 1 − weight. */
  weight: number;
  [key: string]: unknown;
}

/**
 * Requests per beam search for onnxruntime transformers. Each beam row carries its own KV cache,
 * copied in and out at every step, so batching requests costs more than it saves: on Beauty
 * (4 layers, d_model 128, beam 20, 2 cores) 1 request per search gives 59 req/s, 4 give 41,
 * 16 give 27. Concurrent callers are still safe; they queue.
 */
export const ONNX_MAX_BATCH = 1;
/**
 * Requests per beam search for onnxruntime transformers decoded with tree attention (graphs with a
 * 3-D attention mask, see onnx-tree.ts): no cache is copied per beam, so several requests in one
 * model call raise throughput (bench/decode-compare: docs/decoding.md).
 */
const TREE_MAX_BATCH = 16;

/** Requests per beam search for an onnxruntime transformer (by whether it decodes with tree attention). */
function onnxMaxBatch(model: { tree: boolean }): number {
  return model.tree ? TREE_MAX_BATCH : ONNX_MAX_BATCH;
}
/** Requests per beam search for the transition model. */
export const TABLE_MAX_BATCH = 64;
/** Requests per beam search for SASRec (one graph call scores them all; each keeps a best-score array per trie node). */
const SASREC_MAX_BATCH = 32;

/** A loaded neural part (transformer or SASRec): its step model, requests per beam search, and how to release it. */
export interface NeuralPart {
  model: StepModel<unknown>;
  batch: number;
  close: () => Promise<void>;
}

/**
 * The neural part of a model directory from its graph's bytes (model.onnx) — the one place it is
 * opened, for serving and for `semrec train`'s validation choices: SASRec (architecture `sasrec`,
 * or a fused model with `params.neural: "sasrec"`) decoded over the trie by the exact item-score
 * search, otherwise the transformer ({@link openTransformer}).
 */
export async function openNeural(graph: Uint8Array, config: ModelConfig, at: { trie: PrefixTrie; layout: TokenLayout; index?: ItemIndex; files: ModelFiles; rowOfCodes?: (codes: ArrayLike<number>) => number }, opts: { threads?: number; label?: string } = {}): Promise<NeuralPart> {
  if (config.architecture === 'sasrec' || config.params.neural === 'sasrec') {
    const scorer = await SasrecScorer.load(graph, sasrecShape(config.params, opts.label ?? 'config.json'), opts);
    return { model: new ItemScoreStepModel(scorer, at.trie, at.layout, { rowOfCodes: at.rowOfCodes }) as StepModel<unknown>, batch: SASREC_MAX_BATCH, close: () => scorer.close() };
  }
  const t = await openTransformer(graph, config, at.layout, at.index, at.files, opts);
  return { model: t.model, batch: onnxMaxBatch(t.onnx), close: () => t.onnx.close() };
}

async function loadTransition(ctx: LoadContext): Promise<StepModel<unknown>> {
  // transition.bin; a directory written before it holds bigram.json
  const name = ctx.art.has(TRANSITION_FILE) || !ctx.art.has(LEGACY_TRANSITION_FILE) ? TRANSITION_FILE : LEGACY_TRANSITION_FILE;
  const file = path.join(ctx.dir, name);
  let data;
  try {
    data = name === TRANSITION_FILE ? decodeTransition(await ctx.art.read(name), file) : checkLegacyTransition(JSON.parse(await ctx.art.text(name)), file);
  } catch (err) {
    if (err instanceof SemrecError) throw err;
    throw new ModelError(`${file}: cannot read the transition model (${(err as Error).message})`);
  }
  return new TransitionStepModel(data, ctx.trie, ctx.layout, { rows: ctx.rows, rowOfCodes: ctx.rowOfCodes }) as StepModel<unknown>;
}

/**
 * The runner dimensions of a transformer config's params — the one place they are read: the
 * cache holds the key/value heads (fewer than the query heads with grouped-query attention).
 */
export function transformerDims(params: Record<string, unknown>, vocabSize: number): { vocabSize: number; layers: number; heads: number; headDim: number } {
  const p = params as { layers: number; heads: number; headDim: number; kvHeads?: number };
  // a model fine-tuned from a text checkpoint has a restricted head: logits for its ID tokens only
  return { vocabSize: isTextModel(params) ? textModelVocab(params) : vocabSize, layers: p.layers, heads: p.kvHeads ?? p.heads, headDim: p.headDim };
}

/** A loaded transformer: its graph and the step model decoding sees. */
export interface TransformerPart {
  onnx: OnnxStepModel;
  model: StepModel<unknown>;
}

/**
 * A transformer from its graph's bytes and its config — the one place a transformer is loaded
 * (serving, and the validation choices of `semrec train`): the runner sized by
 * {@link transformerDims}; decoding sees the graph itself, or for a model fine-tuned from a text
 * checkpoint the graph behind its token maps and text prompts (text-model.ts) — in both cases a
 * step model of the canonical layout, prompted with semrec's ID prompt. `files`: the other files
 * of its model directory (a fine-tuned model's tokenizer and titles).
 */
async function openTransformer(graph: Uint8Array, config: ModelConfig, layout: TokenLayout, index: ItemIndex | undefined, files: ModelFiles, opts: { threads?: number; label?: string } = {}): Promise<TransformerPart> {
  const onnx = await OnnxStepModel.load(graph, transformerDims(config.params, layout.vocabSize), opts);
  if (!isTextModel(config.params)) return { onnx, model: onnx as StepModel<unknown> };
  try {
    if (!index) throw new ModelError('a transformer fine-tuned from a text checkpoint needs the serving index to write its prompts');
    return { onnx, model: (await textModelParts(config.params, layout, index, files)).wrap(onnx as StepModel<unknown>) };
  } catch (err) {
    await onnx.close();
    throw err;
  }
}

async function loadNeural(ctx: LoadContext): Promise<NeuralPart> {
  // the verified bytes go to onnxruntime, not the path (a file renamed there since is never loaded)
  const files: ModelFiles = { read: (n) => ctx.art.text(n), has: (n) => ctx.art.has(n) };
  return openNeural(await ctx.art.read('model.onnx'), ctx.config, { trie: ctx.trie, layout: ctx.layout, index: ctx.index, files, rowOfCodes: ctx.rowOfCodes }, { threads: ctx.threads, label: path.join(ctx.dir, 'model.onnx') });
}

const noClose = async () => {};

/**
 * The model served at transition weight `w` — the transformer alone at 0, the transition model
 * alone at 1, their log-linear fusion in between — and how many requests to decode per beam
 * search with it. The one definition: loading a fused model and choosing its weight both use it.
 */
export function fusedAt(transformer: StepModel<unknown> | undefined, transition: StepModel<unknown> | undefined, w: number, transformerBatch = ONNX_MAX_BATCH): { model: StepModel<unknown>; batch: number } {
  if (w === 1) return { model: transition!, batch: TABLE_MAX_BATCH };
  if (w === 0) return { model: transformer!, batch: transformerBatch };
  return { model: new FusedStepModel([{ model: transformer!, weight: 1 - w }, { model: transition!, weight: w }]), batch: transformerBatch };
}

/** The model kinds, by config.json `architecture`. */
const MODEL_KINDS: Record<string, { name: ModelKindName; load(ctx: LoadContext): Promise<LoadedModel> }> = {
  bigram: {
    name: 'transition',
    async load(ctx) {
      partOf(ctx, 'transition');
      return { model: await loadTransition(ctx), name: 'transition', maxBatch: TABLE_MAX_BATCH, close: noClose };
    },
  },
  decoder: {
    name: 'transformer',
    async load(ctx) {
      partOf(ctx, 'transformer');
      const m = await loadNeural(ctx);
      return { model: m.model, name: 'transformer', maxBatch: m.batch, close: m.close };
    },
  },
  sasrec: {
    name: 'sasrec',
    async load(ctx) {
      partOf(ctx, 'sasrec');
      const m = await loadNeural(ctx);
      return { model: m.model, name: 'sasrec', maxBatch: m.batch, close: m.close };
    },
  },
  fused: {
    name: 'fused',
    async load(ctx) {
      const part = ctx.part ?? 'fused';
      const recorded = (ctx.config.params.fusion as FusionParams | undefined)?.weight;
      const w = ctx.fusionWeight ?? recorded;
      if (ctx.fusionWeight !== undefined && !(ctx.fusionWeight >= 0 && ctx.fusionWeight <= 1)) throw new InputError(`fusionWeight must be a number in [0, 1], got ${ctx.fusionWeight}`);
      if (typeof w !== 'number' || !(w >= 0 && w <= 1)) throw new ModelError(`${ctx.dir}/config.json: params.fusion.weight must be a number in [0, 1], got ${JSON.stringify(w)}`);
      const at = part === 'transition' ? 1 : part === 'transformer' ? 0 : w; // the weight served
      // the neural part: the transformer, or SASRec in a fused model made over one (params.neural)
      const sasrec = ctx.config.params.neural === 'sasrec';
      const tf = at < 1 ? await loadNeural(ctx) : undefined;
      const transition = at > 0 ? await loadTransition(ctx) : undefined;
      const { model, batch } = fusedAt(tf?.model, transition, at, tf?.batch);
      const name = part === 'transformer' && sasrec ? 'sasrec' : part !== 'fused' ? part : `fused${sasrec ? ' sasrec +' : ''} (transition weight ${w})`;
      return { model, name, maxBatch: batch, close: tf ? tf.close : noClose };
    },
  },
};

function partOf(ctx: LoadContext, kind: ModelKindName): void {
  if (ctx.part && ctx.part !== kind) throw new InputError(`part ${JSON.stringify(ctx.part)} was asked of a ${kind} model; only fused models have parts`);
  if (ctx.fusionWeight !== undefined) throw new InputError(`a fusion weight was given for a ${kind} model; only fused models take one`);
}

/** Parse a user-facing part name. */
export function parsePart(v: string | undefined): ModelPart | undefined {
  if (v === undefined) return undefined;
  if (v !== 'fused' && v !== 'transformer' && v !== 'transition') throw new InputError(`part must be fused, transformer or transition, got ${JSON.stringify(v)}`);
  return v;
}

/** Load the model of a semrec model directory through its kind. */
export async function loadModelKind(ctx: LoadContext): Promise<LoadedModel> {
  const kind = Object.hasOwn(MODEL_KINDS, ctx.config.architecture) ? MODEL_KINDS[ctx.config.architecture] : undefined;
  if (!kind) throw new ModelError(`architecture ${JSON.stringify(ctx.config.architecture)} is not supported by this build (known: ${Object.keys(MODEL_KINDS).join(', ')})`);
  return kind.load(ctx);
}

/** User-facing name of a config's kind. */
export function kindName(config: ModelConfig): string {
  return (Object.hasOwn(MODEL_KINDS, config.architecture) ? MODEL_KINDS[config.architecture].name : undefined) ?? config.architecture;
}
