/**
 * A transformer fine-tuned from a language-model checkpoint (`semrec train --base`): its vocabulary
 * is the checkpoint's text tokenizer plus the ID tokens, its prompts are text
 * (serving/model/prompt.ts), and its graph's output head is restricted to the ID tokens.
 *
 * Files of its model directory, besides model.onnx: `tokenizer.json` (the checkpoint's, with the
 * ID tokens added), `tokenizer_config.json`, and `titles.json` (`{itemId: title}`) when the prompt
 * writes titles. `config.params.base` says where the ID tokens sit; `config.params.prompt` is the
 * prompt spec. Items without a title (added to the index after training) are written by their ID
 * tokens alone.
 *
 * Decoding sees a step model of the canonical layout, prompted with semrec's ID prompt
 * (TokenLayout.prompt) like every other model — so evaluation, fusion with the transition model and
 * serving need nothing of their own: {@link TextPromptStepModel} turns each ID prompt back into its
 * items (the index's rows of its tuples) and writes their text prompt, and a
 * {@link RemappedStepModel} maps tokens: canonical token t (t ≥ NUM_SPECIAL) is the model's input
 * token `idStart + t − NUM_SPECIAL` and its output column `t − NUM_SPECIAL`; the specials are
 * never produced.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { NUM_SPECIAL, RemappedStepModel, SPECIAL_TOKENS, type CandidateFilter, type StepModel, type StepOutput, type TokenLayout } from '../../../decoding/index.js';
import type { ItemIndex } from '../../../quantizer/index.js';
import { ModelError } from '../../errors.js';
import { layoutFromTokenizer } from './hf-model.js';
import { PromptEncoder, promptSpec, type PromptSpec } from './prompt.js';

/** `config.params.base` of a fine-tuned model. */
export interface BaseParams {
  /** The checkpoint directory it was fine-tuned from (absolute; informational). */
  dir: string;
  modelType: string;
  /** Id of `<a_0>`; the ID tokens are [idStart, idStart + idCount), canonical order. */
  idStart: number;
  idCount: number;
  /** Token put before every prompt (the tokenizer's BOS), if any. */
  bosId?: number;
  /** LoRA rank (0: full fine-tune). */
  lora: number;
  [key: string]: unknown;
}

/** Whether a transformer's params describe a model fine-tuned from a text checkpoint. */
export function isTextModel(params: Record<string, unknown>): boolean {
  return typeof params.base === 'object' && params.base !== null;
}

/** Output columns of the graph: the restricted head's ID tokens. */
export function textModelVocab(params: Record<string, unknown>): number {
  return (params.base as BaseParams).idCount;
}

/** The other files of a model directory, as the loaders read them (verified on disk, or in memory while training). */
export interface ModelFiles {
  read(name: string): Promise<string>;
  has(name: string): boolean;
}

/** The parts a fine-tuned model needs beyond its graph: the token maps and the prompt builder. */
export interface TextModelParts {
  /** The graph's step model seen in the canonical layout, prompted with ID prompts. */
  wrap(inner: StepModel<unknown>): StepModel<unknown>;
  /** Prompt token ids (the model's vocabulary) of a history of index rows (oldest first). */
  prompt(rows: readonly number[]): Int32Array;
}

/**
 * A step model prompted with canonical ID prompts whose inner model takes text prompts: each
 * prompt is rewritten by `toText` before the prefill; steps, reorders and releases pass through.
 */
export class TextPromptStepModel<S> implements StepModel<S> {
  readonly vocabSize: number;

  /**
   * @param inner the model prompted with text prompts (its own token ids)
   * @param textPrompt the text prompt of a canonical ID prompt
   */
  constructor(
    readonly inner: StepModel<S>,
    readonly textPrompt: (idPrompt: Int32Array) => Int32Array,
  ) {
    this.vocabSize = inner.vocabSize;
  }

