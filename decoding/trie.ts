/**
 * Prefix trie over code tuples in flat typed arrays (no object per node).
 *
 * Nodes are numbered breadth-first with each node's children contiguous and sorted by code:
 * depth d occupies node ids [levelStart[d], levelStart[d+1]); the children of internal node u are
 * ids [start(u), start(u+1)) with codes `edgeCode[id]`; leaves (depth L) map to item
 * rows through `leafRow`. Under any node the leaves form one contiguous range, which makes
 * subtree exclusion a binary search. Memory: 1 byte per node for the edge code (2 when a codebook
 * has more than 256 codes) + about 2 per internal node (first-child ids, {@link ChildStarts}) + 4
 * per item (its row); built with an LSD radix sort in O(n·L).
 */
import { DecodingInputError } from './errors.js';

/** Children of a node: node ids [start, end) and their codes. */
export interface Children {
  start: number;
  end: number;
  codes: Uint8Array | Uint16Array;
}

/**
 * First-child ids of the internal nodes, compact: an Int32 base per block of 64 nodes plus a
 * Uint16 offset per node (2.06 bytes per node instead of 4), O(1) lookup. Used whenever every
 * block's ids span less than 65,536 (i.e. nodes have at most ~1,000 children on average per
 * block); otherwise the plain Int32Array.
 */
export class ChildStarts {
  private constructor(
    private readonly base: Int32Array | undefined,
    private readonly off: Uint16Array | undefined,
    private readonly plain: Int32Array | undefined,
  ) {}

  /** Compact `starts` (non-decreasing) if it fits, else keep it as it is. */
  static compact(starts: Int32Array): ChildStarts {
    const n = starts.length;
    const blocks = (n + 63) >> 6;
    const base = new Int32Array(blocks);
    const off = new Uint16Array(n);
    for (let b = 0; b < blocks; b++) {
      const first = starts[b << 6];
      base[b] = first;
      const end = Math.min(n, (b + 1) << 6);
      if (starts[end - 1] - first > 0xffff) return new ChildStarts(undefined, undefined, starts);
      for (let i = b << 6; i < end; i++) off[i] = starts[i] - first;
    }
    return new ChildStarts(base, off, undefined);
  }

  /** First child id of internal node `u` (u = #internal gives #nodes). */
  at(u: number): number {
    return this.plain ? this.plain[u] : this.base![u >> 6] + this.off![u];
  }

  /** Bytes used. */
  get bytes(): number {
    return this.plain ? this.plain.byteLength : this.base!.byteLength + this.off!.byteLength;
  }
}

export class PrefixTrie {
  private constructor(
    /** Number of levels (tuple length). */
    readonly levels: number,
    /** Codebook size per level. */
    readonly sizes: readonly number[],
    /** First node id of each depth; levelStart[levels + 1] = number of nodes. */
    readonly levelStart: Int32Array,
    /** First child id of each internal node u, and #nodes at index #internal (see {@link ChildStarts}). */
    private readonly starts: ChildStarts,
    /** Code on the edge into each node (root: unused). */
    readonly edgeCode: Uint8Array | Uint16Array,
    /** Item row of each leaf, by leaf index (node id − levelStart[levels]). */
    readonly leafRow: Int32Array,
  ) {}

  /** Root node id (0). */
  get root(): number {
    return 0;
  }

  /** Number of nodes. */
  get numNodes(): number {
    return this.edgeCode.length;
  }

  /** Number of items (leaves). */
  get numItems(): number {
    return this.leafRow.length;
  }

  /** One past the largest item row of a leaf (= numItems unless built over a subset of rows). */
  get rowBound(): number {
    let m = -1;
    for (const r of this.leafRow) if (r > m) m = r;
    return m + 1;
  }

  /** Bytes used by the arrays. */
  get bytes(): number {
    return this.levelStart.byteLength + this.starts.bytes + this.edgeCode.byteLength + this.leafRow.byteLength;
  }

