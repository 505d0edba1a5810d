import { describe, expect, it } from 'vitest';
import { buildIndex, collisionReport, firstAppearanceOrder, parseFactory, resolveReassign, CollisionError, QuantizerInputError, type ItemIndex } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';

function randn(n: number, d: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => r.normal());
}

/** n items whose embeddings take only `distinct` different values: forces heavy collisions. */
function duplicated(n: number, d: number, distinct: number, seed: number): Float32Array {
  const base = randn(distinct, d, seed);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) x.set(base.subarray((i % distinct) * d, (i % distinct + 1) * d), i * d);
  return x;
}

function sequences(ids: string[], seed: number): string[][] {
  const r = new Rng(seed);
  return Array.from({ length: 300 }, () => {
    let p = r.int(ids.length);
    return Array.from({ length: 6 }, () => ids[(p = (p + 1 + r.int(3)) % ids.length)]);
  });
}

function assertCollisionFree(idx: ItemIndex): void {
  expect(collisionReport(idx.codes, idx.size, idx.levels).collisions).toBe(0);
  const seen = new Set<string>();
  for (let i = 0; i < idx.size; i++) {
    const codes = idx.codeOf(idx.itemIds[i])!;
    codes.forEach((c, l) => expect(c).toBeLessThan(idx.codebookSizes[l]));
    const key = codes.join(',');
    expect(seen.has(key)).toBe(false);
    seen.add(key);
    expect(idx.itemOf(codes)).toBe(idx.itemIds[i]);
  }
}

const SCHEMES = ['rqkmeans:2x16', 'random:2x16', 'sequential:2x16', 'collab:2x16', 'hybrid:2x16'];

describe('every scheme is collision-free', () => {
  const n = 200;
  const d = 8;
  const ids = Array.from({ length: n }, (_, i) => `item${i}`);
  for (const scheme of SCHEMES) {
    for (const collisions of ['extra-level', 'reassign'] as const) {
      it(`${scheme} / ${collisions} on random and on heavily duplicated inputs`, () => {
        for (const x of [randn(n, d, 1), duplicated(n, d, 3, 2)]) {
          // reassign keeps the tuple length, so the last level must have room for the largest prefix group
          const s = collisions === 'reassign' ? scheme.replace('2x16', '1x16+1x128') : scheme;
          const idx = buildIndex({ ids, embeddings: x, dim: d, sequences: sequences(ids, 3) }, { scheme: s, collisions, seed: 4 });
          assertCollisionFree(idx);
          expect(idx.size).toBe(n);
        }
      });
    }
  }

  it('duplicates really collide before resolution', () => {
    const idx = buildIndex({ ids, embeddings: duplicated(n, d, 3, 2), dim: d }, { scheme: 'rqkmeans:2x16', seed: 1 });
    expect(idx.info.collisionReport.maxGroup).toBeGreaterThanOrEqual(Math.floor(n / 3));
    expect(idx.codebookSizes.length).toBe(3);
    expect(idx.codebookSizes[2]).toBeGreaterThanOrEqual(idx.info.collisionReport.maxGroup);
  });

  it('reassign fails clearly only when a prefix holds more items than codes', () => {
    expect(() => buildIndex({ ids, embeddings: duplicated(n, d, 3, 2), dim: d }, { scheme: 'rqkmeans:1x16', collisions: 'reassign' })).toThrow(
      CollisionError,
    );
    expect(() => buildIndex({ ids, embeddings: duplicated(n, d, 3, 2), dim: d }, { scheme: 'rqkmeans:1x16', collisions: 'reassign' })).toThrow(
      /holds \d+ items but the last level has only 16 codes/,
    );
  });
});

describe('scheme details', () => {
  const ids = Array.from({ length: 60 }, (_, i) => `i${i}`);

  it('same seed → identical codes; another seed → different (random, rqkmeans)', () => {
    const x = randn(60, 6, 5);
    for (const scheme of ['random:3x8', 'rqkmeans:3x8']) {
      const a = buildIndex({ ids, embeddings: x, dim: 6 }, { scheme, seed: 1 });
      const b = buildIndex({ ids, embeddings: x, dim: 6 }, { scheme, seed: 1 });
      const c = buildIndex({ ids, embeddings: x, dim: 6 }, { scheme, seed: 2 });
      expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
      expect(a.hash()).toBe(b.hash());
      expect(Array.from(a.codes)).not.toEqual(Array.from(c.codes));
    }
  });

  it('sequential numbers items by first appearance, in base-K digits', () => {
    const seqs = [['i5', 'i3', 'i5'], ['i3', 'i9', 'i0']];
    expect(firstAppearanceOrder(ids, seqs).slice(0, 5)).toEqual([5, 3, 9, 0, 1]);
    const idx = buildIndex({ ids, sequences: seqs }, { scheme: 'sequential:3x4' });
    expect(idx.codeOf('i5')).toEqual([0, 0, 0]);
    expect(idx.codeOf('i3')).toEqual([0, 0, 1]);
    expect(idx.codeOf('i1')).toEqual([0, 1, 0]); // 5th item → 4 = 0·16 + 1·4 + 0
    expect(() => buildIndex({ ids }, { scheme: 'sequential:2x4' })).toThrow(QuantizerInputError);
  });

  it('reassign moves colliding items to the nearest free code (brute-force check)', () => {
    // 1 level, 6 codes, 4 items on code 0; their preferences given explicitly.
    const codes = new Uint16Array([0, 0, 0, 0, 3]);
    const cost = [0.5, 0.1, 0.9, 0.3, 0];
    const prefs = [
      [0, 3, 1, 2, 4, 5],
      [0, 1, 2, 3, 4, 5],
      [0, 3, 1, 5, 2, 4],
      [0, 1, 5, 4, 3, 2],
      [3, 0, 1, 2, 4, 5],
    ];
    resolveReassign(codes, 5, 1, 6, { cost, rank: (r) => prefs[r] });
    // row 1 (cost 0.1) keeps 0; then movers by cost: row 3 → 1, row 0 → 3 taken → 1 taken → 2, row 2 → 3,1 taken → 5
    expect(Array.from(codes)).toEqual([2, 0, 5, 1, 3]);
  });

  it('factory strings: aliases, mixed sizes, errors', () => {
    // the spec carries the scheme object (parsed once, looked up once)
    expect(parseFactory('semantic:3x256')).toMatchObject({ scheme: 'rqkmeans', sizes: [256, 256, 256], factory: 'rqkmeans:3x256' });
    expect(parseFactory('semantic:3x256').impl?.name).toBe('rqkmeans');
    expect(parseFactory('rqkmeans:2x256+1x64').sizes).toEqual([256, 256, 64]);
    expect(parseFactory('collab:1x8+1x8').factory).toBe('collab:2x8');
    for (const bad of ['rq:3x256', 'rqkmeans', 'rqkmeans:3', 'rqkmeans:3x1', 'random:0x8', 'random:3x70000']) {
      expect(() => parseFactory(bad)).toThrow(QuantizerInputError);
    }
  });

  it('schemes that need inputs say so', () => {
    expect(() => buildIndex({ ids }, { scheme: 'rqkmeans:2x8' })).toThrow(/needs item embeddings/);
    expect(() => buildIndex({ ids }, { scheme: 'collab:2x8' })).toThrow(/needs training sequences/);
  });
});

