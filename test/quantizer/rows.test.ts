/**
 * RQ-KMeans on a training sample with every row assigned in chunks (quantizer/rows.ts), against
 * brute force: the sample, the greedy residual codes and their last-level costs computed directly;
 * the same result whatever the chunk size or where the rows are read from.
 */
import { describe, expect, it } from 'vitest';
import { buildIndex, memoryRows, QuantizerInputError, sampleRows, trainRQ, trainRQSampled, type VectorRows } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';

function clustered(n: number, d: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 12 }, () => Array.from({ length: d }, () => rng.normal() * 3));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centres[rng.int(centres.length)];
    for (let j = 0; j < d; j++) x[i * d + j] = c[j] + rng.normal();
  }
  return x;
}

/** Rows that count how many are read at once (a reader that never sees the whole matrix). */
function countingRows(x: Float32Array, n: number, d: number): VectorRows & { largest: number } {
  const inner = memoryRows(x, n, d);
  const r = {
    n,
    d,
    largest: 0,
    read(start: number, count: number) {
      r.largest = Math.max(r.largest, count);
      return inner.read(start, count);
    },
  };
  return r;
}

/** Greedy residual encoding computed directly: nearest codeword per level (float64), and the last squared distance. */
function bruteEncode(x: Float32Array, n: number, d: number, codebooks: Float32Array[]): { codes: number[]; cost: number[] } {
  const codes: number[] = [];
  const cost: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = Array.from(x.subarray(i * d, (i + 1) * d));
    let last = 0;
    for (const cb of codebooks) {
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < cb.length / d; c++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += (res[j] - cb[c * d + j]) ** 2;
        if (s < bestD) [best, bestD] = [c, s];
      }
      codes.push(best);
      for (let j = 0; j < d; j++) res[j] -= cb[best * d + j];
      last = bestD;
    }
    cost.push(last);
  }
  return { codes, cost };
}

describe('sampleRows', () => {
  it('draws distinct rows, ascending, seeded; every row when the sample is not smaller', () => {
    const s = sampleRows(1000, 137, 5);
    expect(s).toHaveLength(137);
    expect(new Set(s).size).toBe(137);
    for (let i = 1; i < s.length; i++) expect(s[i]).toBeGreaterThan(s[i - 1]);
    expect(s[0]).toBeGreaterThanOrEqual(0);
    expect(s[s.length - 1]).toBeLessThan(1000);
    expect(sampleRows(1000, 137, 5)).toEqual(s);
    expect(sampleRows(1000, 137, 6)).not.toEqual(s);
    expect(Array.from(sampleRows(10, 10, 1))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(sampleRows(10, 50, 1))).toHaveLength(10);
    // roughly uniform: every decile of 0..9999 gets about a tenth of a 5,000-row sample
    const big = sampleRows(10_000, 5000, 2);
    const deciles = new Array(10).fill(0);
    for (const r of big) deciles[Math.floor(r / 1000)]++;
    for (const c of deciles) expect(Math.abs(c - 500)).toBeLessThan(80);
  });
});

describe('trainRQSampled', () => {
  const n = 900;
  const d = 8;
  const x = clustered(n, d, 1);
  const sizes = [8, 4];

  it('codes every row as a direct nearest-codeword search does, with its last-level cost', () => {
    const r = trainRQSampled(memoryRows(x, n, d), { sizes, seed: 3, sample: 300, chunkRows: 128 });
    expect(r.sample).toBe(300);
    expect(r.codebooks.map((c) => c.length)).toEqual([8 * d, 4 * d]);
    const want = bruteEncode(x, n, d, r.codebooks);
    expect(Array.from(r.codes)).toEqual(want.codes);
    for (let i = 0; i < n; i++) expect(r.lastCost[i]).toBeCloseTo(want.cost[i], 3);
  });

  it('does not depend on the chunk size or the reader, and reads at most a chunk at a time', () => {
    const ref = trainRQSampled(memoryRows(x, n, d), { sizes, seed: 3, sample: 300 });
    for (const chunkRows of [1, 7, 100, n, 5000]) {
      const rows = countingRows(x, n, d);
      const r = trainRQSampled(rows, { sizes, seed: 3, sample: 300, chunkRows });
      expect(r.codes).toEqual(ref.codes);
      expect(r.codebooks).toEqual(ref.codebooks);
      expect(r.lastCost).toEqual(ref.lastCost);
      expect(rows.largest).toBeLessThanOrEqual(Math.min(chunkRows, n));
    }
  });

  it('trains on exactly the sampled rows: a sample of every row gives trainRQ’s codebooks', () => {
    const all = trainRQSampled(memoryRows(x, n, d), { sizes, seed: 3, sample: n });
    expect(all.codebooks).toEqual(trainRQ(x, n, d, { sizes, seed: 3 }).codebooks);
    const picked = sampleRows(n, 300, 3 * 1000 + 999);
    const xs = new Float32Array(300 * d);
    picked.forEach((row, k) => xs.set(x.subarray(row * d, (row + 1) * d), k * d));
    expect(trainRQSampled(memoryRows(x, n, d), { sizes, seed: 3, sample: 300 }).codebooks).toEqual(trainRQ(xs, 300, d, { sizes, seed: 3 }).codebooks);
  });

  it('builds the same index from rows read in pieces as from the matrix in memory; other schemes refuse a sample', () => {
    const ids = Array.from({ length: n }, (_, i) => `I${i}`);
    for (const [scheme, collisions] of [['rqkmeans:2x8', 'extra-level'], ['rqkmeans:3x16', 'reassign']] as const) {
      const inMemory = buildIndex({ ids, embeddings: x, dim: d }, { scheme, seed: 2, trainSample: 400, collisions });
      const rows = countingRows(x, n, d);
      const inPieces = buildIndex({ ids, rows }, { scheme, seed: 2, trainSample: 400, chunkRows: 64, collisions });
      expect(inPieces.codes).toEqual(inMemory.codes);
      expect(inPieces.codebookSizes).toEqual(inMemory.codebookSizes);
      expect(inPieces.info.params).toMatchObject({ trainSample: 400, mseOn: 'the training sample' });
      expect(rows.largest).toBeLessThanOrEqual(64);
      // collision-free: every tuple once
      const L = inPieces.codebookSizes.length;
      const keys = new Set(Array.from({ length: n }, (_, i) => Array.from(inPieces.codes.subarray(i * L, (i + 1) * L)).join(',')));
      expect(keys.size).toBe(n);
    }
    expect(() => buildIndex({ ids, embeddings: x, dim: d }, { scheme: 'random:2x8', trainSample: 100 })).toThrow(QuantizerInputError);
    expect(() => buildIndex({ ids, embeddings: x, dim: d }, { scheme: 'hybrid:2x8', trainSample: 100 })).toThrow(/for scheme rqkmeans/);
    expect(() => buildIndex({ ids: ids.slice(1), rows: memoryRows(x, n, d) }, { scheme: 'rqkmeans:2x8' })).toThrow(/900 rows for 899 items/);
    expect(() => trainRQSampled(memoryRows(x, n, d), { sizes, sample: 0 })).toThrow(/training sample must be a positive integer/);
  });
});
