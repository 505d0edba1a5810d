import { describe, expect, it } from 'vitest';
import { seededSample } from '../../../src/eval/sample.js';

describe('seededSample', () => {
  const items = Array.from({ length: 1000 }, (_, i) => i);

  it('draws n distinct elements in their original order, the same for a seed and different across seeds', () => {
    const a = seededSample(items, 100, 1);
    expect(a).toHaveLength(100);
    expect(new Set(a).size).toBe(100);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(seededSample(items, 100, 1)).toEqual(a);
    expect(seededSample(items, 100, 2)).not.toEqual(a);
    expect(seededSample(items, undefined, 1)).toEqual(items);
    expect(seededSample(items, 5000, 1)).toEqual(items);
  });

  it('is not the first n: every position is about equally likely (chi-square over 10 bins)', () => {
    const bins = new Array<number>(10).fill(0);
    for (let seed = 0; seed < 200; seed++) for (const x of seededSample(items, 50, seed)) bins[Math.floor(x / 100)]++;
    const expected = (200 * 50) / 10;
    const chi2 = bins.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(27.9); // p = 0.001 for 9 degrees of freedom
    expect(seededSample(items, 50, 0).some((x) => x >= 50)).toBe(true);
  });
});