  prefill(prompts: readonly Int32Array[], filters?: readonly (CandidateFilter | undefined)[]): Promise<StepOutput<S>> {
    let text: Int32Array[];
    try {
      text = prompts.map((p) => this.textPrompt(p));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.inner.prefill(text, filters);
  }

  step(state: S, tokens: Int32Array): Promise<StepOutput<S>> {
    return this.inner.step(state, tokens);
  }

  reorder(state: S, index: Int32Array): S | Promise<S> {
    return this.inner.reorder(state, index);
  }

  release(state: S): void {
    this.inner.release?.(state);
  }
}

/** The item tuples (codes) of an ID prompt (BOS, then tuples), oldest first; anything else is a ModelError. */
export function promptTuples(idPrompt: Int32Array, layout: TokenLayout): Int32Array[] {
  const L = layout.levels;
  const start = idPrompt.length > 0 && idPrompt[0] === SPECIAL_TOKENS.BOS ? 1 : 0;
  if ((idPrompt.length - start) % L !== 0) throw new ModelError(`an ID prompt of ${idPrompt.length - start} tokens is not a whole number of ${L}-token items`);
  const tuples: Int32Array[] = [];
  for (let p = start; p < idPrompt.length; p += L) {
    const codes = new Int32Array(L);
    for (let l = 0; l < L; l++) {
      const d = layout.decode(idPrompt[p + l]);
      if (!d || d.level !== l) throw new ModelError(`token ${idPrompt[p + l]} at prompt position ${p + l} is not a level-${l} ID token`);
      codes[l] = d.code;
    }
    tuples.push(codes);
  }
  return tuples;
}

/** Index rows of the item tuples of an ID prompt; a tuple not in the index is a ModelError. */
function promptRows(idPrompt: Int32Array, layout: TokenLayout, rowOfCodes: (codes: ArrayLike<number>) => number | undefined): number[] {
  return promptTuples(idPrompt, layout).map((codes) => {
    const r = rowOfCodes(codes);
    if (r === undefined || r < 0) throw new ModelError(`the prompt's item (${Array.from(codes).join(', ')}) is not in the index`);
    return r;
  });
}

/**
 * Read a fine-tuned model's tokenizer, titles and prompt spec (`read(name)`: a file of its model
 * directory, verified; `has(name)`: whether it exists) for serving `index`.
 */
export async function textModelParts(params: Record<string, unknown>, layout: TokenLayout, index: ItemIndex, files: ModelFiles): Promise<TextModelParts> {
  const base = params.base as BaseParams;
  if (!Number.isInteger(base.idStart) || base.idCount !== layout.vocabSize - NUM_SPECIAL) throw new ModelError(`params.base: idStart ${base.idStart} / idCount ${base.idCount} do not describe the ${layout.vocabSize - NUM_SPECIAL} ID tokens of the layout`);
  const spec: PromptSpec = promptSpec(params.prompt as Partial<PromptSpec>);
  const maxPromptTokens = params.maxPromptTokens as number;
  if (!Number.isInteger(maxPromptTokens) || maxPromptTokens < 1) throw new ModelError(`params.maxPromptTokens must be a positive integer, got ${JSON.stringify(maxPromptTokens)}`);
  const tok = new Tokenizer(JSON.parse(await files.read('tokenizer.json')), files.has('tokenizer_config.json') ? JSON.parse(await files.read('tokenizer_config.json')) : {});
  const { map } = layoutFromTokenizer(tok, layout.sizes);
  for (let t = NUM_SPECIAL; t < layout.vocabSize; t++) if (map[t] !== base.idStart + t - NUM_SPECIAL) throw new ModelError(`tokenizer.json puts ID token ${t - NUM_SPECIAL} at ${map[t]}, params.base says ${base.idStart + t - NUM_SPECIAL}`);
  const titles = files.has('titles.json') ? (JSON.parse(await files.read('titles.json')) as Record<string, string>) : {};
  const L = layout.levels;
  const enc = new PromptEncoder(spec, tok, (row) => ({ title: Object.hasOwn(titles, index.itemIds[row]) ? titles[index.itemIds[row]] : undefined, codes: index.codes.subarray(row * L, (row + 1) * L) }), maxPromptTokens, base.bosId !== undefined ? [base.bosId] : []);
  const out = new Int32Array(layout.vocabSize).fill(-1);
  const inp = new Int32Array(layout.vocabSize).fill(-1);
  for (let t = NUM_SPECIAL; t < layout.vocabSize; t++) {
    out[t] = t - NUM_SPECIAL;
    inp[t] = base.idStart + t - NUM_SPECIAL;
  }
  const textPrompt = (idPrompt: Int32Array) => enc.encode(promptRows(idPrompt, layout, (c) => index.rowOfCodes(c)));
  return {
    wrap: (inner) => new TextPromptStepModel(new RemappedStepModel(inner, out, inp), textPrompt) as StepModel<unknown>,
    prompt: (rows) => enc.encode(rows),
  };
}
