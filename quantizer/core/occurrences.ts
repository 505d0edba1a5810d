/**
 * Weighted pair counts in typed arrays: the shared second half of every "count (row, column) pairs
 * with weight 1/distance" job (item co-occurrence for the collaborative embeddings, item
 * transitions for the transition model). Memory grows with the pairs, not a map entry per pair.
 */

/** Occurrence lists per row: row r's occurrences are `col[p]`, `dist[p]` for p in ptr[r] .. ptr[r+1]. */
export interface Occurrences {
  /** n + 1 row pointers into `col` / `dist`. */
  ptr: Float64Array;
  col: Int32Array;
  /** Distance of each occurrence (its weight is 1 / distance). */
  dist: Uint16Array;
}

/** Summed pair counts: a CSR with sorted columns, f64 values, and each row's total. */
export interface PairCounts {
  indptr: Float64Array;
  indices: Int32Array;
  values: Float64Array;
  /** Σ of the row's values, added in the order its columns first appear. */
  rowSum: Float64Array;
}

/**
 * Empty occurrence lists sized by `perRow[r]` occurrences for row r; returns them with a cursor
 * (the next free slot of each row) for the caller to fill in order.
 */
export function allocateOccurrences(perRow: Float64Array): Occurrences & { cursor: Float64Array } {
  const n = perRow.length;
  const ptr = new Float64Array(n + 1);
  for (let r = 0; r < n; r++) ptr[r + 1] = ptr[r] + perRow[r];
  const total = ptr[n];
  if (total >= 2 ** 32) throw new RangeError(`${total} pair occurrences exceed what one table holds (2^32)`);
  return { ptr, col: new Int32Array(total), dist: new Uint16Array(total), cursor: ptr.slice(0, n) };
}

/**
 * Sum each row's occurrences per distinct column: weights 1/dist added in list order (so a
 * column's sum is the same float as adding its occurrences one by one as they came), columns then
 * sorted; the row total adds the distinct columns' sums in first-appearance order.
 */
export function sumOccurrences(occ: Occurrences): PairCounts {
  const n = occ.ptr.length - 1;
  const { ptr, col, dist } = occ;
  const slot = new Int32Array(n).fill(-1);
  const indptr = new Float64Array(n + 1);
  for (let r = 0; r < n; r++) {
    let distinct = 0;
    for (let p = ptr[r]; p < ptr[r + 1]; p++) {
      if (slot[col[p]] === r) continue;
      slot[col[p]] = r;
      distinct++;
    }
    indptr[r + 1] = indptr[r] + distinct;
  }
  slot.fill(-1);
  const indices = new Int32Array(indptr[n]);
  const values = new Float64Array(indptr[n]);
  const rowSum = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const base = indptr[r];
    const m = indptr[r + 1] - base;
    if (m === 0) continue;
    const cols = indices.subarray(base, base + m);
    const sums = new Float64Array(m);
    let k = 0;
    for (let p = ptr[r]; p < ptr[r + 1]; p++) {
      const c = col[p];
      if (slot[c] < 0) {
        slot[c] = k;
        cols[k++] = c;
      }
      sums[slot[c]] += 1 / dist[p];
    }
    let total = 0;
    for (let t = 0; t < m; t++) total += sums[t];
    rowSum[r] = total;
    const order = Array.from(cols).sort((x, y) => x - y);
    for (let t = 0; t < m; t++) values[base + t] = sums[slot[order[t]]];
    for (let t = 0; t < m; t++) {
      cols[t] = order[t];
      slot[order[t]] = -1;
    }
  }
  return { indptr, indices, values, rowSum };
}
