/**
 * Serving a causal LM fine-tuned elsewhere (Hugging Face GPT-2 / Llama / Qwen2 exported by Optimum
 * with `--task text-generation-with-past`) whose tokenizer has the semantic-ID tokens `<a_12>`,
 * `<b_3>`, … as added tokens.
 *
 * Directory layout (Optimum's, plus one file of ours):
 * - `config.json` — the Hugging Face model config (model_type, layer/head counts, vocab_size);
 * - `model.onnx` — inputs input_ids, attention_mask, [position_ids], past_key_values.{i}.key|value;
 *   outputs logits, present.{i}.key|value;
 * - `tokenizer.json` + `tokenizer_config.json` — loaded with @huggingface/tokenizers; the token
 *   layout (levels, codebook sizes, where each ID token sits in the vocabulary) is read from them;
 * - `semrec.json` — the index hash the model was fine-tuned on and the prompt template
 *   (`{history}` is replaced by the history's ID tokens).
 *
 * Beam search runs in the canonical layout through a {@link RemappedStepModel}, so scores are the
 * model's joint log-probabilities over its whole vocabulary.
 */
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { NUM_SPECIAL, RemappedStepModel, TokenLayout, type StepModel } from '../../../decoding/index.js';
import { openUnverified, type FileSource } from '../../../quantizer/core/index.js';
import { ModelError, NotFoundError, SemrecError } from '../../errors.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, resolveFrom, type ModelConfig } from './model-dir.js';
import { OnnxStepModel } from './onnx-runner.js';
import { idToken } from './tokenizer.js';

/** Format name of `semrec.json`. */
export const HF_SERVING_FORMAT = 'semrec-hf-serving';
/** The file that marks a Hugging Face-layout model directory. */
export const HF_SERVING_FILE = 'semrec.json';

/** Contents of `semrec.json`. */
export interface HfServingConfig {
  format: typeof HF_SERVING_FORMAT;
  formatVersion: 1;
  /** {@link ItemIndex.hash} of the index whose IDs the model was fine-tuned on. */
  indexHash: string;
  /** Prompt text; `{history}` is replaced by the history items' ID tokens. */
  promptTemplate: string;
  /** Text between two items' token groups (default ''). */
  itemSeparator?: string;
  /** History items kept in the prompt (most recent; default 20). */
  maxHistory?: number;
  /** Index directory and dataset directory (optional defaults for serving and titles). */
  indexDir?: string;
  dataDir?: string;
  /** Exclude history items unless a request says otherwise (default false; export-hf copies the source model's policy). */
  excludeSeen?: boolean;
}

/** Shapes the runner needs, read from a Hugging Face config.json. */
export interface HfDims {
  modelType: string;
  layers: number;
  /** Key/value heads (fewer than attention heads under grouped-query attention). */
  kvHeads: number;
  headDim: number;
  vocabSize: number;
  /** Longest sequence the model takes (n_positions / max_position_embeddings), if stated. */
  maxPositions?: number;
}

/** Read layer/head/vocab sizes from a GPT-2-, Llama- or Qwen2-style config. */
export function hfDims(c: Record<string, unknown>, file = 'config.json'): HfDims {
  const num = (...keys: string[]) => {
    for (const k of keys) if (typeof c[k] === 'number') return c[k];
    return undefined;
  };
  const layers = num('num_hidden_layers', 'n_layer');
  const heads = num('num_attention_heads', 'n_head');
  const hidden = num('hidden_size', 'n_embd');
  const vocabSize = num('vocab_size');
  if (!layers || !heads || !vocabSize || (!hidden && !num('head_dim'))) {
    throw new ModelError(`${file}: not a Hugging Face causal-LM config (need num_hidden_layers|n_layer, num_attention_heads|n_head, hidden_size|n_embd, vocab_size)`);
  }
  const headDim = num('head_dim') ?? hidden! / heads;
  if (!Number.isInteger(headDim)) throw new ModelError(`${file}: hidden size ${hidden} is not divisible by ${heads} heads`);
  const dims: HfDims = { modelType: typeof c.model_type === 'string' ? c.model_type : 'unknown', layers, kvHeads: num('num_key_value_heads') ?? heads, headDim, vocabSize };
  const maxPositions = num('n_positions', 'max_position_embeddings');
  if (maxPositions) dims.maxPositions = maxPositions;
  return dims;
}

