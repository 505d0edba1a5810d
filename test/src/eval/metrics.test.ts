import { describe, expect, it } from 'vitest';
import { MetricAccumulator, dedupe, ndcgAt, recallAt } from '../../../src/eval/metrics.js';

describe('ranking metrics', () => {
  it('de-duplicates before cutting at K', () => {
    const ranked = ['a', 'a', 'b', 'a', 'c', 'd', 'e', 'f'];
    expect(dedupe(ranked)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(recallAt(ranked, 'e', 5)).toBe(1); // position 5 after de-duplication, 7 before
    expect(ndcgAt(ranked, 'b', 5)).toBeCloseTo(1 / Math.log2(3));
    expect(ndcgAt(ranked, 'a', 5)).toBe(1);
    expect(ndcgAt(ranked, 'f', 5)).toBe(0);
  });

  it('accumulator equals the per-example mean (brute force)', () => {
    const items = Array.from({ length: 30 }, (_, i) => `i${i}`);
    const acc = new MetricAccumulator([5, 10], items.length);
    let seed = 11;
    const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const ex: [string[], string][] = [];
    for (let n = 0; n < 200; n++) {
      const ranked = Array.from({ length: 12 }, () => items[Math.floor(rnd() * 30)]);
      const target = items[Math.floor(rnd() * 30)];
      ex.push([ranked, target]);
      acc.add(ranked, target);
    }
    const r = acc.result();
    for (const k of [5, 10]) {
      expect(r.recall[k]).toBeCloseTo(ex.reduce((s, [l, t]) => s + recallAt(l, t, k), 0) / ex.length, 12);
      expect(r.ndcg[k]).toBeCloseTo(ex.reduce((s, [l, t]) => s + ndcgAt(l, t, k), 0) / ex.length, 12);
    }
    const covered = new Set(ex.flatMap(([l]) => dedupe(l).slice(0, 10)));
    expect(r.coverage).toBeCloseTo(covered.size / 30, 12);
    expect(r.n).toBe(200);
  });
});
