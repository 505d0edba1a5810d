import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { loadIndex } from '../../quantizer/index.js';
import { TokenLayout, type StepModel } from '../../decoding/index.js';
import { candidateTrie } from '../../src/indexing/jobs.js';
import { trainModel } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { chooseSeenPolicy } from '../../src/training/seen-select.js';
import { evaluateRankers, recommenderRanker } from '../../src/eval/evaluate.js';
import { TransitionStepModel } from '../../src/serving/model/transition.js';
import { TABLE_MAX_BATCH } from '../../src/serving/model/kinds.js';
import { InputError } from '../../src/errors.js';
import type { EvalExample } from '../../src/data/split.js';
import { tmp } from '../helpers.js';
import { run } from './cli-helpers.js';
import { transitionPipeline } from './pipeline.js';
import { TRANSITION_FILE, decodeTransition } from '../../src/serving/model/transition-file.js';

const USERS = 300;

describe('seen-item policy chosen on validation', () => {
  it('measures keep and exclude exactly as evaluation does, and picks the better one; repeat buyers keep', async () => {
    const root = tmp();
    const p = await transitionPipeline(root, { items: 200, users: 500, seed: 11 });
    const cfg = await trainModel({ data: p.data, index: p.index, out: path.join(root, 'm'), arch: 'transition', transitionShape: {}, fusion: { users: USERS } });
    const seen = cfg.params.seen as { exclude: boolean; users: number; repeatRate: number; keep: { recall10: number; ndcg10: number }; excluded: { recall10: number; ndcg10: number } };
    expect(seen.users).toBe(USERS);
    // the same users and figures as evaluation on the validation split with each policy (an independent path)
    const figures = async (excludeSeen: boolean) => {
      const rec = await Recommender.load(path.join(root, 'm'), p.index, { excludeSeen });
      const r = await evaluateRankers([recommenderRanker(rec)], p.ds, { split: 'valid', limit: USERS, sampleSeed: 0 });
      return r.rankers[0].metrics;
    };
    const keep = await figures(false);
    const excluded = await figures(true);
    expect(seen.keep.recall10).toBeCloseTo(keep.recall[10], 12);
    expect(seen.keep.ndcg10).toBeCloseTo(keep.ndcg[10], 12);
    expect(seen.excluded.recall10).toBeCloseTo(excluded.recall[10], 12);
    expect(seen.excluded.ndcg10).toBeCloseTo(excluded.ndcg[10], 12);
    const better = excluded.recall[10] > keep.recall[10] || (excluded.recall[10] === keep.recall[10] && excluded.ndcg[10] > keep.ndcg[10]);
    expect(seen.exclude).toBe(better);
    expect(seen.repeatRate).toBe(0); // the synthetic split never repeats an item

    // a catalogue of repeat buyers: every validation target is an item of its own history
    const index = await loadIndex(p.index);
    const trie = candidateTrie(index);
    const layout = new TokenLayout(index.codebookSizes);
    const data = decodeTransition(readFileSync(path.join(root, 'm', TRANSITION_FILE)), TRANSITION_FILE);
    const model = new TransitionStepModel(data, trie, layout, { rows: index.size }) as StepModel<unknown>;
    const repeat: EvalExample[] = p.ds.valid.map((e, i) => ({ ...e, target: e.history[i % e.history.length] }));
    const choice = await chooseSeenPolicy(model, TABLE_MAX_BATCH, { index, trie, layout, maxHistory: 20 }, repeat, { users: USERS });
    expect(choice.repeatRate).toBe(1);
    expect(choice.excluded.recall10).toBe(0); // excluded history items can never be the target
    expect(choice.keep.recall10).toBeGreaterThan(0);
    expect(choice.exclude).toBe(false);
  });

  it('is the default of requests; load options and requests override it; fixed policies and bad values', async () => {
    const root = tmp();
    const p = await transitionPipeline(root, { items: 200, users: 500, seed: 11 });
    const out = path.join(root, 'm');
    const cfg = await trainModel({ data: p.data, index: p.index, out, arch: 'transition', transitionShape: {}, seen: 'exclude' });
    expect(cfg.params.seen).toEqual({ exclude: true, criterion: 'fixed by the trainer' });
    const rec = await Recommender.load(out, p.index);
    expect(rec.excludeSeenByDefault).toBe(true);
    const keepRec = await Recommender.load(out, p.index, { excludeSeen: false });
    expect(keepRec.excludeSeenByDefault).toBe(false);
    let sawSeen = false;
    for (const e of p.ds.test.slice(0, 40)) {
      const byDefault = await rec.recommend(e.history, { k: 20 });
      expect(byDefault.items).toHaveLength(20);
      for (const it of byDefault.items) expect(e.history).not.toContain(it.itemId);
      expect(await rec.recommend(e.history, { k: 20, excludeSeen: true })).toEqual(byDefault);
      const kept = await rec.recommend(e.history, { k: 20, excludeSeen: false });
      expect(await keepRec.recommend(e.history, { k: 20 })).toEqual(kept);
      if (kept.items.some((it) => e.history.includes(it.itemId))) sawSeen = true;
    }
    expect(sawSeen).toBe(true); // the override really keeps history items (the test could fail)
    await expect(trainModel({ data: p.data, index: p.index, out: path.join(root, 'm2'), arch: 'transition', seen: 'sometimes' as 'auto' })).rejects.toThrow(InputError);
    const bad = await run(['eval', '--model', out, '--data', p.data, '--seen', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--seen must be exclude or keep, got "maybe"/);
    const ev = await run(['eval', '--model', out, '--data', p.data, '--limit', '30', '--json']);
    expect(ev.code, ev.err).toBe(0);
    expect(JSON.parse(ev.out).excludeSeen).toBe(true);
    const ev2 = await run(['eval', '--model', out, '--data', p.data, '--limit', '30', '--json', '--seen', 'keep']);
    expect(JSON.parse(ev2.out).excludeSeen).toBe(false);
  });
});
