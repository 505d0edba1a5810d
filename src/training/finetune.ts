/**
 * Fine-tuning a Hugging Face checkpoint as the generator (`semrec train --base DIR`): the ID tokens
 * are added to its tokenizer (base-model.ts), every training target becomes one example — the
 * text prompt of the items before it (serving/model/prompt.ts, the same encoder serving uses) and
 * its ID tokens — and the trainer fine-tunes the checkpoint in full or with LoRA
 * (trainer/finetune.py), scoring ID targets with the head restricted to the ID tokens.
 */
import type { TokenLayout } from '../../decoding/index.js';
import { NUM_SPECIAL } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import { InputError } from '../errors.js';
import { PromptEncoder, cleanTitle, promptSpec, usesTitles, type PromptSpec } from '../serving/model/prompt.js';
import { tupleTokens } from '../serving/model/tokenizer.js';
import type { BaseParams } from '../serving/model/text-model.js';
import { addIdTokens, readBaseCheckpoint } from './base-model.js';

/** Fine-tuning settings (the `base` options of `semrec train`). */
export interface FineTuneOptions {
  /** The checkpoint directory (config.json, safetensors, tokenizer.json). */
  base: string;
  /** LoRA rank; 0 (default) fine-tunes every weight. */
  lora?: number;
  /** LoRA scale numerator (default 2 × rank). */
  loraAlpha?: number;
  /** How a history is written (default {@link DEFAULT_PROMPT}). */
  prompt?: Partial<PromptSpec>;
  /** Longest prompt in tokens (default min(512, the model's positions − levels)). */
  maxPromptTokens?: number;
  /**
   * Training tasks (default `seqrec`): `seqrec` — the next item's IDs after the history's prompt;
   * the alignment tasks of LC-Rec, one example per titled item of the index each: `title2id` —
   * {@link TITLE2ID_PROMPT} then the item's ID tokens; `id2title` — {@link ID2TITLE_PROMPT} then its
   * title (and the tokenizer's EOS), the loss on the whole head. Validation is always `seqrec`.
   */
  tasks?: readonly FineTuneTask[];
}

/** Training tasks of a fine-tune. */
export type FineTuneTask = 'seqrec' | 'title2id' | 'id2title';
/** The tasks `--tasks` accepts. */
const FINETUNE_TASKS: readonly FineTuneTask[] = ['seqrec', 'title2id', 'id2title'];
/** Prompt of the title → ID task (`{title}`: the item's title as prompts write it). */
const TITLE2ID_PROMPT = 'Item: {title}. ID:';
/** Prompt of the ID → title task (`{ids}`: the item's ID tokens); the target is ` ` + the title. */
const ID2TITLE_PROMPT = 'Item {ids} is titled:';

/** What the trainer gets for a fine-tune, and what the model directory records. */
export interface FineTunePlan {
  /** Examples (prompt + target tokens) and how many trailing tokens are the target. */
  train: { seqs: number[][]; targets: number[] };
  valid: { seqs: number[][]; targets: number[] };
  /** The trainer config's `model` section. */
  model: Record<string, unknown>;
  /** Vocabulary of the fine-tuned model (the checkpoint's, grown by the ID tokens if needed). */
  vocabSize: number;
  /** Model directory params (merged into config.params). */
  params: Record<string, unknown>;
  /** Files of the model directory besides the graph and checkpoint. */
  files: Record<string, string>;
}

