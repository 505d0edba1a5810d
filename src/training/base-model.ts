/**
 * A Hugging Face checkpoint to fine-tune (`semrec train --base DIR`): `config.json` of a llama,
 * qwen2 or qwen3 model, its weights (`model.safetensors`, or shards named by
 * `model.safetensors.index.json`; F32 / F16 / BF16, read by the trainer) and `tokenizer.json`
 * (+ `tokenizer_config.json`).
 *
 * The semantic-ID tokens `<a_0>…<a_{K−1}>`, `<b_0>…` are appended to the tokenizer as added tokens,
 * contiguously after its last token, in the canonical order (level, then code) — so that the ID
 * token of canonical token t is `idStart + t − NUM_SPECIAL`, and the restricted output head is the
 * vocabulary rows [idStart, idStart + idCount). The tokenizer.json is rewritten here and loaded back
 * with @huggingface/tokenizers to check that every ID token encodes to its id.
 */
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { NUM_SPECIAL, type TokenLayout } from '../../decoding/index.js';
import { openRegular, readRegularText } from '../../quantizer/core/index.js';
import { FormatError, ModelError, NotFoundError } from '../errors.js';
import { layoutFromTokenizer } from '../serving/model/hf-model.js';
import { idToken, tupleTokens } from '../serving/model/tokenizer.js';

/** The model families `--base` reads (Hugging Face `model_type`). */
const BASE_FAMILIES = ['llama', 'qwen2', 'qwen3'] as const;

/** A checkpoint directory, read and checked. */
export interface BaseCheckpoint {
  dir: string;
  /** config.json as written. */
  config: Record<string, unknown>;
  modelType: (typeof BASE_FAMILIES)[number];
  tokenizer: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** The weight files (one, or the shards). */
  weights: string[];
}

