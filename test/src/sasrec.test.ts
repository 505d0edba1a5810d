/**
 * SASRec, the ID-based baseline: the item-score step model's search is exact (against brute force
 * on random scores, with exclusions and allow-lists); `semrec train --arch sasrec` trains it with
 * PyTorch, and the served model ranks the whole catalogue exactly as argsort of PyTorch's own
 * log-probabilities; it beats popularity on the synthetic data; wrong settings are typed errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrefixTrie, TokenLayout, beamSearch } from '../../decoding/index.js';
import { Rng } from '../../quantizer/core/index.js';
import { loadIndex } from '../../quantizer/index.js';
import { loadDataset, type Dataset } from '../../src/data/store.js';
import { evaluateRecommender } from '../../src/eval/evaluate.js';
import { Recommender } from '../../src/serving/recommender.js';
import { ItemScoreStepModel, type ItemScorer } from '../../src/serving/model/item-scores.js';
import { pythonPath, trainerRoot } from '../../src/training/python.js';
import { run } from './cli-helpers.js';

/** Fixed random log-scores per history length (a scorer that ignores nothing it is given). */
class TableScorer implements ItemScorer {
  readonly maxHistory = 5;
  seen: Int32Array[] = [];
  constructor(
    readonly items: number,
    readonly table: (h: Int32Array) => Float32Array,
  ) {}
  async score(histories: readonly Int32Array[]): Promise<Float32Array> {
    this.seen.push(...histories);
    const out = new Float32Array(histories.length * this.items);
    histories.forEach((h, i) => out.set(this.table(h), i * this.items));
    return out;
  }
  async close(): Promise<void> {}
}

describe('item-score step model: exact top-k over the trie', () => {
  it('beam search of width k returns exactly the k best returnable items, excluded and allow-listed ones honoured', async () => {
    const rng = new Rng(3);
    const sizes = [4, 4, 4];
    const n = 50;
    const codes = new Uint16Array(n * 3);
    const used = new Set<string>();
    for (let r = 0; r < n; r++) {
      let c: number[];
      do c = [rng.int(4), rng.int(4), rng.int(4)];
      while (used.has(c.join()));
      used.add(c.join());
      codes.set(c, r * 3);
    }
    const trie = PrefixTrie.build(codes, n, sizes);
    const layout = new TokenLayout(sizes);
    const items = 48; // rows 48, 49: items the scorer does not know (added to the index later)
    const scorer = new TableScorer(items, (h) => {
      const r = new Rng(1000 + h.length + (h[0] ?? 0));
      const s = Float32Array.from({ length: items }, () => -5 * r.next());
      return s;
    });
    const model = new ItemScoreStepModel(scorer, trie, layout);
    const promptOf = (rows: number[]) => Int32Array.from([1, ...rows.flatMap((r) => [0, 1, 2].map((l) => layout.token(l, codes[r * 3 + l])))]);
    for (let trial = 0; trial < 30; trial++) {
      const hist = Array.from({ length: 1 + rng.int(4) }, () => rng.int(n));
      const exclude = trial % 3 === 0 ? [] : Array.from({ length: rng.int(10) }, () => rng.int(n));
      const include = trial % 3 === 2 ? Array.from({ length: 20 }, () => rng.int(n)) : undefined;
      const k = 1 + rng.int(8);
      const [hits] = await beamSearch(model, trie, layout, [{ prompt: promptOf(hist), exclude, include }], { beamWidth: k, k });
      // the scorer saw the history's rows it knows, oldest first
      expect(Array.from(scorer.seen.at(-1)!)).toEqual(hist.filter((r) => r < items));
      const lp = scorer.table(scorer.seen.at(-1)!);
      const want = Array.from({ length: items }, (_, r) => r)
        .filter((r) => !exclude.includes(r) && (!include || include.includes(r)))
        .sort((a, b) => lp[b] - lp[a])
        .slice(0, k);
      expect(hits.map((h) => h.row)).toEqual(want);
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(lp[want[i]], 5)); // a tuple's score is the item's log-probability
    }
  });
});

