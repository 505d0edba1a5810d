/**
 * Residual quantisation by k-means (RQ-KMeans): level 1 clusters the vectors, level 2 clusters the
 * residuals x − c₁, and so on. An item's semantic ID is its tuple of cluster indices. The
 * codebooks are kept so that new items can be encoded later without retraining.
 */
import { kmeans } from './kmeans.js';
import { FlatIndex } from './faiss.js';
import { QuantizerInputError } from './errors.js';

/** Options for {@link trainRQ}. */
export interface RQOptions {
  /** Codebook size per level, e.g. [256, 256, 256]. */
  sizes: number[];
  seed?: number;
  iterations?: number;
  /** Capacity-balanced assignment at each level (see kmeans `balanced`). */
  balanced?: boolean;
  /** Progress: (level, iteration, iterations). */
  onProgress?: (level: number, iter: number, total: number) => void;
}

/** Trained residual codebooks and the codes of the training vectors. */
export interface RQResult {
  /** Per level: sizes[l] × d row-major centroids. */
  codebooks: Float32Array[];
  /** n × L codes, row-major. */
  codes: Uint16Array;
  /** Mean squared reconstruction error after each level (index 0 = after level 1). */
  mse: number[];
}

/** Check an n×d embedding matrix: right length, finite values. */
export function checkVectors(x: Float32Array, n: number, d: number): void {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 0 || d < 1) throw new QuantizerInputError(`bad shape ${n}×${d}`);
  if (x.length !== n * d) throw new QuantizerInputError(`expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) throw new QuantizerInputError(`embedding of item #${Math.floor(i / d)} has a non-finite value at dimension ${i % d}`);
  }
}

/** Train RQ-KMeans on n×d vectors. */
export function trainRQ(x: Float32Array, n: number, d: number, opts: RQOptions): RQResult {
  checkVectors(x, n, d);
  const L = opts.sizes.length;
  if (L < 1) throw new QuantizerInputError('need at least one level');
  for (const k of opts.sizes) if (!Number.isInteger(k) || k < 2 || k > 65536) throw new QuantizerInputError(`codebook size must be in [2, 65536], got ${k}`);
  const residual = Float32Array.from(x);
  const codes = new Uint16Array(n * L);
  const codebooks: Float32Array[] = [];
  const mse: number[] = [];
  for (let l = 0; l < L; l++) {
    const r = kmeans(residual, n, d, {
      k: opts.sizes[l],
      seed: (opts.seed ?? 0) * 1000 + l,
      iterations: opts.iterations,
      balanced: opts.balanced,
      onIteration: (it, tot) => opts.onProgress?.(l, it, tot),
    });
    codebooks.push(r.centroids);
    let err = 0;
    for (let i = 0; i < n; i++) {
      const a = r.assign[i];
      codes[i * L + l] = a;
      const o = i * d;
      const co = a * d;
      for (let j = 0; j < d; j++) {
        residual[o + j] -= r.centroids[co + j];
        err += residual[o + j] * residual[o + j];
      }
    }
    mse.push(n ? err / n : 0);
  }
  return { codebooks, codes, mse };
}

/**
 * Encode vectors with trained codebooks (greedy: nearest centroid per level on the residual).
 * Returns n × L codes and, per item, the squared distances of the last level's `lastTopk` best
 * codes (for collision re-assignment) in `lastCandidates` / `lastDistances`.
 */
export function encodeRQ(
  codebooks: Float32Array[],
  x: Float32Array,
  n: number,
  d: number,
  lastTopk = 1,
): { codes: Uint16Array; lastCandidates: Int32Array; lastDistances: Float32Array } {
  checkVectors(x, n, d);
  const L = codebooks.length;
  const residual = Float32Array.from(x);
  const codes = new Uint16Array(n * L);
  let lastCandidates: Int32Array = new Int32Array(0);
  let lastDistances: Float32Array = new Float32Array(0);
  for (let l = 0; l < L; l++) {
    const cb = codebooks[l];
    const k = cb.length / d;
    const topk = l === L - 1 ? Math.min(lastTopk, k) : 1;
    const { labels, distances } = new FlatIndex(cb, d).search(residual, topk);
    if (l === L - 1) {
      lastCandidates = labels;
      lastDistances = distances;
    }
    for (let i = 0; i < n; i++) {
      const a = labels[i * topk];
      codes[i * L + l] = a;
      const o = i * d;
      const co = a * d;
      for (let j = 0; j < d; j++) residual[o + j] -= cb[co + j];
    }
  }
  return { codes, lastCandidates, lastDistances };
}

/** Sum of the codewords of each item's tuple (the reconstruction), n×d. */
export function decodeRQ(codebooks: Float32Array[], codes: Uint16Array, n: number, d: number): Float32Array {
  const L = codebooks.length;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < L; l++) {
      const co = codes[i * L + l] * d;
      const cb = codebooks[l];
      for (let j = 0; j < d; j++) out[i * d + j] += cb[co + j];
    }
  }
  return out;
}
