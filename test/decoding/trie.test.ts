import { describe, expect, it } from 'vitest';
import { ChildStarts, PrefixTrie, DecodingInputError } from '../../decoding/index.js';
import { ItemIndex, type IndexInfo } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';
import { distinctTuples } from './table-model.js';

/** Random distinct tuples; with `extraLevel`, collisions at the base levels get a numbering level. */
function randomCodes(n: number, sizes: number[], seed: number, extraLevel = false): { codes: Uint16Array; sizes: number[] } {
  const r = new Rng(seed);
  const base = sizes.length;
  const rows: number[][] = [];
  const seen = new Map<string, number>();
  while (rows.length < n) {
    const t = sizes.map((k) => r.int(Math.min(k, 3 + r.int(k)))); // skewed: many shared prefixes
    const key = t.join(',');
    if (extraLevel) {
      const c = seen.get(key) ?? 0;
      seen.set(key, c + 1);
      rows.push([...t, c]);
    } else if (!seen.has(key)) {
      seen.set(key, 1);
      rows.push(t);
    }
  }
  const out = extraLevel ? [...sizes, Math.max(...seen.values())] : sizes;
  const L = out.length;
  const codes = new Uint16Array(n * L);
  rows.forEach((t, i) => codes.set(t, i * L));
  expect(out.length).toBe(base + (extraLevel ? 1 : 0));
  return { codes, sizes: out };
}

/** Enumerate every root-to-leaf path by walking children(). */
function enumerate(trie: PrefixTrie): Map<string, number> {
  const found = new Map<string, number>();
  const walk = (node: number, prefix: number[]) => {
    if (trie.isLeaf(node)) {
      found.set(prefix.join(','), trie.rowOfLeaf(node));
      return;
    }
    const { start, end, codes } = trie.children(node);
    expect(end).toBeGreaterThan(start);
    for (let i = 1; i < codes.length; i++) expect(codes[i]).toBeGreaterThan(codes[i - 1]);
    for (let i = 0; i < end - start; i++) walk(start + i, [...prefix, codes[i]]);
  };
  walk(trie.root, []);
  return found;
}