let root: string;
let data: string;
let indexDir: string;
let modelDir: string;
let sidDir: string;
let ds: Dataset;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-sasrec-'));
  data = path.join(root, 'data');
  indexDir = path.join(root, 'index');
  modelDir = path.join(root, 'model');
  sidDir = path.join(root, 'model-sid');
  expect((await run(['data', 'synth', '--out', data, '--items', '120', '--users', '400', '--seed', '4'])).code).toBe(0);
  expect((await run(['index', 'build', '--items', data, '--scheme', 'rqkmeans:2x8', '--out', indexDir])).code).toBe(0);
  const r = await run(['train', '--data', data, '--index', indexDir, '--out', modelDir, '--arch', 'sasrec', '--layers', '1', '--d-model', '32', '--heads', '2', '--dropout', '0.2', '--lr', '0.005', '--epochs', '40', '--patience', '8', '--threads', '1', '--seed', '1']);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toMatch(/epoch 1: train loss [\d.]+, valid R@10/);
  const s = await run(['train', '--data', data, '--index', indexDir, '--out', sidDir, '--arch', 'sasrec', '--item-embedding', 'id+sid', '--level-loss', '0.3', '--layers', '1', '--d-model', '32', '--heads', '2', '--dropout', '0.2', '--lr', '0.005', '--epochs', '10', '--patience', '3', '--threads', '1', '--seed', '1']);
  expect(s.code, s.err).toBe(0);
  ds = await loadDataset(data);
}, 240_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('semrec train --arch sasrec', () => {
  it('records its recipe, the best epoch and its validation figures', async () => {
    const cfg = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8'));
    expect(cfg.architecture).toBe('sasrec');
    expect(cfg.params.sasrec).toMatchObject({ d: 32, layers: 1, heads: 2, loss: 'ce', max_len: 20, seed: 1 });
    expect(cfg.params.items).toBe(120);
    expect(cfg.params.bestEpoch).toBeGreaterThanOrEqual(1);
    expect(cfg.params.bestEpoch).toBeLessThanOrEqual(cfg.params.epochsRun);
    expect(cfg.params.validNdcg10).toBeGreaterThan(0);
    expect(typeof cfg.params.seen.exclude).toBe('boolean');
    const sid = JSON.parse(readFileSync(path.join(sidDir, 'config.json'), 'utf8'));
    expect(sid.params.sasrec).toMatchObject({ code_sizes: [...(await loadIndex(indexDir)).codebookSizes], level_loss: 0.3 });
  });

  it.each([
    ['item ids', () => modelDir],
    ['item ids + semantic-ID embeddings', () => sidDir],
  ])("ranks the whole catalogue as argsort of PyTorch's own log-probabilities (beam = k: the look-ahead is exact): %s", async (_label, dir) => {
    const modelDir = dir();
    const index = await loadIndex(indexDir);
    const rec = await Recommender.load(modelDir, indexDir, { warmup: 0 });
    const histories = ds.test.slice(0, 4).map((e) => e.history);
    writeFileSync(path.join(root, 'hist.json'), JSON.stringify(histories.map((h) => h.map((id) => index.rowOf(id)! + 1))));
    execFileSync(pythonPath(), ['-m', 'trainer', 'sasrec-logits', '--config', path.join(modelDir, 'trainer.json'), '--checkpoint', path.join(modelDir, 'checkpoint.pt'), '--input', path.join(root, 'hist.json'), '--out', path.join(root, 'lp.f32')], { cwd: trainerRoot(), env: { ...process.env, PYTHONPATH: trainerRoot() } });
    const buf = readFileSync(path.join(root, 'lp.f32'));
    const all = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const n = index.size;
    try {
      for (let i = 0; i < histories.length; i++) {
        const lp = all.subarray(i * n, (i + 1) * n);
        const order = Array.from({ length: n }, (_, r) => r).sort((a, b) => lp[b] - lp[a]);
        // the full ranking
        const full = await rec.recommend(histories[i], { k: n, beamWidth: n, excludeSeen: false });
        expect(full.items.map((x) => x.itemId)).toEqual(order.map((r) => index.itemIds[r]));
        full.items.forEach((x, j) => expect(Math.abs(x.score - lp[order[j]])).toBeLessThanOrEqual(1e-4));
        // a narrow beam, history items excluded: still exactly the top 10 of the rest
        const seen = new Set(histories[i].map((id) => index.rowOf(id)!));
        const top = await rec.recommend(histories[i], { k: 10, beamWidth: 10, excludeSeen: true });
        expect(top.items.map((x) => x.itemId)).toEqual(order.filter((r) => !seen.has(r)).slice(0, 10).map((r) => index.itemIds[r]));
      }
    } finally {
      await rec.close();
    }
  }, 60_000);

  it('beats popularity on the test split, never returning an invalid item', async () => {
    const rec = await Recommender.load(modelDir, indexDir, { warmup: 0 });
    try {
      const r = await evaluateRecommender(rec, ds, { split: 'test' });
      expect(r.invalidRate).toBe(0);
      expect(r.model.recall[10]).toBeGreaterThan(r.popularity.recall[10]);
      expect(r.model.ndcg[10]).toBeGreaterThan(r.popularity.ndcg[10]);
    } finally {
      await rec.close();
    }
  }, 60_000);

  it('fused over a trained SASRec (--transformer-from): the weight chosen on validation, every item scored (1 − w)·SASRec + w·transition', async () => {
    const fused = path.join(root, 'fused');
    const r = await run(['train', '--data', data, '--index', indexDir, '--out', fused, '--transformer-from', modelDir, '--transition-shape', '1:1:1', '--fusion-grid', '0,0.3,0.6,1', '--fusion-users', '200', '--seen', 'keep']);
    expect(r.code, r.err).toBe(0);
    const cfg = JSON.parse(readFileSync(path.join(fused, 'config.json'), 'utf8'));
    expect(cfg.architecture).toBe('fused');
    expect(cfg.params.neural).toBe('sasrec');
    expect(cfg.params.fusion.grid).toHaveLength(4);
    const w = 0.3; // a weight strictly inside (0, 1): both parts count
    const [both, sas, tr] = await Promise.all([
      Recommender.load(fused, indexDir, { warmup: 0, fusionWeight: w }),
      Recommender.load(fused, indexDir, { warmup: 0, part: 'transformer' }),
      Recommender.load(fused, indexDir, { warmup: 0, part: 'transition' }),
    ]);
    try {
      expect(sas.modelName).toBe('sasrec');
      const n = (await loadIndex(indexDir)).size;
      for (const e of ds.test.slice(0, 3)) {
        const opts = { k: n, beamWidth: n, excludeSeen: false };
        const [f, a, b] = await Promise.all([both.recommend(e.history, opts), sas.recommend(e.history, opts), tr.recommend(e.history, opts)]);
        const sa = new Map(a.items.map((x) => [x.itemId, x.score]));
        const tb = new Map(b.items.map((x) => [x.itemId, x.score]));
        const want = [...sa.keys()].map((id) => ({ id, s: (1 - w) * sa.get(id)! + w * tb.get(id)! })).sort((x, y) => y.s - x.s);
        expect(f.items.map((x) => x.itemId).slice(0, 20)).toEqual(want.map((x) => x.id).slice(0, 20));
        f.items.forEach((x, i) => expect(x.score).toBeCloseTo(want[i].s, 4));
      }
    } finally {
      await Promise.all([both.close(), sas.close(), tr.close()]);
    }
  }, 120_000);

  it('refuses settings that are not SASRec settings, and parts, with typed errors', async () => {
    const base = ['train', '--data', data, '--index', indexDir, '--out', path.join(root, 'bad')];
    let r = await run([...base, '--arch', 'sasrec', '--block', 'llm']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--block is not a SASRec setting/);
    r = await run([...base, '--arch', 'sasrec', '--negatives', '10']);
    expect(r.err).toMatch(/--negatives is for --loss sampled/);
    r = await run([...base, '--arch', 'sasrec', '--d-model', '30', '--heads', '4']);
    expect(r.err).toMatch(/multiple of heads/);
    r = await run([...base, '--loss', 'sampled']);
    expect(r.err).toMatch(/SASRec settings \(--arch sasrec\)/);
    r = await run([...base, '--arch', 'sasrec', '--max-steps', '5']);
    expect(r.err).toMatch(/--max-steps is not a SASRec setting/);
    r = await run([...base, '--arch', 'sasrec', '--item-embedding', 'sid']);
    expect(r.err).toMatch(/--item-embedding must be id or id\+sid/);
    r = await run([...base, '--arch', 'sasrec', '--level-loss', '0.5']);
    expect(r.err).toMatch(/levelLoss needs semanticIds and the ce loss/);
    await expect(Recommender.load(modelDir, indexDir, { part: 'transformer', warmup: 0 })).rejects.toThrow(/only fused models have parts/);
  });
});
