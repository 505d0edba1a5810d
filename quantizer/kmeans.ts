/**
 * k-means with k-means++ initialisation, empty-cluster re-seeding, optional capacity-balanced
 * assignment, and nearest-centroid search through faiss. Deterministic for a given seed.
 *
 * Like faiss's `Clustering`, training runs on at most `maxPointsPerCentroid × k` sampled points;
 * the final assignment covers all points.
 */
import { FlatIndex } from './faiss.js';
import { Rng } from './core/index.js';
import { QuantizerInputError } from './errors.js';

/** Options for {@link kmeans}. */
export interface KMeansOptions {
  /** Number of clusters. */
  k: number;
  /** Lloyd iterations (default 20). */
  iterations?: number;
  /** Seed (default 0). */
  seed?: number;
  /** Training sample cap per centroid (default 256, as faiss). */
  maxPointsPerCentroid?: number;
  /**
   * Capacity-aware final assignment: no cluster gets more than ceil(n / k) points, so codes are
   * used evenly. Points go to their nearest centroid that still has room.
   */
  balanced?: boolean;
  /** Called after each iteration with (iteration, total). */
  onIteration?: (iter: number, total: number) => void;
}

/** Result of {@link kmeans}. */
export interface KMeansResult {
  /** k×d row-major. */
  centroids: Float32Array;
  /** Cluster of every input point. */
  assign: Int32Array;
  /** Squared distance of every point to its assigned centroid. */
  dist: Float32Array;
  /** Clusters re-seeded because they became empty. */
  reseeded: number;
}

function sqDist(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const t = a[ao + j] - b[bo + j];
    s += t * t;
  }
  return s;
}

/** k-means++ seeding (D² sampling) on the n×d points `x`. */
export function kmeansPlusPlus(x: Float32Array, n: number, d: number, k: number, rng: Rng): Float32Array {
  const c = new Float32Array(k * d);
  const minD = new Float64Array(n).fill(Infinity);
  let idx = rng.int(n);
  for (let ci = 0; ci < k; ci++) {
    c.set(x.subarray(idx * d, idx * d + d), ci * d);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const dd = sqDist(x, i * d, c, ci * d, d);
      if (dd < minD[i]) minD[i] = dd;
      total += minD[i];
    }
    if (ci + 1 === k) break;
    if (total <= 0) {
      idx = rng.int(n); // all points covered exactly: duplicates are unavoidable
      continue;
    }
    idx = rng.weighted(minD, total);
  }
  return c;
}

function updateCentroids(x: Float32Array, n: number, d: number, k: number, assign: Int32Array, c: Float32Array): Int32Array {
  const counts = new Int32Array(k);
  const sums = new Float64Array(k * d);
  for (let i = 0; i < n; i++) {
    const a = assign[i];
    counts[a]++;
    const o = a * d;
    const xo = i * d;
    for (let j = 0; j < d; j++) sums[o + j] += x[xo + j];
  }
  for (let a = 0; a < k; a++) {
    if (counts[a] === 0) continue;
    const o = a * d;
    for (let j = 0; j < d; j++) c[o + j] = sums[o + j] / counts[a];
  }
  return counts;
}

/**
 * Re-seed empty clusters with the points farthest from their centroids (each point used once).
 * Returns how many clusters were re-seeded.
 */
function reseedEmpty(x: Float32Array, n: number, d: number, counts: Int32Array, dist: Float32Array, c: Float32Array): number {
  const empty: number[] = [];
  for (let a = 0; a < counts.length; a++) if (counts[a] === 0) empty.push(a);
  if (!empty.length) return 0;
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => dist[q] - dist[p] || p - q);
  let used = 0;
  for (const a of empty) {
    if (used >= n) break;
    const p = order[used++];
    c.set(x.subarray(p * d, p * d + d), a * d);
    dist[p] = 0;
  }
  return empty.length;
}

/**
 * Capacity-limited assignment: every cluster takes at most `cap` points. Points are placed in
 * order of confidence (smallest distance to their nearest centroid first), each to the nearest
 * centroid with room among its `topk` candidates, else to the nearest centroid with room overall.
 */
