import { describe, expect, it } from 'vitest';
import { FlatIndex, kmeans, balancedAssign } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';

function randn(n: number, d: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n * d }, () => r.normal());
}

function bruteNearest(c: Float32Array, k: number, x: Float32Array, n: number, d: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = Infinity;
    for (let a = 0; a < k; a++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (x[i * d + j] - c[a * d + j]) ** 2;
      if (s < best) {
        best = s;
        out[i] = a;
      }
    }
  }
  return out;
}

describe('faiss nearest-centroid search', () => {
  it('agrees with brute force (L2 and inner product)', () => {
    const d = 8;
    const c = randn(40, d, 1);
    const x = randn(500, d, 2);
    expect(Array.from(new FlatIndex(c, d).search(x).labels)).toEqual(Array.from(bruteNearest(c, 40, x, 500, d)));
    const ip = new FlatIndex(c, d, 'ip').search(x).labels;
    for (let i = 0; i < 500; i += 37) {
      let best = -Infinity;
      let arg = -1;
      for (let a = 0; a < 40; a++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += x[i * d + j] * c[a * d + j];
        if (s > best) [best, arg] = [s, a];
      }
      expect(ip[i]).toBe(arg);
    }
  });
});

describe('kmeans', () => {
  it('recovers well-separated blobs and assigns every point to its nearest centroid', () => {
    const d = 4;
    const centers = [
      [10, 0, 0, 0],
      [0, 10, 0, 0],
      [0, 0, 10, 0],
      [-10, -10, 0, 5],
    ];
    const r = new Rng(5);
    const n = 400;
    const x = new Float32Array(n * d);
    const truth: number[] = [];
    for (let i = 0; i < n; i++) {
      const c = i % 4;
      truth.push(c);
      for (let j = 0; j < d; j++) x[i * d + j] = centers[c][j] + 0.3 * r.normal();
    }
    const res = kmeans(x, n, d, { k: 4, seed: 1 });
    // same partition as the truth (up to relabelling)
    const map = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if (!map.has(truth[i])) map.set(truth[i], res.assign[i]);
      expect(res.assign[i]).toBe(map.get(truth[i]));
    }
    expect(new Set(map.values()).size).toBe(4);
    expect(Array.from(res.assign)).toEqual(Array.from(bruteNearest(res.centroids, 4, x, n, d)));
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const x = randn(300, 6, 3);
    const a = kmeans(x, 300, 6, { k: 16, seed: 7 });
    const b = kmeans(x, 300, 6, { k: 16, seed: 7 });
    const c = kmeans(x, 300, 6, { k: 16, seed: 8 });
    expect(Array.from(a.assign)).toEqual(Array.from(b.assign));
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(Array.from(a.centroids)).not.toEqual(Array.from(c.centroids));
  });

  it('re-seeds empty clusters so that every cluster is used when points allow', () => {
    // 3 distinct locations repeated, plus spread points: k-means++ + re-seeding must use all 10 clusters
    const d = 2;
    const r = new Rng(9);
    const n = 200;
    const x = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      if (i < 150) x.set([i % 3, 0], i * d);
      else x.set([5 + r.normal(), 5 + r.normal()], i * d);
    }
    const res = kmeans(x, n, d, { k: 10, seed: 2 });
    expect(new Set(res.assign).size).toBe(10);
  });

  it('balanced assignment caps cluster sizes at ceil(n/k) and prefers near centroids', () => {
    const d = 3;
    const x = randn(1000, d, 4);
    // heavily skewed data: half the points in one tight spot
    for (let i = 0; i < 500; i++) x.set([0.01 * i, 0, 0], i * d);
    const res = kmeans(x, 1000, d, { k: 32, seed: 1, balanced: true });
    const counts = new Map<number, number>();
    for (const a of res.assign) counts.set(a, (counts.get(a) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(Math.ceil(1000 / 32));
    const plain = kmeans(x, 1000, d, { k: 32, seed: 1 });
    const plainCounts = new Map<number, number>();
    for (const a of plain.assign) plainCounts.set(a, (plainCounts.get(a) ?? 0) + 1);
    expect(Math.max(...plainCounts.values())).toBeGreaterThan(Math.ceil(1000 / 32));
  });

  it('balancedAssign without pressure equals nearest assignment', () => {
    const d = 4;
    const c = randn(8, d, 11);
    const x = randn(40, d, 12);
    const { assign } = balancedAssign(x, 40, d, c, 8, 40);
    expect(Array.from(assign)).toEqual(Array.from(bruteNearest(c, 8, x, 40, d)));
  });
});
