/**
 * The generative pipeline end to end from the CLI on synthetic data: collaborative-semantic IDs
 * (`index build --embed text+cf`), a fused model (`train --arch fused`: transformer + transition
 * model, weight chosen on validation), served by the Recommender as a whole and part by part.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { run } from './cli-helpers.js';
import { expectSameRankings } from './rankings.js';
import { loadDataset, type Dataset } from '../../src/data/store.js';
import { evaluateRecommender } from '../../src/eval/evaluate.js';
import { Recommender } from '../../src/serving/recommender.js';
import { InputError } from '../../src/errors.js';
import { OnnxStepModel } from '../../src/serving/model/onnx-runner.js';
import { pythonPath, trainerRoot } from '../../src/training/python.js';
import { resealArtifact } from '../../quantizer/core/index.js';
import type { FusionChoice } from '../../src/training/fusion.js';
import type { TransitionChoice } from '../../src/training/transition-select.js';
import { TRANSITION_FILE, decodeTransition } from '../../src/serving/model/transition-file.js';

let root: string;
let data: string;
let index: string;
let model: string;
let ds: Dataset;
let cfg: { architecture: string; params: Record<string, unknown> & { fusion: FusionChoice } };

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-fused-'));
  data = path.join(root, 'data');
  index = path.join(root, 'index');
  model = path.join(root, 'model');
  expect((await run(['data', 'synth', '--out', data, '--items', '150', '--users', '500', '--seed', '7'])).code).toBe(0);
  const b = await run(['index', 'build', '--items', data, '--data', data, '--embed', 'text+cf', '--scheme', 'rqkmeans:2x8', '--seed', '1', '--out', index]);
  expect(b.code, b.err).toBe(0);
  const t = await run(['train', '--data', data, '--index', index, '--out', model, '--layers', '2', '--d-model', '32', '--heads', '2', '--epochs', '4', '--batch-size', '32', '--seed', '1', '--nproc', '1', '--threads', '1', '--fusion-users', '100000']);
  expect(t.code, t.err).toBe(0);
  expect(t.err).toMatch(/← chosen/);
  expect(t.err).toMatch(/history items on \d+ validation users \(R@10 \/ N@10; 0\.0 % of targets repeat a history item\)/);
  cfg = JSON.parse(readFileSync(path.join(model, 'config.json'), 'utf8'));
  ds = await loadDataset(data);
}, 240_000);

describe('fused model (transformer + transition model) on collaborative-semantic IDs', () => {
  it('the index records its text+cf embeddings; the model directory holds both parts and the validation grid', async () => {
    const st = JSON.parse((await run(['index', 'stats', index])).out);
    expect(st.params.encoder).toMatch(/^tfidf-svd:\d+\+cf-ppmi-svd:\d+$/);
    expect(st.params.cfCovered).toBeGreaterThan(100);
    expect(cfg.architecture).toBe('fused');
    const f = cfg.params.fusion;
    expect(f.split).toBe('valid');
    expect(f.users).toBe(ds.valid.length); // the sample is the whole validation split here
    expect(f.grid.map((g) => g.weight)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    const best = Math.max(...f.grid.map((g) => g.recall10));
    expect(f.grid.find((g) => g.weight === f.weight)!.recall10).toBe(best);
    expect(cfg.params.transition).toMatchObject({ beta: 2 });
    expect(cfg.params.decayReason).toBe('epoch cap 4');
  });

  it('served by the Recommender, the fused model reproduces its validation figures and is at least as good as the better part', async () => {
    const f = cfg.params.fusion;
    const at = (w: number) => f.grid.find((g) => g.weight === w)!;
    const evalValid = async (opts: Parameters<typeof Recommender.load>[2]) => {
      const rec = await Recommender.load(model, index, opts);
      try {
        return { name: rec.modelName, r: await evaluateRecommender(rec, ds, { split: 'valid' }) };
      } finally {
        await rec.close();
      }
    };
    // the grid's figures keep history items
    const fused = await evalValid({ excludeSeen: false });
    const transformer = await evalValid({ part: 'transformer', excludeSeen: false });
    const transition = await evalValid({ part: 'transition', excludeSeen: false });
    // served by default, the model follows its seen-item policy, chosen on the same users
    const seen = cfg.params.seen as { exclude: boolean; users: number; keep: { recall10: number }; excluded: { recall10: number } };
    expect(seen.users).toBe(f.users);
    expect(seen.keep.recall10).toBeCloseTo(at(f.weight).recall10, 10);
    const byDefault = await evalValid({});
    expect(byDefault.r.model.recall[10]).toBeCloseTo(seen.exclude ? seen.excluded.recall10 : seen.keep.recall10, 10);
    expect(byDefault.r.model.recall[10]).toBeGreaterThanOrEqual(fused.r.model.recall[10]);
    expect(fused.name).toMatch(/^fused/);
    expect(transformer.name).toBe('transformer');
    expect(fused.r.model.recall[10]).toBeCloseTo(at(f.weight).recall10, 10);
    expect(transformer.r.model.recall[10]).toBeCloseTo(at(0).recall10, 10);
    expect(transition.r.model.recall[10]).toBeCloseTo(at(1).recall10, 10);
    expect(fused.r.model.recall[10]).toBeGreaterThanOrEqual(Math.max(transformer.r.model.recall[10], transition.r.model.recall[10]));
    expect(fused.r.model.recall[10]).toBeGreaterThan(fused.r.popularity.recall[10]);
    expect(fused.r.invalidRate).toBe(0);
  }, 120_000);

  it('the transition shape is chosen on validation (grid from first order up) and served as chosen', async () => {
    const sel = (cfg.params.transition as { selection: TransitionChoice }).selection;
    expect(sel.split).toBe('valid');
    expect(sel.users).toBe(ds.valid.length);
    expect(sel.grid[0]).toMatchObject({ window: 1, history: 1, decay: 1 });
    expect(sel.grid).toHaveLength(20);
    const best = sel.grid.reduce((a, b) => (b.recall10 > a.recall10 || (b.recall10 === a.recall10 && b.ndcg10 > a.ndcg10) ? b : a));
    expect({ window: sel.window, history: sel.history, decay: sel.decay }).toEqual({ window: best.window, history: best.history, decay: best.decay });
    expect(cfg.params.transition).toMatchObject({ window: sel.window, history: sel.history, decay: sel.decay, fittedOn: 'train' });
    const stored = decodeTransition(readFileSync(path.join(model, TRANSITION_FILE)), TRANSITION_FILE);
    expect(stored.window ?? 1).toBe(sel.window);
    // the transition part alone reproduces the chosen grid point on the same users
    const rec = await Recommender.load(model, index, { part: 'transition', excludeSeen: false });
    try {
      expect((await evaluateRecommender(rec, ds, { split: 'valid' })).model.recall[10]).toBeCloseTo(best.recall10, 10);
    } finally {
      await rec.close();
    }
  }, 120_000);

  it('--transformer-from reuses a trained transformer: same transformer, refitted transition part, weight chosen again', async () => {
    const refit = path.join(root, 'refit');
    const t = await run(['train', '--data', data, '--index', index, '--out', refit, '--transformer-from', model, '--transition-shape', '1:1:1', '--fusion-users', '100000']);
    expect(t.code, t.err).toBe(0);
    expect(t.err).not.toMatch(/transition shape on/);
    const c2 = JSON.parse(readFileSync(path.join(refit, 'config.json'), 'utf8'));
    expect(c2.architecture).toBe('fused');
    expect(c2.params).toMatchObject({ transformerFrom: model, bestEpoch: cfg.params.bestEpoch, transition: { window: 1, history: 1, decay: 1 } });
    expect(c2.params.transition.selection).toBeUndefined();
    expect(readFileSync(path.join(refit, 'model.onnx'))).toEqual(readFileSync(path.join(model, 'model.onnx')));
    expect(decodeTransition(readFileSync(path.join(refit, TRANSITION_FILE)), TRANSITION_FILE)).not.toHaveProperty('window');
    expect(c2.params.fusion.grid.find((g: { weight: number }) => g.weight === 0).recall10).toBe(cfg.params.fusion.grid.find((g) => g.weight === 0)!.recall10);
    const h = ds.test[3].history;
    const [a, b] = [await Recommender.load(model, index, { part: 'transformer' }), await Recommender.load(refit, index, { part: 'transformer' })];
    try {
      expect((await b.recommend(h)).items).toEqual((await a.recommend(h)).items);
    } finally {
      await a.close();
      await b.close();
    }
    expect(c2.params.reexported).toBeUndefined(); // already a tree-attention graph
    // a transformer exported before tree attention (2-D mask) is re-exported from its checkpoint
    const old = path.join(root, 'old-export');
    cpSync(model, old, { recursive: true });
    execFileSync(pythonPath(), ['-m', 'trainer', 'export', '--config', path.join(old, 'trainer.json'), '--checkpoint', path.join(old, 'checkpoint.pt'), '--out', path.join(old, 'model.onnx'), '--mask', 'causal'], { cwd: trainerRoot(), env: { ...process.env, PYTHONPATH: trainerRoot() } });
    await resealArtifact(old);
    const dims = { vocabSize: cfg.params.vocabSize as number, layers: cfg.params.layers as number, heads: cfg.params.heads as number, headDim: cfg.params.headDim as number };
    const before = await OnnxStepModel.load(path.join(old, 'model.onnx'), dims);
    expect(before.mask3d).toBe(false);
    await before.close();
    const up = path.join(root, 'upgraded');
    const t2 = await run(['train', '--data', data, '--index', index, '--out', up, '--transformer-from', old, '--transition-shape', '1:1:1', '--fusion-users', '100000']);
    expect(t2.code, t2.err).toBe(0);
    expect(JSON.parse(readFileSync(path.join(up, 'config.json'), 'utf8')).params.reexported).toMatch(/tree attention/);
    const after = await OnnxStepModel.load(path.join(up, 'model.onnx'), dims);
    expect(after.mask3d && after.tree).toBe(true);
    await after.close();
    const [o, u] = [await Recommender.load(old, index, { part: 'transformer' }), await Recommender.load(up, index, { part: 'transformer' })];
    try {
      const x = (await o.recommend(h, { excludeSeen: false })).items;
      const y = (await u.recommend(h, { excludeSeen: false })).items;
      expect(y.map((i) => i.itemId)).toEqual(x.map((i) => i.itemId));
      y.forEach((it, i) => expect(Math.abs(it.score - x[i].score)).toBeLessThanOrEqual(1e-4));
    } finally {
      await o.close();
      await u.close();
    }
    const noKind = await run(['train', '--data', data, '--index', index, '--out', path.join(root, 'x1'), '--arch', 'transition', '--transformer-from', model]);
    expect(noKind.code).toBe(2);
    expect(noKind.err).toMatch(/transformerFrom is for fused models/);
    const badShape = await run(['train', '--data', data, '--index', index, '--out', path.join(root, 'x2'), '--arch', 'transition', '--transition-shape', '0:1:1']);
    expect(badShape.code).toBe(2);
    expect(badShape.err).toMatch(/WINDOW:HISTORY:DECAY.*\[--transition-shape\]/);
  }, 240_000);

  it('recommend and eval take --part / --fusion-weight; eval --limit is a seeded random sample, printed as such', async () => {
    const h = ds.test[0].history.join(',');
    const a = await run(['recommend', '--model', model, '--history', h, '--json', '--fusion-weight', '0.5']);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out).items).toHaveLength(10);
    const bad = await run(['recommend', '--model', model, '--history', h, '--part', 'gpt']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/part must be fused, transformer or transition/);
    const e1 = await run(['eval', '--model', model, '--data', data, '--limit', '50', '--sample-seed', '3', '--json']);
    const e2 = await run(['eval', '--model', model, '--data', data, '--limit', '50', '--sample-seed', '3', '--json']);
    const r1 = JSON.parse(e1.out);
    expect(r1).toMatchObject({ users: 50, ofUsers: ds.test.length, sampleSeed: 3 });
    expect(JSON.parse(e2.out).model).toEqual(r1.model);
    const text = await run(['eval', '--model', model, '--data', data, '--limit', '50', '--part', 'transition']);
    expect(text.out).toMatch(new RegExp(`50 of ${ds.test.length} users \\(seeded random sample, seed 0\\)`));
    await expect(Recommender.load(model, index, { fusionWeight: 1.5 })).rejects.toThrow(/must be a number in \[0, 1\]/);
    const trans = path.join(root, 'transition');
    expect((await run(['train', '--data', data, '--index', index, '--out', trans, '--arch', 'transition'])).code).toBe(0);
    await expect(Recommender.load(trans, index, { part: 'transformer' })).rejects.toThrow(InputError);
  }, 120_000);

  it('export-hf of a fused model exports its transformer: served, it ranks like the transformer part', async () => {
    const out = path.join(root, 'hf');
    const x = await run(['export-hf', '--model', model, '--out', out]);
    expect(x.code, x.err).toBe(0);
    const hf = await Recommender.load(out, index);
    const tf = await Recommender.load(model, index, { part: 'transformer' });
    await expectSameRankings(hf, tf, ds.test.slice(0, 10).map((e) => e.history), { k: 5 });
  }, 120_000);
});