/** Token layout found in a tokenizer, and where each canonical token sits in its vocabulary. */
export interface TokenizerLayout {
  layout: TokenLayout;
  /** Canonical token id → tokenizer id (−1 for the canonical specials, which are never decoded). */
  map: Int32Array;
}

/**
 * Read the semantic-ID token layout from a tokenizer: tokens `<a_0>…` are level 0, `<b_0>…` level
 * 1, and so on; each level's codes must be exactly 0..K−1.
 */
export function layoutFromTokenizer(tok: Tokenizer, expectedSizes?: readonly number[]): TokenizerLayout {
  const found: Map<number, number>[] = [];
  for (const [id, t] of tok.get_added_tokens_decoder()) {
    const m = /^<([a-z])_(\d+)>$/.exec(t.content);
    if (!m) continue;
    const level = m[1].charCodeAt(0) - 97;
    (found[level] ??= new Map()).set(Number(m[2]), id);
  }
  if (!found.length) throw new ModelError('the tokenizer has no semantic-ID tokens (added tokens like <a_0>, <b_0>, …)');
  const sizes = Array.from(found, (codes, l) => {
    if (!codes) throw new ModelError(`the tokenizer has ID tokens for level ${String.fromCharCode(97 + l + 1)} but none for level ${String.fromCharCode(97 + l)}`);
    for (let c = 0; c < codes.size; c++) if (!codes.has(c)) throw new ModelError(`the tokenizer lacks ${idToken(l, c)} (level ${l} has ${codes.size} tokens, codes must be 0..${codes.size - 1})`);
    return codes.size;
  });
  if (expectedSizes && sizes.join() !== expectedSizes.join()) {
    throw new ModelError(`the tokenizer's ID tokens give codebook sizes [${sizes.join(', ')}], the index has [${expectedSizes.join(', ')}]`);
  }
  const layout = new TokenLayout(sizes);
  const map = new Int32Array(layout.vocabSize).fill(-1);
  sizes.forEach((k, l) => {
    for (let c = 0; c < k; c++) map[layout.token(l, c)] = found[l].get(c)!;
  });
  return { layout, map };
}

/** Prompt text for a history given as code tuples (oldest first). */
export function promptText(cfg: Pick<HfServingConfig, 'promptTemplate' | 'itemSeparator'>, tuples: readonly ArrayLike<number>[]): string {
  const history = tuples.map((codes) => Array.from(codes, (c, l) => idToken(l, c)).join('')).join(cfg.itemSeparator ?? '');
  return cfg.promptTemplate.split('{history}').join(history);
}

