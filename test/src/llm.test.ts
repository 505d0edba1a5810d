/**
 * The llm block (trainer/llm.py: Llama-family decoder, here Qwen3-style with grouped-query
 * attention, 2 query heads over 1 key/value head) through semrec's whole generator path: trained
 * from scratch by `semrec train --arch llm`, exported to ONNX with tree attention, served by the
 * Recommender — against PyTorch: the same logits, and recommendations equal to a brute-force
 * ranking of every item's exact PyTorch log-probability (beam as wide as the catalogue, so the
 * search is exact), on the tree path and on a 2-D-mask per-beam export of the same weights.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenLayout, beamSearch } from '../../decoding/index.js';
import { loadIndex } from '../../quantizer/index.js';
import { candidateTrie } from '../../src/indexing/jobs.js';
import { Recommender } from '../../src/serving/recommender.js';
import { OnnxStepModel } from '../../src/serving/model/onnx-runner.js';
import { transformerDims } from '../../src/serving/model/kinds.js';
import { pythonPath, trainerRoot } from '../../src/training/python.js';
import { run } from './cli-helpers.js';
import { expectSameRankings } from './rankings.js';
import type { Dataset } from '../../src/data/store.js';
import { loadDataset } from '../../src/data/store.js';

let root: string;
let modelDir: string;
let indexDir: string;
let ds: Dataset;

function trainer(args: string[]): void {
  execFileSync(pythonPath(), ['-m', 'trainer', ...args], { cwd: trainerRoot(), env: { ...process.env, PYTHONPATH: trainerRoot() } });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-llm-'));
  const data = path.join(root, 'data');
  indexDir = path.join(root, 'index');
  modelDir = path.join(root, 'model');
  expect((await run(['data', 'synth', '--out', data, '--items', '100', '--users', '300', '--seed', '6'])).code).toBe(0);
  expect((await run(['index', 'build', '--items', data, '--scheme', 'rqkmeans:2x8', '--out', indexDir])).code).toBe(0);
  const r = await run(['train', '--data', data, '--index', indexDir, '--out', modelDir, '--arch', 'llm', '--heads', '2', '--kv-heads', '1', '--layers', '2', '--d-model', '32', '--epochs', '3', '--batch-size', '32', '--nproc', '1', '--threads', '1', '--seen', 'keep']);
  expect(r.code, r.err).toBe(0);
  ds = await loadDataset(data);
}, 240_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the llm block: trained from scratch, exported, served', () => {
  it('records the Hugging Face config of a Qwen3-style decoder with grouped-query attention', () => {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    expect(cfg.architecture).toBe('decoder');
    expect(cfg.params).toMatchObject({ block: 'llm', heads: 2, kvHeads: 1, headDim: 16, hf: { model_type: 'qwen3', num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, tie_word_embeddings: true } });
    expect(cfg.params.validLoss).toBeLessThan(Math.log(cfg.tokenLayout.vocabSize));
  });

  it('serves the exact top items of the PyTorch model (brute force over the catalogue), tree and per-beam', async () => {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    const layout = TokenLayout.fromSpec(cfg.tokenLayout);
    const index = await loadIndex(indexDir);
    const L = layout.levels;
    const rec = await Recommender.load(modelDir, indexDir, { warmup: 0 });
    const histories = ds.test.slice(0, 3).map((e) => e.history);
    const prompts = histories.map((h) => Array.from(rec.promptOf(h.map((id) => index.rowOf(id)!))));
    // every item's exact log-probability under PyTorch
    const candidates = Array.from({ length: index.size }, (_, r) => Array.from({ length: L }, (_, l) => layout.token(l, index.codes[r * L + l])));
    writeFileSync(path.join(root, 'score.json'), JSON.stringify({ prompts, candidates }));
    writeFileSync(path.join(root, 'trainer.json'), readFileSync(path.join(modelDir, 'trainer.json')));
    trainer(['score', '--config', path.join(root, 'trainer.json'), '--checkpoint', path.join(modelDir, 'checkpoint.pt'), '--input', path.join(root, 'score.json'), '--out', path.join(root, 'scores.json')]);
    const exact = JSON.parse(readFileSync(path.join(root, 'scores.json'), 'utf8')) as number[][];
    const want = exact.map((s) => s.map((score, row) => ({ itemId: index.itemIds[row], score })).sort((a, b) => b.score - a.score).slice(0, 10));
    const check = (got: { itemId: string; score: number }[], w: { itemId: string; score: number }[]) => {
      expect(got.map((g) => g.itemId)).toEqual(w.map((x) => x.itemId));
      got.forEach((g, i) => expect(Math.abs(g.score - w[i].score)).toBeLessThanOrEqual(1e-4));
    };
    // the tree path, as served (beam as wide as the catalogue: the search is exact)
    for (let i = 0; i < histories.length; i++) check((await rec.recommend(histories[i], { k: 10, beamWidth: index.size, excludeSeen: false })).items, want[i]);
    await rec.close();
    // the same weights exported the Hugging Face way (2-D mask, present.*): the per-beam path
    const causal = path.join(root, 'causal.onnx');
    trainer(['export', '--config', path.join(root, 'trainer.json'), '--checkpoint', path.join(modelDir, 'checkpoint.pt'), '--out', causal, '--mask', 'causal']);
    const perBeam = await OnnxStepModel.load(causal, transformerDims(cfg.params, layout.vocabSize));
    expect(perBeam.tree).toBe(false);
    const hits = await beamSearch(perBeam, candidateTrie(index), layout, prompts.map((p) => ({ prompt: Int32Array.from(p) })), { beamWidth: index.size, k: 10 });
    hits.forEach((h, i) => check(h.map((x) => ({ itemId: index.itemIds[x.row], score: x.score })), want[i]));
    await perBeam.close();
  }, 120_000);

  it('export-hf exports an llm-block model as itself (Qwen3 config, GQA): served per beam, it ranks like the native model', async () => {
    const out = path.join(root, 'hf');
    const x = await run(['export-hf', '--model', modelDir, '--out', out]);
    expect(x.code, x.err).toBe(0);
    const hfCfg = JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8'));
    expect(hfCfg).toMatchObject({ model_type: 'qwen3', num_attention_heads: 2, num_key_value_heads: 1, architectures: ['Qwen3ForCausalLM'] });
    const hf = await Recommender.load(out, indexDir);
    const native = await Recommender.load(modelDir, indexDir);
    await expectSameRankings(hf, native, ds.test.slice(0, 10).map((e) => e.history), { k: 5, excludeSeen: false });
  }, 120_000);
});
