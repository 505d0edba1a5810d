/**
 * Collaborative item embeddings and hierarchical clustering ("How to Index Item IDs for
 * Recommendation Foundation Models", Hua et al. 2023): items that co-occur in training sequences
 * get nearby codes. The co-occurrence graph (window ±`window` positions, weight 1/distance) is
 * normalised (D^-1/2 A D^-1/2) and embedded with a randomised truncated SVD (spectral embedding);
 * items with no co-occurrence get a random direction. Then k-means is applied recursively: K clusters, then K sub-clusters inside each, and so on.
 */
import { allocateOccurrences, normalizeRows, randomizedSvd, Rng, sumOccurrences, type Csr } from './core/index.js';
import { QuantizerInputError } from './errors.js';
import { kmeans } from './kmeans.js';

/**
 * Symmetric item co-occurrence as a CSR over item rows, built in typed arrays (memory grows with
 * the distinct pairs, not a map entry per pair: a million-item catalogue fits). For every ordered
 * pair of positions a < b ≤ a + `window` holding different known items i, j, c(i,j) and c(j,i)
 * grow by 1 / (b − a). Columns are sorted within a row; `values` are the exact f64 sums, added in
 * the order the sequences hold the pairs; `rowSum[i]` = Σ_j c(i,j), added in the order row i's
 * columns first appear — the same additions, in the same order, as a map per row would make.
 */
export interface Cooccurrence {
  n: number;
  indptr: Float64Array;
  indices: Int32Array;
  values: Float64Array;
  rowSum: Float64Array;
}

/** {@link Cooccurrence} of item ids in `sequences` (unknown ids ignored). */
export function cooccurrence(ids: readonly string[], sequences: ReadonlyArray<readonly string[]>, window: number): Cooccurrence {
  const n = ids.length;
  const rowOf = new Map(ids.map((id, i) => [id, i]));
  const rowSeqs = sequences.map((seq) => Int32Array.from(seq, (it) => rowOf.get(it) ?? -1)); // looked up once, walked twice
  // every pair of positions a < b ≤ a + window with different known items, in sequence order
  const each = (fn: (i: number, j: number, d: number) => void) => {
    for (const rows of rowSeqs) {
      for (let a = 0; a < rows.length; a++) {
        if (rows[a] < 0) continue;
        for (let b = a + 1; b < Math.min(rows.length, a + 1 + window); b++) {
          if (rows[b] < 0 || rows[b] === rows[a]) continue;
          fn(rows[a], rows[b], b - a);
        }
      }
    }
  };
  const perRow = new Float64Array(n);
  each((i, j) => {
    perRow[i]++;
    perRow[j]++;
  });
  let occ;
  try {
    occ = allocateOccurrences(perRow);
  } catch (err) {
    throw new QuantizerInputError(`co-occurrence: ${(err as Error).message}`);
  }
  const { cursor } = occ;
  each((i, j, d) => {
    // the map version adds c(i,j) then c(j,i) for each pair, in sequence order: so do these lists
    const p = cursor[i]++;
    occ.col[p] = j;
    occ.dist[p] = d;
    const q = cursor[j]++;
    occ.col[q] = i;
    occ.dist[q] = d;
  });
  return { n, ...sumOccurrences(occ) };
}

/**
 * A float32 CSR (as {@link csrFromRows} makes) from a co-occurrence whose every value is mapped by
 * `f(i, j, c)`; entries mapped to a value ≤ 0 are dropped when `positiveOnly`.
 */
export function mapCooccurrence(co: Cooccurrence, f: (i: number, j: number, c: number) => number, positiveOnly = false): Csr {
  const { n } = co;
  const indptr = new Int32Array(n + 1);
  let keep = 0;
  const out = new Float64Array(co.values.length);
  for (let i = 0; i < n; i++) {
    for (let p = co.indptr[i]; p < co.indptr[i + 1]; p++) {
      const v = f(i, co.indices[p], co.values[p]);
      out[p] = v;
      if (!positiveOnly || v > 0) keep++;
    }
  }
  const indices = new Int32Array(keep);
  const values = new Float32Array(keep);
  let q = 0;
  for (let i = 0; i < n; i++) {
    for (let p = co.indptr[i]; p < co.indptr[i + 1]; p++) {
      if (positiveOnly && !(out[p] > 0)) continue;
      indices[q] = co.indices[p];
      values[q++] = out[p];
    }
    indptr[i + 1] = q;
  }
  return { rows: n, cols: n, indptr, indices, values };
}

/** Spectral embedding (n × dim, rows L2-normalised) of item co-occurrence in `sequences`. */
export function cooccurrenceEmbedding(
  ids: readonly string[],
  sequences: ReadonlyArray<readonly string[]>,
  opts: { dim?: number; window?: number; seed?: number } = {},
): { x: Float32Array; dim: number } {
  const n = ids.length;
  const co = cooccurrence(ids, sequences, opts.window ?? 3);
  const deg = co.rowSum;
  const normalised = mapCooccurrence(co, (i, j, v) => v / Math.sqrt(deg[i] * deg[j]));
  const dim = Math.max(1, Math.min(opts.dim ?? 64, n - 1));
  const { U, S, rank } = randomizedSvd(normalised, dim, { seed: opts.seed });
  const x = new Float32Array(n * rank);
  for (let i = 0; i < n; i++) for (let j = 0; j < rank; j++) x[i * rank + j] = U[i * rank + j] * S[j];
  // Items that never co-occur with another have no collaborative signal: a random direction
  // spreads them over the codes instead of piling them into one cluster.
  const rng = new Rng((opts.seed ?? 0) + 17);
  for (let i = 0; i < n; i++) if (deg[i] === 0) for (let j = 0; j < rank; j++) x[i * rank + j] = rng.normal();
  return { x: normalizeRows(x, n, rank), dim: rank };
}

/**
 * Hierarchical k-means codes: level l clusters each level-(l−1) cluster's members into
 * `sizes[l]` sub-clusters. Returns n × L codes (may still contain collisions at the last level
 * when identical points share a leaf).
 */
export function hierarchicalCodes(x: Float32Array, n: number, d: number, sizes: readonly number[], seed = 0): Uint16Array {
  const L = sizes.length;
  const codes = new Uint16Array(n * L);
  const recurse = (members: number[], level: number, salt: number) => {
    if (level >= L || members.length === 0) return;
    const m = members.length;
    const sub = new Float32Array(m * d);
    members.forEach((p, i) => sub.set(x.subarray(p * d, p * d + d), i * d));
    const r = kmeans(sub, m, d, { k: sizes[level], seed: seed * 7919 + salt, iterations: 15 });
    const groups = new Map<number, number[]>();
    members.forEach((p, i) => {
      const a = r.assign[i];
      codes[p * L + level] = a;
      const g = groups.get(a);
      if (g) g.push(p);
      else groups.set(a, [p]);
    });
    for (const [a, g] of groups) if (g.length > 1) recurse(g, level + 1, salt * 31 + a + 1);
    // singletons keep code 0 at deeper levels
  };
  recurse(Array.from({ length: n }, (_, i) => i), 0, 1);
  return codes;
}