describe('incremental add', () => {
  const n = 150;
  const d = 8;
  const ids = Array.from({ length: n }, (_, i) => `o${i}`);
  const newIds = Array.from({ length: 40 }, (_, i) => `new${i}`);
  for (const scheme of SCHEMES) {
    for (const collisions of ['extra-level', 'reassign'] as const) {
      it(`${scheme} / ${collisions}: old items keep their IDs, new ones are collision-free`, () => {
        const s = collisions === 'reassign' ? scheme.replace('2x16', '1x16+1x128') : scheme;
        const base = buildIndex({ ids, embeddings: randn(n, d, 1), dim: d, sequences: sequences(ids, 2) }, { scheme: s, collisions, seed: 3 });
        // new items include exact duplicates of old embeddings: maximal collision pressure
        const newX = new Float32Array(40 * d);
        const oldX = randn(n, d, 1);
        for (let i = 0; i < 40; i++) newX.set(oldX.subarray((i % 5) * d, (i % 5 + 1) * d), i * d);
        const next = base.assign({ ids: newIds, embeddings: newX, dim: d });
        expect(next.size).toBe(n + 40);
        for (const id of ids) expect(next.codeOf(id)).toEqual(base.codeOf(id));
        assertCollisionFree(next);
        expect(next.info.indexVersion).toBe(base.info.indexVersion + 1);
        expect(next.codebookSizes).toEqual(base.codebookSizes);
        expect(() => next.assign({ ids: ['o1'], embeddings: newX.subarray(0, d), dim: d })).toThrow(/already in the index/);
      });
    }
  }
});

describe('scheme registry', () => {
  it('a scheme added through the registry alone builds, adds items, saves and loads', async () => {
    const { registerScheme, schemeNames, saveIndex, loadIndex } = await import('../../quantizer/index.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    // a toy scheme: the item's row in mixed radix, reversed digits (collision-free by construction)
    const digits = (m: number, sizes: readonly number[], out: Uint16Array, o: number) => {
      for (let l = 0; l < sizes.length; l++) {
        out[o + l] = m % sizes[l];
        m = Math.floor(m / sizes[l]);
      }
    };
    registerScheme({
      name: 'reversed',
      description: 'row numbers, least significant digit first (a test scheme)',
      build(input, ctx) {
        const codes = new Uint16Array(input.ids.length * ctx.sizes.length);
        input.ids.forEach((_, i) => digits(i, ctx.sizes, codes, i * ctx.sizes.length));
        return { codes, sizes: ctx.sizes, collisions: 'none', dim: 0, params: { toy: true }, report: collisionReport(codes, input.ids.length, ctx.sizes.length) };
      },
      assign({ index, all, newIds }) {
        newIds.forEach((_, i) => digits(index.size + i, index.codebookSizes, all, (index.size + i) * index.levels));
      },
    });
    expect(schemeNames()).toContain('reversed');
    expect(() => registerScheme({ name: 'random', description: '', build: () => { throw new Error(); }, assign: () => {} })).toThrow(/already registered/);
    const idx = buildIndex({ ids: ['a', 'b', 'c', 'd', 'e'] }, { scheme: parseFactory('reversed:2x4') });
    expect(idx.info.scheme).toBe('reversed');
    expect(idx.codeOf('b')).toEqual([1, 0]);
    expect(idx.codeOf('e')).toEqual([0, 1]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'semrec-reg-'));
    try {
      await saveIndex(idx, path.join(dir, 'i'));
      const back = await loadIndex(path.join(dir, 'i'));
      const more = back.assign({ ids: ['f'] });
      expect(more.codeOf('f')).toEqual([1, 1]);
      expect(more.descendsFrom(idx.hash())).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