describe('PrefixTrie', () => {
  const cases: [string, number, number[], boolean][] = [
    ['uniform 3×8', 300, [8, 8, 8], false],
    ['mixed sizes 16/4/300', 500, [16, 4, 300], false],
    ['collisions resolved by an extra level', 400, [4, 4], true],
    ['single level', 50, [64], false],
  ];
  for (const [name, n, sizes0, extra] of cases) {
    it(`${name}: every item reachable, nothing else reachable`, () => {
      const { codes, sizes } = randomCodes(n, sizes0, n, extra);
      const L = sizes.length;
      const trie = PrefixTrie.build(codes, n, sizes);
      const paths = enumerate(trie);
      expect(paths.size).toBe(n);
      for (let i = 0; i < n; i++) {
        const t = Array.from(codes.subarray(i * L, (i + 1) * L));
        expect(paths.get(t.join(','))).toBe(i);
        const leaf = trie.find(t);
        expect(trie.rowOfLeaf(leaf)).toBe(i);
        expect(trie.codesOf(leaf)).toEqual(t);
      }
      expect(trie.numItems).toBe(n);
      // leaf ranges are contiguous and consistent with children
      const [lo, hi] = trie.leafRange(trie.root);
      expect([lo, hi]).toEqual([0, n]);
      const { start, end } = trie.children(trie.root);
      let expectLo = 0;
      for (let c = start; c < end; c++) {
        const [a, b] = trie.leafRange(c);
        expect(a).toBe(expectLo);
        expectLo = b;
      }
      expect(expectLo).toBe(n);
      // tuples that are not items are not found
      const r = new Rng(n + 1);
      let tried = 0;
      while (tried < 20) {
        const t = sizes.map((k) => r.int(k));
        if (paths.has(t.join(','))) continue;
        tried++;
        expect(trie.find(t)).toBe(-1);
      }
    });
  }

  it('built over a subset of rows: exactly those rows are reachable, under their own row numbers', () => {
    const n = 400;
    const { codes, sizes } = randomCodes(n, [8, 8, 8], 7);
    const L = sizes.length;
    const r = new Rng(3);
    const rows = Array.from({ length: n }, (_, i) => i).filter(() => r.int(3) > 0);
    const trie = PrefixTrie.build(codes, n, sizes, { rows });
    const paths = enumerate(trie);
    expect(trie.numItems).toBe(rows.length);
    expect(paths.size).toBe(rows.length);
    const kept = new Set(rows);
    for (let i = 0; i < n; i++) {
      const t = Array.from(codes.subarray(i * L, (i + 1) * L));
      if (kept.has(i)) expect(trie.rowOfLeaf(trie.find(t))).toBe(i);
      else expect(trie.find(t)).toBe(-1);
    }
    expect(trie.rowBound).toBe(Math.max(...rows) + 1);
    expect(() => PrefixTrie.build(codes, n, sizes, { rows: [0, n] })).toThrow(DecodingInputError);
  });

  it('rejects duplicate tuples and out-of-range codes', () => {
    expect(() => PrefixTrie.build(new Uint16Array([1, 2, 1, 2]), 2, [4, 4])).toThrow(/same tuple/);
    expect(() => PrefixTrie.build(new Uint16Array([1, 5]), 1, [4, 4])).toThrow(DecodingInputError);
  });

  it('compact first-child ids equal the plain ones; large fan-outs fall back to Int32', () => {
    const r = new Rng(9);
    // non-decreasing starts with small steps (compacted) and with one huge step (plain)
    for (const step of [16, 5000]) {
      const n = 1000;
      const starts = new Int32Array(n);
      for (let i = 1; i < n; i++) starts[i] = starts[i - 1] + r.int(step);
      const c = ChildStarts.compact(starts);
      for (let i = 0; i < n; i++) expect(c.at(i)).toBe(starts[i]);
      expect(c.bytes).toBe(step === 16 ? Math.ceil(n / 64) * 4 + n * 2 : n * 4);
    }
    // a trie whose nodes have thousands of children still enumerates exactly
    const { codes, sizes } = randomCodes(3000, [2, 4000], 5);
    const trie = PrefixTrie.build(codes, 3000, sizes);
    expect(enumerate(trie).size).toBe(3000);
  });

  it('uses a few bytes per item', () => {
    const { codes, sizes } = randomCodes(20000, [256, 256, 256], 1);
    const trie = PrefixTrie.build(codes, 20000, sizes);
    expect(trie.bytes / 20000).toBeLessThan(24);
  });
});

describe('ItemIndex as the mapper (tuple ↔ row ↔ id)', () => {
  it('maps tuples ↔ ids both ways, for packable and huge tuple spaces', () => {
    for (const sizes of [[8, 8, 8], [65536, 65536, 65536, 65536]]) {
      const n = 100;
      const ids = Array.from({ length: n }, (_, i) => `id${i}`);
      const codes = distinctTuples(n, sizes, 3);
      const seen = new Set(Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * sizes.length, (i + 1) * sizes.length)).join()));
      const m = new ItemIndex(ids, codes, sizes, { scheme: 'random', factory: 'random', seed: 0, collisions: 'none', schemeLevels: sizes.length, dim: 0, params: {}, indexVersion: 1, addedItems: 0, collisionReport: { collisions: 0, collidingGroups: 0, maxGroup: 1 } } as unknown as IndexInfo);
      for (let i = 0; i < n; i++) {
        const c = m.codeOf(ids[i])!;
        expect(m.itemOf(c)).toBe(ids[i]);
        expect(m.rowOf(ids[i])).toBe(i);
        expect(m.rowOfCodes(c)).toBe(i);
      }
      expect(m.itemOf(sizes.map(() => 0)) === undefined || seen.has(sizes.map(() => 0).join())).toBe(true);
      expect(m.itemOf([1, 2])).toBeUndefined();
      expect(m.rowOfCodes(sizes.map((k) => k))).toBeUndefined(); // out of range
      expect(m.codeOf('nope')).toBeUndefined();
    }
  });
});
