/**
 * Small dense/sparse linear algebra: CSR matrices, randomised truncated SVD (Halko, Martinsson &
 * Tropp 2011) and a Jacobi eigen-solver for the small projected problem. Used for TF-IDF → SVD
 * item embeddings and for the spectral embedding of item co-occurrence.
 */
import { Rng } from './rng.js';

/** Compressed sparse row matrix (rows × cols). */
export interface Csr {
  rows: number;
  cols: number;
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array;
}

/** Build a CSR matrix from per-row maps of column → value. */
export function csrFromRows(rows: ReadonlyArray<Map<number, number>>, cols: number): Csr {
  let nnz = 0;
  for (const r of rows) nnz += r.size;
  const indptr = new Int32Array(rows.length + 1);
  const indices = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let p = 0;
  rows.forEach((r, i) => {
    const entries = [...r.entries()].sort((a, b) => a[0] - b[0]);
    for (const [c, v] of entries) {
      indices[p] = c;
      values[p] = v;
      p++;
    }
    indptr[i + 1] = p;
  });
  return { rows: rows.length, cols, indptr, indices, values };
}

/** Y = A · X, X dense cols×k row-major → Y rows×k. */
function spmm(A: Csr, X: Float64Array, k: number): Float64Array {
  const Y = new Float64Array(A.rows * k);
  for (let i = 0; i < A.rows; i++) {
    const yo = i * k;
    for (let p = A.indptr[i]; p < A.indptr[i + 1]; p++) {
      const v = A.values[p];
      const xo = A.indices[p] * k;
      for (let j = 0; j < k; j++) Y[yo + j] += v * X[xo + j];
    }
  }
  return Y;
}

/** Y = Aᵀ · X, X dense rows×k → Y cols×k. */
function spmmT(A: Csr, X: Float64Array, k: number): Float64Array {
  const Y = new Float64Array(A.cols * k);
  for (let i = 0; i < A.rows; i++) {
    const xo = i * k;
    for (let p = A.indptr[i]; p < A.indptr[i + 1]; p++) {
      const v = A.values[p];
      const yo = A.indices[p] * k;
      for (let j = 0; j < k; j++) Y[yo + j] += v * X[xo + j];
    }
  }
  return Y;
}

/**
 * Orthonormalise the k columns of the n×k row-major matrix in place (modified Gram-Schmidt).
 * The columns are copied out contiguously first: the same arithmetic in the same order as on the
 * strided layout (bit-identical results), at memory speed instead of one cache miss per entry.
 */
function orthonormalize(Q: Float64Array, n: number, k: number): void {
  const C = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) C[j * n + i] = Q[i * k + j];
  for (let j = 0; j < k; j++) {
    const cj = C.subarray(j * n, (j + 1) * n);
    for (let p = 0; p < j; p++) {
      const cp = C.subarray(p * n, (p + 1) * n);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += cj[i] * cp[i];
      for (let i = 0; i < n; i++) cj[i] -= dot * cp[i];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += cj[i] ** 2;
    norm = Math.sqrt(norm);
    if (norm < 1e-12) {
      cj.fill(0);
      continue;
    }
    for (let i = 0; i < n; i++) cj[i] /= norm;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) Q[i * k + j] = C[j * n + i];
}

/**
 * Eigen-decomposition of a symmetric k×k matrix (cyclic Jacobi). Returns eigenvalues (descending)
 * and eigenvectors as columns of a k×k row-major matrix.
 */
export function symmetricEigen(S: Float64Array, k: number): { values: Float64Array; vectors: Float64Array } {
  const A = Float64Array.from(S);
  const V = new Float64Array(k * k);
  for (let i = 0; i < k; i++) V[i * k + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += A[p * k + q] ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < k; p++) {
      for (let q = p + 1; q < k; q++) {
        const apq = A[p * k + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (A[q * k + q] - A[p * k + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = A[r * k + p];
          const arq = A[r * k + q];
          A[r * k + p] = c * arp - s * arq;
          A[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = A[p * k + r];
          const aqr = A[q * k + r];
          A[p * k + r] = c * apr - s * aqr;
          A[q * k + r] = s * apr + c * aqr;
        }
        for (let r = 0; r < k; r++) {
          const vrp = V[r * k + p];
          const vrq = V[r * k + q];
          V[r * k + p] = c * vrp - s * vrq;
          V[r * k + q] = s * vrp + c * vrq;
        }
      }
    }
  }
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => A[b * k + b] - A[a * k + a] || a - b);
  const values = new Float64Array(k);
  const vectors = new Float64Array(k * k);
  order.forEach((src, dst) => {
    values[dst] = A[src * k + src];
    for (let r = 0; r < k; r++) vectors[r * k + dst] = V[r * k + src];
  });
  return { values, vectors };
}

/** Result of {@link randomizedSvd}: A ≈ U · diag(S) · Vᵀ restricted to the top `rank`. */
export interface SvdResult {
  /** rows × rank, row-major. */
  U: Float64Array;
  /** rank singular values, descending. */
  S: Float64Array;
  rank: number;
}

/**
 * Randomised truncated SVD of a sparse matrix: Gaussian range finder with `oversample` extra
 * columns and `powerIters` power iterations, then an exact SVD of the small projection.
 */
export function randomizedSvd(A: Csr, rank: number, opts: { seed?: number; oversample?: number; powerIters?: number } = {}): SvdResult {
  const r = Math.max(1, Math.min(rank, A.rows, A.cols));
  const k = Math.min(r + (opts.oversample ?? 10), A.rows, A.cols);
  const rng = new Rng(opts.seed ?? 0);
  const Omega = new Float64Array(A.cols * k);
  for (let i = 0; i < Omega.length; i++) Omega[i] = rng.normal();
  let Q = spmm(A, Omega, k);
  orthonormalize(Q, A.rows, k);
  for (let it = 0; it < (opts.powerIters ?? 3); it++) {
    const Z = spmmT(A, Q, k);
    orthonormalize(Z, A.cols, k);
    Q = spmm(A, Z, k);
    orthonormalize(Q, A.rows, k);
  }
  // B = Qᵀ A (k × cols); we need the SVD of B: eigen of B Bᵀ (k×k).
  const Bt = spmmT(A, Q, k); // cols × k  (= (QᵀA)ᵀ)
  const BBt = new Float64Array(k * k);
  for (let c = 0; c < A.cols; c++) {
    const o = c * k;
    for (let i = 0; i < k; i++) {
      const bi = Bt[o + i];
      if (bi === 0) continue;
      for (let j = i; j < k; j++) BBt[i * k + j] += bi * Bt[o + j];
    }
  }
  for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) BBt[i * k + j] = BBt[j * k + i];
  const { values, vectors } = symmetricEigen(BBt, k);
  const U = new Float64Array(A.rows * r);
  for (let i = 0; i < A.rows; i++) {
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += Q[i * k + p] * vectors[p * k + j];
      U[i * r + j] = s;
    }
  }
  const S = new Float64Array(r);
  for (let j = 0; j < r; j++) S[j] = Math.sqrt(Math.max(0, values[j]));
  return { U, S, rank: r };
}

/** L2-normalise each row of an n×d matrix in place (zero rows stay zero). */
export function normalizeRows(X: Float32Array, n: number, d: number): Float32Array {
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += X[i * d + j] ** 2;
    if (s > 0) {
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < d; j++) X[i * d + j] *= inv;
    }
  }
  return X;
}