  /**
   * Build from an n × L row-major code matrix. Rows must be distinct and codes below `sizes`.
   * With `opts.rows`, only those rows become leaves (e.g. an index's live items, without retired
   * ones); `leafRow` still names rows of the full matrix. Throws {@link DecodingInputError}
   * otherwise.
   */
  static build(codes: ArrayLike<number>, n: number, sizes: readonly number[], opts: { rows?: ArrayLike<number> } = {}): PrefixTrie {
    const L = sizes.length;
    if (L < 1) throw new DecodingInputError('a trie needs at least one level');
    if (codes.length !== n * L) throw new DecodingInputError(`code matrix has ${codes.length} entries, expected ${n} × ${L}`);
    // LSD radix sort of row indices by (c0, c1, ..., cL-1).
    let order: Int32Array<ArrayBuffer>;
    if (opts.rows) {
      order = Int32Array.from(opts.rows);
      for (const r of order) if (!(r >= 0 && r < n)) throw new DecodingInputError(`row ${r} is outside [0, ${n})`);
      n = order.length;
    } else {
      order = new Int32Array(n);
      for (let i = 0; i < n; i++) order[i] = i;
    }
    let tmp = new Int32Array(n);
    for (let l = L - 1; l >= 0; l--) {
      const K = sizes[l];
      const count = new Int32Array(K + 1);
      for (let i = 0; i < n; i++) {
        const c = codes[order[i] * L + l];
        if (!(c >= 0 && c < K)) throw new DecodingInputError(`row ${order[i]}: code ${c} at level ${l} is outside [0, ${K})`);
        count[c + 1]++;
      }
      for (let c = 0; c < K; c++) count[c + 1] += count[c];
      for (let j = 0; j < n; j++) {
        const r = order[j];
        tmp[count[codes[r * L + l]]++] = r;
      }
      [order, tmp] = [tmp, order];
    }
    // firstDiff[j]: first level where sorted row j differs from row j-1 (0 for j = 0).
    const firstDiff = new Uint8Array(n);
    const perDepth = new Int32Array(L + 1);
    perDepth[0] = 1;
    for (let j = 0; j < n; j++) {
      let f = 0;
      if (j > 0) {
        const a = order[j - 1] * L;
        const b = order[j] * L;
        while (f < L && codes[a + f] === codes[b + f]) f++;
        if (f === L) throw new DecodingInputError(`rows ${order[j - 1]} and ${order[j]} have the same tuple`);
      }
      firstDiff[j] = f;
      for (let d = f + 1; d <= L; d++) perDepth[d]++;
    }
    const levelStart = new Int32Array(L + 2);
    for (let d = 0; d <= L; d++) levelStart[d + 1] = levelStart[d] + perDepth[d];
    const numNodes = levelStart[L + 1];
    const numInternal = levelStart[L];
    // one byte per edge when every codebook has ≤ 256 codes
    const edgeCode = Math.max(...sizes) <= 256 ? new Uint8Array(numNodes) : new Uint16Array(numNodes);
    const childStart = new Int32Array(numInternal + 1);
    childStart[numInternal] = numNodes;
    const next = levelStart.slice(0, L + 1); // next free id per depth
    for (let j = 0; j < n; j++) {
      const r = order[j] * L;
      for (let d = firstDiff[j] + 1; d <= L; d++) {
        const id = next[d]++;
        edgeCode[id] = codes[r + d - 1];
        // the first child of a fresh parent starts its child range
        if (d < L) childStart[id] = next[d + 1];
      }
    }
    childStart[0] = 1;
    const leafRow = order; // leaf j ↔ sorted row j
    return new PrefixTrie(L, [...sizes], levelStart, ChildStarts.compact(childStart), edgeCode, leafRow);
  }

  /** Depth of a node (0 = root, levels = leaf). */
  depth(node: number): number {
    let d = 0;
    while (node >= this.levelStart[d + 1]) d++;
    return d;
  }

  /** True if the node is a leaf (a complete tuple). */
  isLeaf(node: number): boolean {
    return node >= this.levelStart[this.levels];
  }

  /** Children of an internal node, in code order. O(1). */
  children(node: number): Children {
    const start = this.starts.at(node);
    const end = this.starts.at(node + 1);
    return { start, end, codes: this.edgeCode.subarray(start, end) };
  }

  /** Child of `node` with `code`, or -1 (binary search over the sorted children). */
  child(node: number, code: number): number {
    let lo = this.starts.at(node);
    let hi = this.starts.at(node + 1) - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.edgeCode[mid];
      if (c === code) return mid;
      if (c < code) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Leaf index of a leaf node. */
  leafIndex(node: number): number {
    return node - this.levelStart[this.levels];
  }

  /** Item row of a leaf node. */
  rowOfLeaf(leaf: number): number {
    return this.leafRow[leaf - this.levelStart[this.levels]];
  }

  /** Leaf indices [lo, hi) under a node. O(levels). */
  leafRange(node: number): [number, number] {
    let a = node;
    let b = node;
    while (!this.isLeaf(a)) {
      a = this.starts.at(a);
      b = this.starts.at(b + 1) - 1;
    }
    const base = this.levelStart[this.levels];
    return [a - base, b - base + 1];
  }

  /** The leaf node of a full tuple, or -1. */
  find(codes: ArrayLike<number>): number {
    if (codes.length !== this.levels) return -1;
    let node = 0;
    for (let l = 0; l < this.levels && node >= 0; l++) node = this.child(node, codes[l]);
    return node;
  }

  /** The codes of a leaf (walks the numbering back up; O(levels · log)). */
  codesOf(leaf: number): number[] {
    const out = new Array<number>(this.levels);
    let node = leaf;
    for (let d = this.levels; d >= 1; d--) {
      out[d - 1] = this.edgeCode[node];
      node = this.parent(node, d);
    }
    return out;
  }

  /** Parent of a node at depth d ≥ 1 (binary search over childStart of depth d−1). */
  private parent(node: number, d: number): number {
    let lo = this.levelStart[d - 1];
    let hi = this.levelStart[d] - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts.at(mid) <= node) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
