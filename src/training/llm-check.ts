/**
 * `semrec llm check --base DIR --data D`: does semrec read this checkpoint faithfully? No
 * pretrained weights can be downloaded here, so the check is the one a user with a real checkpoint
 * runs first: the base model's perplexity on the dataset's item titles (a seeded random sample),
 * computed by the trainer's own Llama-family implementation, and the round trip of the ID tokens
 * through the extended tokenizer.
 *
 * A real pretrained model reads English product titles with a perplexity in the tens to low
 * hundreds (terse text, brand names); a model of random weights gives about its vocabulary size,
 * and a wrong convention (rotary layout, norm epsilon, head order) gives thousands. The verdict is
 * `plausible` below min({@link PLAUSIBLE_PERPLEXITY}, vocabulary / 10) — a tenth of the
 * vocabulary, so that a small vocabulary's near-uniform model is not called plausible —
 * `suspicious` above.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { TokenLayout } from '../../decoding/index.js';
import { loadDataset } from '../data/store.js';
import { seededSample } from '../eval/sample.js';
import { InputError } from '../errors.js';
import { cleanTitle } from '../serving/model/prompt.js';
import { makeScratch } from '../util/scratch.js';
import { addIdTokens, readBaseCheckpoint } from './base-model.js';
import { runTrainer } from './python.js';

/** Perplexity above which the verdict is `suspicious` (a real model on titles: tens to low hundreds). */
const PLAUSIBLE_PERPLEXITY = 1000;

/** Options of {@link llmCheck}. */
export interface LlmCheckOptions {
  /** The checkpoint directory. */
  base: string;
  /** Dataset directory (its items' titles are scored). */
  data: string;
  /** Codebook sizes of the ID tokens tried in the round trip (default 256, 256, 256). */
  sizes?: number[];
  /** Titles scored (seeded random sample; default 500). */
  titles?: number;
  seed?: number;
}

/** What {@link llmCheck} reports. */
export interface LlmCheckReport {
  base: string;
  modelType: string;
  perplexity: number;
  /** Tokens predicted (each title from its second token on). */
  tokens: number;
  titles: number;
  seed: number;
  verdict: 'plausible' | 'suspicious';
  /** The perplexity below which the verdict is plausible. */
  threshold: number;
  /** The ID tokens' place after the tokenizer, and the vocabulary before / after. */
  idStart: number;
  idCount: number;
  vocabBefore: number;
  vocabAfter: number;
  /** Every ID token encodes to its own id and a tuple's text to its ids (else the check throws). */
  roundTrip: true;
  seconds: number;
}

/** Run the check (see the module doc). */
export async function llmCheck(opts: LlmCheckOptions): Promise<LlmCheckReport> {
  const t0 = Date.now();
  const n = opts.titles ?? 500;
  if (!Number.isInteger(n) || n < 1) throw new InputError(`titles must be a positive integer, got ${n}`, { param: 'titles' });
  const seed = opts.seed ?? 0;
  const ckpt = await readBaseCheckpoint(opts.base);
  const ds = await loadDataset(opts.data);
  const vocab = addIdTokens(ckpt, new TokenLayout(opts.sizes ?? [256, 256, 256]));
  const titled = ds.items.filter((it) => it.title.trim());
  if (!titled.length) throw new InputError(`no item of ${opts.data} has a title`, { param: 'data' });
  const sample = seededSample(titled, n, seed);
  const prefix = vocab.bosId !== undefined ? [vocab.bosId] : [];
  const seqs = sample.map((it) => [...prefix, ...vocab.tokenizer.encode(cleanTitle(it.title, 64), { add_special_tokens: false }).ids]);
  const work = await makeScratch('semrec-llm-check');
  try {
    const input = path.join(work, 'titles.json');
    const cfg = path.join(work, 'check.json');
    await fs.writeFile(input, JSON.stringify(seqs));
    await fs.writeFile(cfg, JSON.stringify({ base: ckpt.dir }));
    const events = await runTrainer(['perplexity', '--config', cfg, '--input', input], () => {});
    const done = events.find((e) => e.event === 'perplexity') as { perplexity: number; tokens: number } | undefined;
    if (!done) throw new InputError('the trainer reported no perplexity');
    const threshold = Math.min(PLAUSIBLE_PERPLEXITY, (ckpt.config.vocab_size as number) / 10);
    return {
      base: ckpt.dir,
      modelType: ckpt.modelType,
      perplexity: done.perplexity,
      tokens: done.tokens,
      titles: sample.length,
      seed,
      verdict: done.perplexity < threshold ? 'plausible' : 'suspicious',
      threshold,
      idStart: vocab.idStart,
      idCount: vocab.idCount,
      vocabBefore: ckpt.config.vocab_size as number,
      vocabAfter: vocab.vocabSize,
      roundTrip: true,
      seconds: (Date.now() - t0) / 1000,
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
