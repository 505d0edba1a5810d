/**
 * The synthetic generator's O(log n) leaf draw against the scan it replaces (brute force): on
 * leaves above the scan threshold, the same uniform numbers pick the same items, for users with
 * favourite brands, a preferred brand and seen items; a leaf the user has exhausted gives -1.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../quantizer/core/index.js';
import { LeafSampler, SCAN_MAX_LEAF } from '../../src/data/leaf-sampler.js';

/** The scan: every unseen item of the leaf weighed, `Rng.weighted` over them. */
function scan(rng: Rng, its: readonly number[], brandOf: number[], popOf: number[], tierOf: number[], user: { favBrands: Set<number>; tier: number }, seen: Set<number>, prefer?: number): number {
  const cands = its.filter((i) => !seen.has(i));
  if (!cands.length) return -1;
  const w = cands.map((i) => popOf[i] * (user.favBrands.has(brandOf[i]) ? 5 : 1) * (tierOf[brandOf[i]] === user.tier ? 2 : 0.6) * (prefer !== undefined && brandOf[i] === prefer ? 8 : 1));
  return cands[rng.weighted(w)];
}

describe('LeafSampler', () => {
  it('draws exactly what the scan draws, with the same random numbers, on leaves above the threshold', () => {
    const r = new Rng(5);
    const n = 3 * SCAN_MAX_LEAF + 700;
    const brands = 60;
    const tierOf = Array.from({ length: brands }, () => r.int(3));
    const brandOf = Array.from({ length: n }, () => r.int(brands));
    const popOf = Array.from({ length: n }, () => 1 / Math.pow(1 + r.int(n), 0.6));
    // two big leaves and a small one (scanned)
    const leaves: number[][] = [[], [], []];
    for (let i = 0; i < n; i++) leaves[i < 40 ? 2 : r.int(2)].push(i);
    const sampler = new LeafSampler(leaves, brandOf, popOf, tierOf, 3);
    let differ = 0;
    for (let u = 0; u < 400; u++) {
      const user = { favBrands: new Set([r.int(brands), r.int(brands)]), tier: r.int(3) };
      const seen = new Set<number>();
      for (let k = 0; k < 30; k++) seen.add(r.int(n));
      const leaf = r.int(3);
      const prefer = r.next() < 0.5 ? r.int(brands) : undefined;
      const seed = r.nextU32();
      const a = sampler.draw(new Rng(seed), leaf, user, seen, prefer);
      const b = scan(new Rng(seed), leaves[leaf], brandOf, popOf, tierOf, user, seen, prefer);
      expect(seen.has(a)).toBe(false);
      expect(leaves[leaf]).toContain(a);
      if (a !== b) differ++;
    }
    expect(differ).toBe(0);
  });

  it('gives -1 without using a random number once the user has every item of the leaf', () => {
    const n = SCAN_MAX_LEAF + 5;
    const leaf = Array.from({ length: n }, (_, i) => i);
    const sampler = new LeafSampler([leaf], leaf.map((i) => i % 3), leaf.map(() => 1), [0, 1, 2], 3);
    const rng = new Rng(1);
    const before = new Rng(1).next();
    expect(sampler.draw(rng, 0, { favBrands: new Set([1]), tier: 0 }, new Set(leaf))).toBe(-1);
    expect(rng.next()).toBe(before);
    // one item left: it is the only answer
    const seen = new Set(leaf.slice(1));
    for (let s = 0; s < 20; s++) expect(sampler.draw(new Rng(s), 0, { favBrands: new Set(), tier: 2 }, seen, 1)).toBe(0);
  });
});
