import { describe, expect, it } from 'vitest';
import { kCore, leaveOneOut, prepare, toSequences } from '../../../src/data/split.js';
import type { Interaction, RawDataset } from '../../../src/data/types.js';
import { DataError } from '../../../src/errors.js';

const I = (user: string, item: string, timestamp: number): Interaction => ({ user, item, timestamp });

describe('toSequences', () => {
  it('orders by timestamp and keeps input order on ties', () => {
    const seqs = toSequences([I('u', 'c', 3), I('v', 'x', 1), I('u', 'a', 1), I('u', 'b', 1), I('u', 'd', 2)]);
    expect(seqs).toEqual([
      { user: 'u', items: ['a', 'b', 'd', 'c'], times: [1, 1, 2, 3] },
      { user: 'v', items: ['x'], times: [1] },
    ]);
  });
});

describe('leaveOneOut', () => {
  it('splits a hand-made fixture: last = test, second-to-last = valid, rest = train', () => {
    const split = leaveOneOut(
      [
        { user: 'u1', items: ['a', 'b', 'c', 'd', 'e'] },
        { user: 'u2', items: ['x', 'y', 'z'] },
      ],
      20,
    );
    expect(split.train).toEqual([
      { user: 'u1', items: ['a', 'b', 'c'] },
      { user: 'u2', items: ['x'] },
    ]);
    expect(split.valid).toEqual([
      { user: 'u1', history: ['a', 'b', 'c'], target: 'd' },
      { user: 'u2', history: ['x'], target: 'y' },
    ]);
    expect(split.test).toEqual([
      { user: 'u1', history: ['a', 'b', 'c', 'd'], target: 'e' },
      { user: 'u2', history: ['x', 'y'], target: 'z' },
    ]);
  });

  it('caps histories at maxHistory keeping the most recent items', () => {
    const items = Array.from({ length: 30 }, (_, i) => `i${i}`);
    const split = leaveOneOut([{ user: 'u', items }], 20);
    expect(split.test[0].history).toEqual(items.slice(9, 29));
    expect(split.test[0].target).toBe('i29');
    expect(split.valid[0].history).toEqual(items.slice(8, 28));
    expect(split.valid[0].target).toBe('i28');
    expect(split.train[0].items).toEqual(items.slice(0, 28)); // training sequences are not capped
  });

  it('rejects users too short to split', () => {
    expect(() => leaveOneOut([{ user: 'u', items: ['a', 'b'] }])).toThrow(DataError);
  });
});

describe('kCore', () => {
  /** Brute-force reference: the k-core is the largest sub-dataset where all degrees are ≥ k. */
  function reference(seqs: { user: string; items: string[] }[], k: number) {
    let edges = seqs.flatMap((s) => s.items.map((it) => [s.user, it] as const));
    for (;;) {
      const du = new Map<string, number>();
      const di = new Map<string, number>();
      for (const [u, i] of edges) {
        du.set(u, (du.get(u) ?? 0) + 1);
        di.set(i, (di.get(i) ?? 0) + 1);
      }
      const next = edges.filter(([u, i]) => du.get(u)! >= k && di.get(i)! >= k);
      if (next.length === edges.length) return next;
      edges = next;
    }
  }

  it('drops users and items below k iteratively (cascade)', () => {
    // item 'rare' has 2 users; removing it drops u3 below 3, which drops 'b' below 3 ...
    const seqs = [
      { user: 'u1', items: ['a', 'b', 'c'] },
      { user: 'u2', items: ['a', 'b', 'c', 'rare'] },
      { user: 'u3', items: ['a', 'b', 'rare'] },
      { user: 'u4', items: ['a', 'c', 'b'] },
    ];
    const core = kCore(seqs, 3);
    expect(core.map((s) => s.user)).toEqual(['u1', 'u2', 'u4']);
    expect(core[1].items).toEqual(['a', 'b', 'c']);
  });

  it('matches a brute-force reference on random data', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let trial = 0; trial < 30; trial++) {
      const seqs = Array.from({ length: 40 }, (_, u) => ({
        user: `u${u}`,
        items: [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 12) }, () => `i${Math.floor(rnd() * rnd() * 30)}`))],
      }));
      const k = 2 + (trial % 4);
      const got = kCore(seqs, k).flatMap((s) => s.items.map((i) => `${s.user}/${i}`)).sort();
      const want = reference(seqs, k).map(([u, i]) => `${u}/${i}`).sort();
      expect(got).toEqual(want);
      for (const s of kCore(seqs, k)) expect(s.items.length).toBeGreaterThanOrEqual(k);
    }
  });
});

describe('prepare', () => {
  const raw = (interactions: Interaction[]): RawDataset => ({
    source: 'test',
    items: new Map([['a', { id: 'a', title: 'A', text: 'A' }]]),
    interactions,
    malformed: { count: 0, examples: [] },
  });

  it('gives placeholder items for ids without metadata and counts them', () => {
    const inter = ['u1', 'u2', 'u3'].flatMap((u) => ['a', 'b', 'c'].map((it, t) => I(u, it, t)));
    const ds = prepare(raw(inter), { core: 3 });
    expect(ds.counts).toEqual({ users: 3, items: 3, interactions: 9, avgHistory: 3, itemsWithoutTitle: 2 });
    expect(ds.items.map((i) => i.id)).toEqual(['a', 'b', 'c']);
    expect(ds.items[1]).toEqual({ id: 'b', title: '', text: 'b' });
  });

  it('fails with a DataError when nothing survives filtering', () => {
    expect(() => prepare(raw([I('u', 'a', 1)]), { core: 5 })).toThrow(/nothing left after 5-core/);
    expect(() => prepare(raw([]))).toThrow(DataError);
  });
});
