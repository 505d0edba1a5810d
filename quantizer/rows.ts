/**
 * RQ-KMeans for matrices that need not be in memory: the codebooks are trained on a seeded random
 * sample of the rows, then every row is assigned chunk by chunk. Memory: the sample, one chunk
 * and the n × L codes — not the n × d matrix (nor the two copies of it the in-memory build makes:
 * residuals and collision hints). Rows come from a {@link VectorRows}: an in-memory matrix
 * ({@link memoryRows}) or a file read in pieces (src/indexing/embed/npy.ts `openEmbeddingRows`);
 * the result does not depend on where they are read from, nor — tested — on the chunk size (faiss
 * computes the nearest codewords in float32 with batch-size-dependent arithmetic, so only an exact
 * tie in the last bit could fall differently).
 */
import { Rng } from './core/index.js';
import { QuantizerInputError } from './errors.js';
import { encodeRQ, trainRQ, type RQOptions } from './rq.js';

/** Rows of an n × d float32 matrix, read on demand. */
export interface VectorRows {
  readonly n: number;
  readonly d: number;
  /** Rows `start` … `start + count − 1`, row-major, finite (a reader refuses non-finite values with a typed error). */
  read(start: number, count: number): Float32Array;
}

/** An in-memory n × d matrix as {@link VectorRows}. */
export function memoryRows(x: Float32Array, n: number, d: number): VectorRows {
  if (x.length !== n * d) throw new QuantizerInputError(`expected ${n}×${d} = ${n * d} values, got ${x.length}`);
  return { n, d, read: (start, count) => x.slice(start * d, (start + count) * d) };
}

/** `size` distinct rows of 0 … n − 1, seeded, ascending (every row when size ≥ n; Floyd's algorithm otherwise). */
export function sampleRows(n: number, size: number, seed: number): Int32Array {
  if (size >= n) return Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  for (let j = n - size; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from(chosen).sort();
}

/** Options of {@link trainRQSampled}. */
export interface SampledRQOptions extends RQOptions {
  /** Rows the codebooks are trained on (a seeded random sample; ≥ n: all rows). */
  sample: number;
  /** Rows assigned per chunk (default 65,536). */
  chunkRows?: number;
  /** Progress of the assignment: (rows done, rows). */
  onAssign?: (done: number, total: number) => void;
}

/** What {@link trainRQSampled} returns. */
export interface SampledRQResult {
  /** Per level: sizes[l] × d centroids, trained on the sample. */
  codebooks: Float32Array[];
  /** n × L codes of every row (greedy residual encoding with the codebooks). */
  codes: Uint16Array;
  /** Mean squared reconstruction error after each level, on the sample. */
  mse: number[];
  /** Per row: squared distance of its residual to its last-level codeword. */
  lastCost: Float64Array;
  /** Rows trained on. */
  sample: number;
}

/** RQ-KMeans trained on a sample of `rows`, every row assigned in chunks (see the file comment). */
export function trainRQSampled(rows: VectorRows, opts: SampledRQOptions): SampledRQResult {
  const { n, d } = rows;
  if (!Number.isInteger(opts.sample) || opts.sample < 1) throw new QuantizerInputError(`the training sample must be a positive integer, got ${opts.sample}`, { param: 'trainSample' });
  const chunk = opts.chunkRows ?? 65_536;
  if (!Number.isInteger(chunk) || chunk < 1) throw new QuantizerInputError(`rows per chunk must be a positive integer, got ${chunk}`, { param: 'chunkRows' });
  const picked = sampleRows(n, opts.sample, (opts.seed ?? 0) * 1000 + 999);
  const s = picked.length;
  const xs = new Float32Array(s * d);
  // consecutive sampled rows are read as one run
  for (let a = 0; a < s; ) {
    let b = a + 1;
    while (b < s && picked[b] === picked[b - 1] + 1 && b - a < chunk) b++;
    xs.set(rows.read(picked[a], b - a), a * d);
    a = b;
  }
  const rq = trainRQ(xs, s, d, opts);
  const L = opts.sizes.length;
  const codes = new Uint16Array(n * L);
  const lastCost = new Float64Array(n);
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const x = rows.read(start, m);
    const enc = encodeRQ(rq.codebooks, x, m, d, 1);
    codes.set(enc.codes, start * L);
    // the last level's squared distance, in float64 from the residual (faiss's float32 distances
    // differ in the last bits with the batch size; this does not)
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        let r = x[i * d + j];
        for (let l = 0; l < L; l++) r -= rq.codebooks[l][enc.codes[i * L + l] * d + j];
        s += r * r;
      }
      lastCost[start + i] = s;
    }
    opts.onAssign?.(start + m, n);
  }
  return { codebooks: rq.codebooks, codes, mse: rq.mse, lastCost, sample: s };
}
