import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { synthesize } from '../../src/data/synth.js';
import { prepare } from '../../src/data/split.js';
import { loadDataset, writeDataset } from '../../src/data/store.js';
import { buildIndexJob } from '../../src/indexing/jobs.js';
import { trainModel } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { TransitionStepModel, fitTransition } from '../../src/serving/model/transition.js';
import { evaluateRecommender } from '../../src/eval/evaluate.js';
import { PrefixTrie, TokenLayout, beamSearch, beamSearchesRun } from '../../decoding/index.js';
import { resealArtifact } from '../../quantizer/core/index.js';
import { EmptyHistoryError, InputError, ModelError } from '../../src/errors.js';
import { tmp } from '../helpers.js';
import { run } from './cli-helpers.js';
import { TRANSITION_FILE, decodeTransition } from '../../src/serving/model/transition-file.js';

async function pipeline(root: string, scheme = 'rqkmeans:2x16') {
  const data = path.join(root, 'data');
  const raw = synthesize({ items: 200, users: 500, seed: 11 });
  await writeDataset(data, prepare(raw), { malformed: raw.malformed });
  const ds = await loadDataset(data);
  await buildIndexJob({ items: ds.items, sequences: ds.train.map((s) => s.items), scheme, seed: 1, out: path.join(root, 'index') });
  await trainModel({ data, index: path.join(root, 'index'), out: path.join(root, 'model'), arch: 'bigram' });
  return { data, ds, index: path.join(root, 'index'), model: path.join(root, 'model') };
}

describe('transition StepModel, first order', () => {
  it('defines a proper distribution over items equal to the smoothed transition formula', async () => {
    const sizes = [3, 4];
    const codes = new Uint16Array([0, 0, 0, 1, 1, 0, 1, 3, 2, 2, 2, 1]); // 6 items
    const trie = PrefixTrie.build(codes, 6, sizes);
    const layout = new TokenLayout(sizes);
    const seqs = [[0, 1, 2], [0, 1], [3, 1, 0], [5, 4, 0, 1]];
    const data = fitTransition(seqs, 6, 2);
    const model = new TransitionStepModel(data, trie, layout);
    const N = 12;
    for (const src of [0, 1, 2, 5]) {
      const prompt = new Int32Array([1, ...layout.tokens([codes[src * 2], codes[src * 2 + 1]])]);
      const hits = await beamSearch(model, trie, layout, [{ prompt }], { beamWidth: 6 });
      let total = 0;
      for (const h of hits[0]) {
        const c = seqs.reduce((a, s) => a + s.filter((x, i) => x === src && s[i + 1] === h.row).length, 0);
        const C = seqs.reduce((a, s) => a + s.filter((x, i) => x === src && i + 1 < s.length).length, 0);
        const cnt = seqs.flat().filter((x) => x === h.row).length;
        const pi = (cnt + 1) / (N + 6);
        expect(Math.exp(h.score)).toBeCloseTo((c + 2 * pi) / (C + 2), 5);
        total += Math.exp(h.score);
      }
      expect(total).toBeCloseTo(1, 5);
    }
  });
});

