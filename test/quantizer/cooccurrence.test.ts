/**
 * The typed-array co-occurrence against the map-per-row count it replaced: the same values and
 * row sums to the bit (the same additions in the same order), sorted columns, unknown ids ignored.
 */
import { describe, expect, it } from 'vitest';
import { Rng } from '../../quantizer/core/index.js';
import { cooccurrence, mapCooccurrence } from '../../quantizer/index.js';

/** The reference: one map per row, c(i,j) then c(j,i) grown per pair in sequence order. */
function mapCounts(ids: string[], sequences: string[][], window: number): Map<number, number>[] {
  const row = new Map(ids.map((id, i) => [id, i]));
  const adj: Map<number, number>[] = ids.map(() => new Map());
  for (const seq of sequences) {
    const rows = seq.map((it) => row.get(it) ?? -1);
    for (let a = 0; a < rows.length; a++) {
      if (rows[a] < 0) continue;
      for (let b = a + 1; b < Math.min(rows.length, a + 1 + window); b++) {
        if (rows[b] < 0 || rows[b] === rows[a]) continue;
        const w = 1 / (b - a);
        adj[rows[a]].set(rows[b], (adj[rows[a]].get(rows[b]) ?? 0) + w);
        adj[rows[b]].set(rows[a], (adj[rows[b]].get(rows[a]) ?? 0) + w);
      }
    }
  }
  return adj;
}

describe('cooccurrence', () => {
  it('equals the map-per-row count bit for bit (values, sorted columns, row sums in first-appearance order)', () => {
    const r = new Rng(9);
    for (let trial = 0; trial < 10; trial++) {
      const n = 2 + r.int(30);
      const ids = Array.from({ length: n }, (_, i) => `i${i}`);
      const seqs = Array.from({ length: r.int(50) }, () => Array.from({ length: r.int(12) }, () => (r.int(15) === 0 ? 'unknown' : ids[r.int(n)])));
      for (const window of [1, 2, 3, 5]) {
        const co = cooccurrence(ids, seqs, window);
        const ref = mapCounts(ids, seqs, window);
        for (let i = 0; i < n; i++) {
          const want = [...ref[i].entries()].sort((a, b) => a[0] - b[0]);
          const got: [number, number][] = [];
          for (let p = co.indptr[i]; p < co.indptr[i + 1]; p++) got.push([co.indices[p], co.values[p]]);
          expect(got).toEqual(want);
          let sum = 0;
          for (const v of ref[i].values()) sum += v; // the map's insertion order
          expect(Object.is(co.rowSum[i], sum)).toBe(true);
        }
      }
    }
  });

  it('mapCooccurrence maps every value into a float32 CSR, dropping non-positive ones when asked', () => {
    const ids = ['a', 'b', 'c'];
    const co = cooccurrence(ids, [['a', 'b', 'c'], ['c', 'a']], 2);
    const all = mapCooccurrence(co, (i, j, v) => (i < j ? v : -v));
    expect(Array.from(all.indptr)).toEqual([0, 2, 4, 6]);
    const pos = mapCooccurrence(co, (i, j, v) => (i < j ? v : -v), true);
    expect(Array.from(pos.indptr)).toEqual([0, 2, 3, 3]);
    expect(Array.from(pos.indices)).toEqual([1, 2, 2]);
    expect(Array.from(pos.values)).toEqual([1, Math.fround(1 / 2 + 1), 1]);
  });
});