async function jsonObject(file: string, what: string, optional = false): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readRegularText(file, { what });
  } catch (err) {
    if (optional && err instanceof NotFoundError) return undefined;
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new FormatError(file, 'not valid JSON');
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new FormatError(file, 'not a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Read a checkpoint directory. A model_type other than llama / qwen2 / qwen3 is a ModelError
 * naming the supported ones; missing files are NotFoundError naming them.
 */
export async function readBaseCheckpoint(dir: string): Promise<BaseCheckpoint> {
  const config = (await jsonObject(path.join(dir, 'config.json'), 'Hugging Face config (config.json)'))!;
  const mt = config.model_type;
  if (!BASE_FAMILIES.includes(mt as never)) throw new ModelError(`${path.join(dir, 'config.json')}: model_type ${JSON.stringify(mt)} is not supported; semrec fine-tunes ${BASE_FAMILIES.join(', ')}`);
  for (const k of ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads']) {
    if (!Number.isInteger(config[k]) || (config[k] as number) < 1) throw new FormatError(path.join(dir, 'config.json'), `${k} must be a positive integer, got ${JSON.stringify(config[k])}`);
  }
  const index = await jsonObject(path.join(dir, 'model.safetensors.index.json'), 'safetensors index', true);
  let weights: string[];
  if (index) {
    const map = index.weight_map;
    if (!map || typeof map !== 'object') throw new FormatError(path.join(dir, 'model.safetensors.index.json'), 'needs a weight_map object');
    weights = [...new Set(Object.values(map as Record<string, unknown>).map(String))].sort();
  } else weights = ['model.safetensors'];
  for (const w of weights) {
    if (w.includes('/') || w.includes('\\')) throw new FormatError(path.join(dir, 'model.safetensors.index.json'), `shard name ${JSON.stringify(w)} is not a file name`);
    // checked to be a regular file here (the trainer reads it)
    const { fh } = await openRegular(path.join(dir, w), { what: 'weights (safetensors)' });
    await fh.close();
  }
  const tokenizer = (await jsonObject(path.join(dir, 'tokenizer.json'), 'tokenizer (tokenizer.json)'))!;
  const tokenizerConfig = (await jsonObject(path.join(dir, 'tokenizer_config.json'), 'tokenizer_config.json', true)) ?? {};
  return { dir: path.resolve(dir), config, modelType: mt as BaseCheckpoint['modelType'], tokenizer, tokenizerConfig, weights };
}

/** The checkpoint's tokenizer with the ID tokens, and where they sit. */
export interface IdVocabulary {
  /** tokenizer.json with the ID tokens added. */
  tokenizerJson: Record<string, unknown>;
  tokenizer: Tokenizer;
  /** Id of `<a_0>`; the ID tokens are [idStart, idStart + idCount) in canonical order. */
  idStart: number;
  idCount: number;
  /** The vocabulary size of the fine-tuned model: the checkpoint's, grown when the ID tokens do not fit. */
  vocabSize: number;
  /** Tokens of the checkpoint's tokenizer: the rows whose mean initialises the ID rows. */
  tokenizerSize: number;
  /** Token id put before every prompt (the tokenizer's BOS when its config adds one), if any. */
  bosId?: number;
}

/** Number of tokens of a tokenizer.json: one past its largest id (model vocabulary and added tokens). */
function tokenizerSize(tj: Record<string, unknown>, file: string): number {
  const model = tj.model as { vocab?: unknown } | undefined;
  let next = 0;
  const vocab = model?.vocab;
  if (Array.isArray(vocab)) {
    next = vocab.length; // Unigram: [piece, score] pairs
  } else if (vocab && typeof vocab === 'object') {
    for (const v of Object.values(vocab)) if (typeof v === 'number' && v + 1 > next) next = v + 1;
  } else {
    throw new FormatError(file, 'has no model.vocab');
  }
  for (const t of (tj.added_tokens as { id?: unknown }[] | undefined) ?? []) if (typeof t.id === 'number' && t.id + 1 > next) next = t.id + 1;
  return next;
}

/**
 * Append the layout's ID tokens to the checkpoint's tokenizer (see the module doc) and check the
 * result with @huggingface/tokenizers: every ID token is one token of the expected id, and a
 * tuple written as text encodes to its ids. A tokenizer that already has such tokens is refused.
 */
export function addIdTokens(base: BaseCheckpoint, layout: TokenLayout): IdVocabulary {
  const file = path.join(base.dir, 'tokenizer.json');
  const tj = structuredClone(base.tokenizer);
  const added = ((tj.added_tokens as Record<string, unknown>[] | undefined) ?? []).slice();
  if (added.some((t) => typeof t.content === 'string' && /^<[a-z]_\d+>$/.test(t.content))) throw new ModelError(`${file} already has semantic-ID tokens (<a_0>, …): start from the checkpoint's own tokenizer`);
  const start = tokenizerSize(tj, file);
  const configVocab = base.config.vocab_size as number;
  if (start > configVocab) throw new ModelError(`${file} has ${start} tokens, more than the model's vocab_size ${configVocab}`);
  const idCount = layout.vocabSize - NUM_SPECIAL;
  let id = start;
  layout.sizes.forEach((k, l) => {
    for (let c = 0; c < k; c++) added.push({ id: id++, content: idToken(l, c), single_word: false, lstrip: false, rstrip: false, normalized: false, special: false });
  });
  tj.added_tokens = added;
  const tokenizer = new Tokenizer(tj, base.tokenizerConfig);
  const { map } = layoutFromTokenizer(tokenizer, layout.sizes);
  for (let t = NUM_SPECIAL; t < layout.vocabSize; t++) {
    if (map[t] !== start + t - NUM_SPECIAL) throw new ModelError(`the tokenizer gives ${JSON.stringify(tokenizer.id_to_token(map[t]))} id ${map[t]}, expected ${start + t - NUM_SPECIAL}`);
  }
  // a tuple written as text is its ID tokens (the added tokens are split out before the model's own rules)
  const codes = layout.sizes.map((k) => k - 1);
  const got = tokenizer.encode(tupleTokens(codes), { add_special_tokens: false }).ids;
  const want = codes.map((c, l) => start + layout.token(l, c) - NUM_SPECIAL);
  if (got.join() !== want.join()) throw new ModelError(`the tokenizer encodes ${tupleTokens(codes)} as [${got.join(', ')}], expected [${want.join(', ')}]`);
  const bos = base.tokenizerConfig.add_bos_token === true ? base.tokenizerConfig.bos_token : undefined;
  const bosText = typeof bos === 'string' ? bos : (bos as { content?: unknown } | undefined)?.content;
  const bosId = typeof bosText === 'string' ? tokenizer.token_to_id(bosText) : undefined;
  return { tokenizerJson: tj, tokenizer, idStart: start, idCount, vocabSize: Math.max(configVocab, start + idCount), tokenizerSize: start, ...(bosId !== undefined ? { bosId } : {}) };
}