describe('transition StepModel with a window and a history mixture', () => {
  it('scores every item by the brute-force mixture of windowed transition distributions', async () => {
    const sizes = [3, 4];
    const codes = new Uint16Array([0, 0, 0, 1, 1, 0, 1, 3, 2, 2, 2, 1]); // 6 items
    const trie = PrefixTrie.build(codes, 6, sizes);
    const layout = new TokenLayout(sizes);
    const seqs = [[0, 1, 2, 4], [0, 1], [3, 1, 0, 2], [5, 4, 0, 1, 3]];
    const beta = 2;
    for (const shape of [{ window: 2, history: 2, decay: 0.5 }, { window: 3, history: 3, decay: 0.3 }, { window: 1, history: 2, decay: 1 }]) {
      const data = fitTransition(seqs, 6, beta, shape);
      expect(data).toMatchObject(shape);
      const model = new TransitionStepModel(data, trie, layout);
      const N = seqs.flat().length;
      // brute force: weighted counts c(s→i) = Σ 1/d over occurrences of i d ≤ window after s
      const c = (s: number, i: number) => seqs.reduce((a, q) => a + q.reduce((b, x, p) => b + (x === s ? q.slice(p + 1, p + 1 + shape.window).reduce((z, y, d) => z + (y === i ? 1 / (d + 1) : 0), 0) : 0), 0), 0);
      const pi = (i: number) => (seqs.flat().filter((x) => x === i).length + 1) / (N + 6);
      const p1 = (s: number, i: number) => (c(s, i) + beta * pi(i)) / ([0, 1, 2, 3, 4, 5].reduce((a, j) => a + c(s, j), 0) + beta);
      for (const hist of [[0], [5, 0], [2, 1, 4], [3, 3, 1, 0]]) {
        const prompt = new Int32Array([1, ...hist.flatMap((h) => layout.tokens([codes[h * 2], codes[h * 2 + 1]]))]);
        const hits = await beamSearch(model, trie, layout, [{ prompt }], { beamWidth: 6 });
        expect(hits[0]).toHaveLength(6);
        const last = hist.slice(-shape.history).reverse();
        const alpha = last.map((_, j) => shape.decay ** j);
        const norm = alpha.reduce((a, b) => a + b, 0);
        let total = 0;
        for (const h of hits[0]) {
          const want = last.reduce((a, s, j) => a + (alpha[j] / norm) * p1(s, h.row), 0);
          expect(Math.exp(h.score)).toBeCloseTo(want, 6);
          total += Math.exp(h.score);
        }
        expect(total).toBeCloseTo(1, 6);
      }
    }
  });

  it('refuses a shape it cannot fit', () => {
    expect(() => fitTransition([[0, 1]], 2, 2, { window: 0 })).toThrow(ModelError);
    expect(() => fitTransition([[0, 1]], 2, 2, { decay: 1.5 })).toThrow(/decay/);
    expect(fitTransition([[0, 1]], 2, 2, { window: 1, history: 1, decay: 1 })).not.toHaveProperty('window');
  });
});

