/**
 * Sharded evaluation (`semrec eval --shard I/N`, `semrec eval-merge`): the merged shards are
 * exactly the unsharded figures and per-user ranks — also with more shards than users and on a
 * seeded sample — and shards that do not make one evaluation are refused with typed errors.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Recommender } from '../../../src/serving/recommender.js';
import { evaluateRecommender } from '../../../src/eval/evaluate.js';
import { mergeEvalShards, parseShard, shardOf, type EvalShardFile } from '../../../src/eval/shard.js';
import { tmp } from '../../helpers.js';
import { run } from '../cli-helpers.js';
import { transitionPipeline } from '../pipeline.js';

describe('sharded evaluation', () => {
  it('shards cover every position once; I/N is parsed 1-based and checked', () => {
    const xs = Array.from({ length: 11 }, (_, i) => i);
    const parts = [0, 1, 2, 3].map((index) => shardOf(xs, { index, count: 4 }));
    expect(parts.flat().sort((a, b) => a - b)).toEqual(xs);
    expect(parts[1]).toEqual([1, 5, 9]);
    expect(parseShard('2/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2']) expect(() => parseShard(bad)).toThrow(/--shard must be I\/N/);
  });

  it('merged shards are exactly the unsharded evaluation (CLI), on all users and on a seeded sample; wrong sets are refused', async () => {
    const dir = tmp();
    const { model, data, ds } = await transitionPipeline(dir, { items: 120, users: 300, seed: 8 });
    for (const [extra, N] of [[[], 3], [['--limit', '40', '--sample-seed', '5'], 7], [['--limit', '3'], 5]] as [string[], number][]) {
      const base = ['eval', '--model', model, '--data', data, ...extra];
      const whole = await run([...base, '--json']);
      expect(whole.code, whole.err).toBe(0);
      const want = JSON.parse(whole.out);
      const files: string[] = [];
      for (let i = 1; i <= N; i++) {
        const r = await run([...base, '--shard', `${i}/${N}`]);
        expect(r.code, r.err).toBe(0);
        const f = path.join(dir, `shard-${N}-${i}.json`);
        writeFileSync(f, r.out);
        files.push(f);
      }
      const merged = await run(['eval-merge', ...files.reverse(), '--json']); // any order
      expect(merged.code, merged.err).toBe(0);
      const got = JSON.parse(merged.out);
      for (const k of ['model', 'popularity', 'invalidRate', 'emptyHistories', 'users', 'ofUsers', 'split', 'modelName', 'excludeSeen']) expect(got[k], k).toEqual(want[k]);
      expect(got.shards).toBe(N);
      expect(got.latencyMs.p50).toBeGreaterThanOrEqual(0);
      // refused: a missing shard, a repeated one, a shard of another evaluation
      expect((await run(['eval-merge', ...files.slice(1)])).err).toMatch(/missing shard\(s\) /);
      expect((await run(['eval-merge', ...files, files[0]])).err).toMatch(/is given twice/);
    }
    const other = await run(['eval', '--model', model, '--data', data, '--split', 'valid', '--shard', '1/2']);
    const f = path.join(dir, 'valid-1.json');
    writeFileSync(f, other.out);
    const test2 = await run(['eval', '--model', model, '--data', data, '--shard', '2/2']);
    const g = path.join(dir, 'test-2.json');
    writeFileSync(g, test2.out);
    const mixed = await run(['eval-merge', f, g]);
    expect(mixed.code).toBe(2);
    expect(mixed.err).toMatch(/not of one evaluation: their split differ/);
    writeFileSync(path.join(dir, 'junk.json'), '{"users": 3}');
    const junk = await run(['eval-merge', path.join(dir, 'junk.json')]);
    expect(junk.err).toMatch(/not the output of `semrec eval --shard I\/N --json`/);
    // the per-user ranks too (library: the whole run with perUser)
    const rec = await Recommender.load(model, undefined, { warmup: 0 });
    try {
      const whole = await evaluateRecommender(rec, ds, { perUser: true });
      const shards = await Promise.all([0, 1, 2, 3].map(async (index) => ({ ...(await evaluateRecommender(rec, ds, { shard: { index, count: 4 } })), modelName: 'm', modelHash: 'h', dataHash: 'd', beamWidth: 20, excludeSeen: false }) as EvalShardFile));
      const m = mergeEvalShards(shards);
      expect(m.ranks).toEqual(whole.ranks);
      expect(m.model).toEqual(whole.model);
    } finally {
      await rec.close();
    }
  }, 120_000);
});