export function balancedAssign(x: Float32Array, n: number, d: number, c: Float32Array, k: number, cap: number): { assign: Int32Array; dist: Float32Array } {
  if (cap * k < n) throw new QuantizerInputError(`balanced assignment needs cap × k ≥ n (${cap} × ${k} < ${n})`);
  const topk = Math.min(k, 16);
  const { labels, distances } = new FlatIndex(c, d).search(x, topk);
  const order = Array.from({ length: n }, (_, i) => i).sort((p, q) => distances[p * topk] - distances[q * topk] || p - q);
  const load = new Int32Array(k);
  const assign = new Int32Array(n);
  const dist = new Float32Array(n);
  for (const i of order) {
    let chosen = -1;
    for (let t = 0; t < topk; t++) {
      const a = labels[i * topk + t];
      if (a >= 0 && load[a] < cap) {
        chosen = a;
        dist[i] = distances[i * topk + t];
        break;
      }
    }
    if (chosen < 0) {
      let best = Infinity;
      for (let a = 0; a < k; a++) {
        if (load[a] >= cap) continue;
        const dd = sqDist(x, i * d, c, a * d, d);
        if (dd < best || (dd === best && a < chosen)) {
          best = dd;
          chosen = a;
        }
      }
      dist[i] = best;
    }
    assign[i] = chosen;
    load[chosen]++;
  }
  return { assign, dist };
}

/** Cluster the n×d row-major points `x` into `opts.k` clusters. */
export function kmeans(x: Float32Array, n: number, d: number, opts: KMeansOptions): KMeansResult {
  const k = opts.k;
  if (!Number.isInteger(k) || k < 1) throw new QuantizerInputError(`k must be a positive integer, got ${k}`);
  if (x.length !== n * d) throw new QuantizerInputError(`expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  if (n === 0) throw new QuantizerInputError('cannot cluster zero points');
  const rng = new Rng(opts.seed ?? 0);
  const iterations = opts.iterations ?? 20;

  // Training sample (as faiss: at most maxPointsPerCentroid × k points).
  const cap = (opts.maxPointsPerCentroid ?? 256) * k;
  let sx = x;
  let sn = n;
  if (n > cap) {
    const idx = rng.shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, cap).sort((a, b) => a - b);
    sx = new Float32Array(cap * d);
    idx.forEach((p, i) => sx.set(x.subarray(p * d, p * d + d), i * d));
    sn = cap;
  }

  // k-means++ seeding on at most 32·k of the training points (O(points·k·d) in JS; Lloyd
  // iterations then run on the whole training sample through faiss).
  const initN = Math.min(sn, 32 * k);
  let ix = sx;
  if (initN < sn) {
    const pick = rng.shuffle(Array.from({ length: sn }, (_, i) => i)).slice(0, initN).sort((a, b) => a - b);
    ix = new Float32Array(initN * d);
    pick.forEach((p, i) => ix.set(sx.subarray(p * d, p * d + d), i * d));
  }
  const c = kmeansPlusPlus(ix, initN, d, k, rng);
  let reseeded = 0;
  if (sn > k) {
    for (let it = 0; it < iterations; it++) {
      const { labels, distances } = new FlatIndex(c, d).search(sx);
      const counts = updateCentroids(sx, sn, d, k, labels, c);
      reseeded += reseedEmpty(sx, sn, d, counts, distances, c);
      opts.onIteration?.(it + 1, iterations);
    }
  }

  let assign: Int32Array;
  let dist: Float32Array;
  if (opts.balanced) {
    ({ assign, dist } = balancedAssign(x, n, d, c, k, Math.ceil(n / k)));
    updateCentroids(x, n, d, k, assign, c);
    for (let i = 0; i < n; i++) dist[i] = sqDist(x, i * d, c, assign[i] * d, d);
  } else {
    const r = new FlatIndex(c, d).search(x);
    assign = r.labels;
    dist = r.distances;
  }
  return { centroids: c, assign, dist, reseeded };
}