describe('Recommender', () => {
  it('recommends real items, reports skipped ids, bounds k/beam, and errors on empty history', async () => {
    const p = await pipeline(tmp());
    const rec = await Recommender.load(p.model); // index recorded at training time
    expect(rec.index.hash()).toBe((await Recommender.load(p.model, p.index)).index.hash());
    const hist = p.ds.test[0].history;
    const r = await rec.recommend([...hist, 'NOT-AN-ITEM'], { k: 5 });
    expect(r.items).toHaveLength(5);
    expect(r.skipped).toEqual(['NOT-AN-ITEM']);
    for (const it of r.items) expect(rec.index.codeOf(it.itemId)).toEqual(it.codes);
    for (let i = 1; i < 5; i++) expect(r.items[i].score).toBeLessThanOrEqual(r.items[i - 1].score);
    await expect(rec.recommend(['NOPE'])).rejects.toThrow(EmptyHistoryError);
    await expect(rec.recommend([])).rejects.toThrow(/history is empty/);
    await expect(rec.recommend(hist, { k: 0 })).rejects.toThrow(InputError);
    await expect(rec.recommend(hist, { k: 10, beamWidth: 5 })).rejects.toThrow(/beamWidth/);
    await expect(rec.recommend(hist, { k: 1000 })).rejects.toThrow(/k must be/);
    // bad histories reject (never throw synchronously) with a typed error; a string is not a history
    for (const bad of [null, undefined, 'P00001', 42, { 0: 'x' }, [hist[0], 7]]) {
      let pending: Promise<unknown> | undefined;
      expect(() => (pending = rec.recommend(bad as unknown as string[]))).not.toThrow();
      await expect(pending).rejects.toThrow(InputError);
    }
    await expect(rec.recommend('P00001' as unknown as string[])).rejects.toThrow(/history must be an array of item ids, got string/);
  });

  it('excludeSeen prunes history items and still returns k results', async () => {
    const p = await pipeline(tmp());
    const rec = await Recommender.load(p.model, p.index);
    for (const e of p.ds.test.slice(0, 30)) {
      const r = await rec.recommend(e.history, { k: 10, excludeSeen: true });
      expect(r.items).toHaveLength(10);
      for (const it of r.items) expect(e.history).not.toContain(it.itemId);
    }
  });

  it('concurrent calls give the same answers as sequential ones', async () => {
    const p = await pipeline(tmp());
    const rec = await Recommender.load(p.model, p.index);
    const hs = p.ds.test.slice(0, 150).map((e) => e.history);
    const seq = [];
    for (const h of hs) seq.push(await rec.recommend(h, { k: 7 }));
    const conc = await Promise.all(hs.map((h, i) => rec.recommend(h, { k: 7, beamWidth: i % 2 ? 20 : undefined })));
    expect(conc).toEqual(seq);
  });

  it('warms up at load (seeded, results unchanged), can be told not to, and refuses a bad count', async () => {
    const p = await pipeline(tmp());
    const warm = await Recommender.load(p.model, p.index);
    const cold = await Recommender.load(p.model, p.index, { warmup: 0 });
    // 32 single searches, more in rounds of 16 while they still fault (at most 8 × 32), + one batch
    expect(warm.warmedUp.searches).toBeGreaterThanOrEqual(33);
    expect((warm.warmedUp.searches - 33) % 16).toBe(0);
    expect(warm.warmedUp.searches <= 8 * 32 + 1).toBe(true);
    if (warm.warmedUp.searches < 8 * 32 + 1) expect(warm.warmedUp.faultsPerSearch).toBeLessThanOrEqual(2);
    expect(cold.warmedUp.searches).toBe(0);
    const hs = p.ds.test.slice(0, 20).map((e) => e.history);
    for (const h of hs) expect(await warm.recommend(h, { k: 5 })).toEqual(await cold.recommend(h, { k: 5 }));
    expect([4, 20, 25]).toContain((await cold.warmUp(3)).searches); // 3 (+ 16 + 5 while faulting, cap 24) + the batch
    await expect(Recommender.load(p.model, p.index, { warmup: -1 })).rejects.toThrow(/warmup must be a non-negative integer/);
    // a serving process's first load: on until the process has run processWarmup searches in all
    const target = beamSearchesRun() + 100;
    const serving = await Recommender.load(p.model, p.index, { processWarmup: target });
    expect(beamSearchesRun()).toBeGreaterThanOrEqual(target);
    expect(serving.warmedUp.searches).toBeGreaterThanOrEqual(101);
    // (that a later load is not held by it, the rounds' rule itself: test/decoding/warmup.test.ts)
    await expect(Recommender.load(p.model, p.index, { processWarmup: 1.5 })).rejects.toThrow(/processWarmup must be a non-negative integer/);
    for (const r of [warm, cold, serving]) await r.close();
  });

  it('refuses an index the model was not trained on', async () => {
    const root = tmp();
    const p = await pipeline(root);
    const ds = await loadDataset(p.data);
    const other = path.join(root, 'other');
    await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:2x16', seed: 2, out: other });
    await expect(Recommender.load(p.model, other)).rejects.toThrow(ModelError);
    await expect(Recommender.load(p.model, other)).rejects.toThrow(/trained on index/);
    const cfg = JSON.parse(readFileSync(path.join(p.model, 'config.json'), 'utf8'));
    writeFileSync(path.join(p.model, 'config.json'), JSON.stringify({ ...cfg, format: 'x' }));
    await expect(Recommender.load(p.model, p.index)).rejects.toThrow(/config.json: size \d+ bytes, expected/);
    await resealArtifact(p.model);
    await expect(Recommender.load(p.model, p.index)).rejects.toThrow(/not a semrec-model/);
  });

  it('evaluation: zero invalid IDs, metrics in range, and the model beats popularity on synthetic data', async () => {
    const p = await pipeline(tmp());
    const rec = await Recommender.load(p.model, p.index);
    const rep = await evaluateRecommender(rec, p.ds);
    expect(rep.users).toBe(p.ds.test.length);
    expect(rep.invalidRate).toBe(0);
    expect(rep.model.recall[10]).toBeGreaterThan(rep.popularity.recall[10]);
    expect(rep.model.recall[10]).toBeGreaterThanOrEqual(rep.model.recall[5]);
    expect(rep.model.ndcg[10]).toBeLessThanOrEqual(rep.model.recall[10]);
    expect(rep.latencyMs.p99).toBeGreaterThanOrEqual(rep.latencyMs.p50);
  });
});