/** A JSON object file of `files` (NotFoundError when absent, ModelError when not a JSON object). */
async function jsonOf(files: FileSource, name: string, what: string): Promise<Record<string, unknown>> {
  const file = path.join(files.dir, name);
  if (!files.has(name)) throw new NotFoundError(file, what);
  let v: unknown;
  try {
    v = JSON.parse(await files.text(name));
  } catch (err) {
    if (err instanceof SemrecError) throw err;
    throw new ModelError(`${file}: not valid JSON`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new ModelError(`${file}: not a JSON object`);
  return v as Record<string, unknown>;
}

/** Read and check `semrec.json`. */
export async function readHfServingConfig(src: string | FileSource, base?: string): Promise<HfServingConfig> {
  const files = typeof src === 'string' ? await openUnverified(src) : src;
  base ??= files.dir;
  const file = path.join(files.dir, HF_SERVING_FILE);
  const c = (await jsonOf(files, HF_SERVING_FILE, 'serving config (semrec.json)')) as unknown as HfServingConfig;
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw new ModelError(`${file}: not a JSON object`);
  if (c.format !== HF_SERVING_FORMAT) throw new ModelError(`${file}: format must be ${JSON.stringify(HF_SERVING_FORMAT)}`);
  if (c.formatVersion !== 1) throw new ModelError(`${file}: version ${String(c.formatVersion)} is not supported`);
  if (typeof c.indexHash !== 'string' || typeof c.promptTemplate !== 'string') throw new ModelError(`${file}: needs indexHash and promptTemplate`);
  if (c.excludeSeen !== undefined && typeof c.excludeSeen !== 'boolean') throw new ModelError(`${file}: excludeSeen must be true or false, got ${JSON.stringify(c.excludeSeen)}`);
  if (!c.promptTemplate.includes('{history}')) throw new ModelError(`${file}: promptTemplate must contain {history}`);
  return { ...c, indexDir: resolveFrom(base, c.indexDir), dataDir: resolveFrom(base, c.dataDir) };
}

/** A loaded Hugging Face-layout model: the step model in canonical tokens and its prompt builder. */
export interface HfModel {
  config: ModelConfig;
  model: StepModel<unknown>;
  /** Prompt token ids (the model's own vocabulary) for a history of code tuples. */
  prompt(tuples: readonly ArrayLike<number>[]): Int32Array;
  /** Release the onnxruntime session. */
  close(): Promise<void>;
}

/**
 * Load a Hugging Face-layout model directory for an index with the given codebook sizes
 * (`opts.serving`: its already-read `semrec.json`, to avoid reading it twice).
 */
export async function loadHfModel(src: string | FileSource, codebookSizes: readonly number[], opts: { threads?: number; serving?: HfServingConfig } = {}): Promise<HfModel> {
  const files = typeof src === 'string' ? await openUnverified(src) : src;
  const dir = files.dir;
  const serving = opts.serving ?? (await readHfServingConfig(files));
  const configFile = path.join(dir, 'config.json');
  const dims = hfDims(await jsonOf(files, 'config.json', 'Hugging Face config (config.json)'), configFile);
  const tokCfg = files.has('tokenizer_config.json') ? await jsonOf(files, 'tokenizer_config.json', 'tokenizer_config.json') : {};
  const tok = new Tokenizer(await jsonOf(files, 'tokenizer.json', 'tokenizer (tokenizer.json)'), tokCfg);
  const { layout, map } = layoutFromTokenizer(tok, codebookSizes);
  const padId = typeof tokCfg.pad_token === 'string' ? tok.token_to_id(tokCfg.pad_token) : undefined;
  if (!files.has('model.onnx')) throw new NotFoundError(path.join(dir, 'model.onnx'), 'model graph (model.onnx)');
  const inner = await OnnxStepModel.load(await files.read('model.onnx'), { vocabSize: dims.vocabSize, layers: dims.layers, heads: dims.kvHeads, headDim: dims.headDim }, { threads: opts.threads, padId: padId ?? 0, label: path.join(dir, 'model.onnx') });
  const model = new RemappedStepModel(inner, map) as StepModel<unknown>;
  const config: ModelConfig = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    architecture: 'hf-causal-lm',
    indexHash: serving.indexHash,
    tokenLayout: layout.spec(),
    maxHistory: serving.maxHistory ?? 20,
    dataDir: serving.dataDir,
    indexDir: serving.indexDir,
    params: { ...dims, promptTemplate: serving.promptTemplate, itemSeparator: serving.itemSeparator ?? '', idTokens: layout.vocabSize - NUM_SPECIAL },
  };
  const limit = (dims.maxPositions ?? Infinity) - layout.levels;
  return {
    config,
    model,
    close: () => inner.close(),
    // the oldest items are dropped until prompt + generated tuple fit the model's positions
    prompt: (tuples) => {
      for (let s = 0; s < tuples.length; s++) {
        const ids = tok.encode(promptText(serving, tuples.slice(s)), { add_special_tokens: false }).ids;
        if (ids.length <= limit) return Int32Array.from(ids);
      }
      throw new ModelError(`the prompt template with one history item does not fit the model's ${dims.maxPositions} positions`);
    },
  };
}