/** Read the checkpoint, extend its tokenizer and write every example's tokens. */
export async function planFineTune(ds: Dataset, index: ItemIndex, layout: TokenLayout, maxHistory: number, opts: FineTuneOptions): Promise<FineTunePlan> {
  const lora = opts.lora ?? 0;
  if (!Number.isInteger(lora) || lora < 0) throw new InputError(`lora must be a non-negative integer rank, got ${lora}`, { param: 'lora' });
  const loraAlpha = opts.loraAlpha ?? 2 * lora;
  if (lora > 0 && !(loraAlpha > 0)) throw new InputError(`loraAlpha must be positive, got ${loraAlpha}`, { param: 'loraAlpha' });
  const spec = promptSpec(opts.prompt);
  const tasks = opts.tasks ?? ['seqrec'];
  if (!tasks.length || tasks.some((t) => !FINETUNE_TASKS.includes(t))) throw new InputError(`tasks must be a non-empty list of ${FINETUNE_TASKS.join(', ')}, got ${JSON.stringify(tasks)}`, { param: 'tasks' });
  const ckpt = await readBaseCheckpoint(opts.base);
  const vocab = addIdTokens(ckpt, layout);
  const L = layout.levels;
  const positions = typeof ckpt.config.max_position_embeddings === 'number' ? ckpt.config.max_position_embeddings : 2048;
  const maxPromptTokens = opts.maxPromptTokens ?? Math.min(512, positions - L);
  if (!Number.isInteger(maxPromptTokens) || maxPromptTokens < 1 || maxPromptTokens + L > positions) throw new InputError(`maxPromptTokens must be an integer in [1, ${positions - L}] (the model's ${positions} positions less one item), got ${maxPromptTokens}`, { param: 'maxPromptTokens' });
  const titles = new Map(ds.items.map((it) => [it.id, it.title]));
  const enc = new PromptEncoder(spec, vocab.tokenizer, (row) => ({ title: titles.get(index.itemIds[row]), codes: index.codes.subarray(row * L, (row + 1) * L) }), maxPromptTokens, vocab.bosId !== undefined ? [vocab.bosId] : []);
  const target = (row: number) => Array.from({ length: L }, (_, l) => vocab.idStart + layout.token(l, index.codes[row * L + l]) - NUM_SPECIAL);
  const example = (history: readonly number[], row: number) => [...enc.encode(history.slice(-maxHistory)), ...target(row)];
  const train: FineTunePlan['train'] = { seqs: [], targets: [] };
  if (tasks.includes('seqrec')) for (const s of ds.train) {
    const rows = s.items.map((id) => index.rowOf(id)).filter((r): r is number => r !== undefined);
    for (let t = 1; t < rows.length; t++) {
      train.seqs.push(example(rows.slice(Math.max(0, t - maxHistory), t), rows[t]));
      train.targets.push(L);
    }
  }
  const counts = { seqrec: train.seqs.length, title2id: 0, id2title: 0 };
  // the alignment tasks (LC-Rec): every titled item of the index, title → IDs and IDs → title
  const bos = vocab.bosId !== undefined ? [vocab.bosId] : [];
  const encode = (text: string) => vocab.tokenizer.encode(text, { add_special_tokens: false }).ids;
  const eosText = typeof ckpt.tokenizerConfig.eos_token === 'string' ? ckpt.tokenizerConfig.eos_token : (ckpt.tokenizerConfig.eos_token as { content?: string } | undefined)?.content;
  const eos = eosText !== undefined ? vocab.tokenizer.token_to_id(eosText) : undefined;
  for (let row = 0; row < index.size; row++) {
    const title = cleanTitle(titles.get(index.itemIds[row]) ?? '', spec.titleWords);
    if (!title) continue;
    if (tasks.includes('title2id')) {
      train.seqs.push([...bos, ...encode(TITLE2ID_PROMPT.replace('{title}', title)), ...target(row)]);
      train.targets.push(L);
      counts.title2id++;
    }
    if (tasks.includes('id2title')) {
      const text = [...encode(' ' + title), ...(eos !== undefined ? [eos] : [])];
      train.seqs.push([...bos, ...encode(ID2TITLE_PROMPT.replace('{ids}', tupleTokens(index.codes.subarray(row * L, (row + 1) * L)))), ...text]);
      train.targets.push(text.length);
      counts.id2title++;
    }
  }
  const valid: FineTunePlan['valid'] = { seqs: [], targets: [] };
  for (const e of ds.valid) {
    const t = index.rowOf(e.target);
    const h = e.history.map((id) => index.rowOf(id)).filter((r): r is number => r !== undefined);
    if (t === undefined || !h.length) continue;
    valid.seqs.push(example(h, t));
    valid.targets.push(L);
  }
  if (!train.seqs.length) throw new InputError('no training sequence has two items known to the index');
  if (!valid.seqs.length) throw new InputError('no validation example is usable with this index');
  const hf = { ...ckpt.config, vocab_size: vocab.vocabSize };
  const base: BaseParams = {
    dir: ckpt.dir,
    modelType: ckpt.modelType,
    idStart: vocab.idStart,
    idCount: vocab.idCount,
    lora,
    ...(lora > 0 ? { loraAlpha } : {}),
    vocabBefore: ckpt.config.vocab_size as number,
    tokenizerSize: vocab.tokenizerSize,
    ...(vocab.bosId !== undefined ? { bosId: vocab.bosId } : {}),
  };
  const files: Record<string, string> = {
    'tokenizer.json': JSON.stringify(vocab.tokenizerJson),
    'tokenizer_config.json': JSON.stringify(ckpt.tokenizerConfig, null, 2),
  };
  if (usesTitles(spec)) files['titles.json'] = JSON.stringify(Object.fromEntries(index.itemIds.filter((id) => titles.get(id)).map((id) => [id, titles.get(id)!])));
  const heads = ckpt.config.num_attention_heads as number;
  const hidden = ckpt.config.hidden_size as number;
  return {
    train,
    valid,
    vocabSize: vocab.vocabSize,
    model: {
      block: 'llm',
      hf,
      dropout: 0,
      max_positions: positions,
      id_rows: [vocab.idStart, vocab.idCount],
      base: { dir: ckpt.dir, init_rows: vocab.tokenizerSize, lora_r: lora, lora_alpha: loraAlpha },
    },
    params: {
      block: 'llm',
      layers: ckpt.config.num_hidden_layers,
      dModel: hidden,
      heads,
      kvHeads: (ckpt.config.num_key_value_heads as number | undefined) ?? heads,
      headDim: (ckpt.config.head_dim as number | undefined) ?? hidden / heads,
      dFF: ckpt.config.intermediate_size,
      maxPositions: positions,
      vocabSize: vocab.vocabSize,
      hf,
      base,
      prompt: spec,
      maxPromptTokens,
      tasks: { names: [...tasks], examples: counts },
    },
    files,
  };
}