describe('transition counts fitted on train + validation', () => {
  it('add exactly each user\'s validation transition; such a model is refused on the validation split', async () => {
    const root = tmp();
    const p = await pipeline(root);
    const both = path.join(root, 'model-tv');
    const cfg = await trainModel({ data: p.data, index: p.index, out: both, arch: 'transition', transitionFit: 'train+valid', transitionShape: {} });
    expect(cfg.params.fittedOn).toBe('train+valid');
    const first = path.join(root, 'model-first-order');
    await trainModel({ data: p.data, index: p.index, out: first, arch: 'transition', transitionShape: {} });
    const read = (dir: string) => decodeTransition(readFileSync(path.join(dir, TRANSITION_FILE)), TRANSITION_FILE);
    const a = read(first);
    const b = read(both);
    const sum = (x: ArrayLike<number>) => Array.from(x).reduce((s, v) => s + v, 0);
    expect(sum(b.counts) - sum(a.counts)).toBe(p.ds.valid.length); // one more item per user
    expect(sum(b.dstCount) - sum(a.dstCount)).toBe(p.ds.valid.length); // one more transition per user
    const rec = await Recommender.load(both, p.index);
    await expect(evaluateRecommender(rec, p.ds, { split: 'valid' })).rejects.toThrow(/fitted on train\+valid/);
    expect((await evaluateRecommender(rec, p.ds, { split: 'test', limit: 50 })).invalidRate).toBe(0);
    await expect(trainModel({ data: p.data, index: p.index, out: path.join(root, 'm3'), arch: 'transition', transitionFit: 'all' as 'train' })).rejects.toThrow(InputError);
  });
});

describe('CLI: train / recommend / eval', () => {
  it('works end to end and prints titles', async () => {
    const root = tmp();
    const p = await pipeline(root);
    const r = await run(['recommend', '--model', p.model, '--index', p.index, '--history', p.ds.test[0].history.join(','), '-k', '3', '--json']);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.items).toHaveLength(3);
    expect(out.items[0].title.length).toBeGreaterThan(5);
    // a long history through a file (one id per line, BOM, blank lines) gives the same answer
    const hf = path.join(root, 'history.txt');
    writeFileSync(hf, '\uFEFF' + p.ds.test[0].history.join('\n') + '\n\n');
    const viaFile = await run(['recommend', '--model', p.model, '--index', p.index, '--history-file', hf, '-k', '3', '--json']);
    expect(viaFile.code, viaFile.err).toBe(0);
    expect(JSON.parse(viaFile.out)).toEqual(out);
    const both = await run(['recommend', '--model', p.model, '--history', 'a', '--history-file', hf]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/exactly one of --history or --history-file/);
    const long = await run(['recommend', '--model', p.model, '--history', Array.from({ length: 3000 }, (_, i) => `P${i}`).join(',')]);
    expect(long.code).toBe(2);
    expect(long.err).toMatch(/--history-file FILE or --history -/);
    const missing = await run(['recommend', '--model', p.model, '--history-file', path.join(root, 'nope.txt')]);
    expect(missing.err).toMatch(/E_NOT_FOUND.*history file not found/);
    const e = await run(['eval', '--model', p.model, '--index', p.index, '--data', p.data, '--json', '--limit', '50']);
    expect(e.code, e.err).toBe(0);
    expect(JSON.parse(e.out)).toMatchObject({ split: 'test', users: 50, invalidRate: 0 });
    const t = await run(['train', '--data', p.data, '--index', p.index, '--out', path.join(root, 'm2'), '--arch', 'gpt']);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/model kind must be fused, transformer, llm, transition or sasrec \(aliases decoder, bigram\), got "gpt"/);
  });
});
