/**
 * ItemIndex: the mapping between item ids and their collision-free code tuples (semantic IDs),
 * with the codebooks that produced them (when the scheme has any) and build statistics.
 */
import { createHash } from 'node:crypto';
import type { CollisionMode } from './collisions.js';
import { tupleKey } from './collisions.js';
import type { IndexInfo } from './info.js';
import type { LevelStats } from './stats.js';
import { levelStats } from './stats.js';
import { QuantizerInputError, CollisionError } from './errors.js';
import { getScheme } from './schemes/index.js';

export type { IndexInfo } from './info.js';

/** New items: ids, and their content embeddings for semantic schemes. */
export interface NewItems {
  ids: readonly string[];
  /** m × dim content embeddings (same encoder as the build). */
  embeddings?: Float32Array;
  dim?: number;
}

/** Statistics reported by `semrec index stats`. */
export interface IndexStats {
  items: number;
  levels: number;
  codebookSizes: number[];
  scheme: string;
  collisions: CollisionMode | 'none';
  collisionsResolved: number;
  collidingGroups: number;
  maxGroup: number;
  /** Retired items (kept as rows so their tuples are never reused; never recommended). */
  retired: number;
  perLevel: LevelStats[];
}

/** An item's codes as a plain array. */
export type Codes = number[];

/** Items ↔ code tuples. Immutable; incremental adds produce a new ItemIndex. */
export class ItemIndex {
  /** Number of levels (tuple length). */
  readonly levels: number;
  private readonly rowOfId = new Map<string, number>();
  /** Tuple → row; keys are the tuple packed into one number (mixed radix) when it fits in 2^53, else a string. */
  private readonly rowOfTuple = new Map<number | string, number>();
  private readonly packable: boolean;

  /**
   * @param itemIds item id of each row
   * @param codes n × levels code matrix, row-major
   * @param codebookSizes codes available at each level (token range per level)
   * @param info metadata
   * @param codebooks per scheme level, K×dim centroids (semantic schemes; empty otherwise)
   * @param retiredRows rows of retired items: still rows (their tuples stay taken, so they are
   *   never reused) but no longer candidates (`liveRows` leaves them out)
   */
  constructor(
    readonly itemIds: readonly string[],
    readonly codes: Uint16Array,
    readonly codebookSizes: readonly number[],
    readonly info: IndexInfo,
    readonly codebooks: readonly Float32Array[] = [],
    retiredRows: ArrayLike<number> = [],
  ) {
    this.levels = codebookSizes.length;
    this.packable = codebookSizes.reduce((a, b) => a * b, 1) <= Number.MAX_SAFE_INTEGER;
    const n = itemIds.length;
    this.retiredRows = Int32Array.from(new Set(Array.from(retiredRows))).sort();
    for (const r of this.retiredRows) if (!(Number.isInteger(r) && r >= 0 && r < n)) throw new QuantizerInputError(`retired row ${r} is outside [0, ${n})`);
    if (codes.length !== n * this.levels) {
      throw new QuantizerInputError(`code matrix has ${codes.length} entries, expected ${n} × ${this.levels}`);
    }
    for (let i = 0; i < n; i++) {
      const id = itemIds[i];
      if (typeof id !== 'string' || id === '' || /[\n\r]/.test(id)) throw new QuantizerInputError(`item #${i} has an invalid id ${JSON.stringify(id)}`);
      if (this.rowOfId.has(id)) throw new QuantizerInputError(`duplicate item id ${JSON.stringify(id)}`);
      this.rowOfId.set(id, i);
      for (let l = 0; l < this.levels; l++) {
        if (codes[i * this.levels + l] >= codebookSizes[l]) {
          throw new QuantizerInputError(`item ${id}: code ${codes[i * this.levels + l]} at level ${l} ≥ codebook size ${codebookSizes[l]}`);
        }
      }
      const key = this.keyAt(codes, i * this.levels);
      const other = this.rowOfTuple.get(key);
      if (other !== undefined) throw new CollisionError(`items ${itemIds[other]} and ${id} share the tuple (${tupleKey(codes, this.levels, i)})`);
      this.rowOfTuple.set(key, i);
    }
  }

  /** Rows of retired items, sorted (see the constructor). */
  readonly retiredRows: Int32Array;

  /** Number of items (rows), retired ones included. */
  get size(): number {
    return this.itemIds.length;
  }

  /** True if the row's item was retired (`retire`, i.e. `semrec index remove`). */
  isRetired(row: number): boolean {
    const a = this.retiredRows;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (a[m] < row) lo = m + 1;
      else hi = m;
    }
    return lo < a.length && a[lo] === row;
  }

  /** Rows that can be recommended (all rows but retired ones), ascending. */
  liveRows(): Int32Array {
    const out = new Int32Array(this.size - this.retiredRows.length);
    let j = 0;
    let k = 0;
    for (let r = 0; r < this.size; r++) {
      if (k < this.retiredRows.length && this.retiredRows[k] === r) k++;
      else out[j++] = r;
    }
    return out;
  }

  /**
   * Whether a model trained on the index with content hash `hash` can serve this index: it is
   * this index or one of its ancestors ({@link IndexInfo.lineage}).
   */
  descendsFrom(hash: string): boolean {
    return hash === this.hash() || (this.info.lineage ?? []).includes(hash);
  }

  /**
   * Retire items: they stay rows (their tuples are never given to another item) but are no
   * longer recommended. Returns a new index (version + 1) that records this one in its lineage.
   * Unknown or already retired ids are refused.
   */
  retire(ids: readonly string[]): ItemIndex {
    if (ids.length === 0) throw new QuantizerInputError('no items to retire');
    const rows: number[] = [];
    const unknown: string[] = [];
    const again: string[] = [];
    for (const id of ids) {
      const r = this.rowOfId.get(id);
      if (r === undefined) unknown.push(id);
      else if (this.isRetired(r)) again.push(id);
      else rows.push(r);
    }
    const list = (a: string[]) => a.slice(0, 5).join(', ') + (a.length > 5 ? `, … (${a.length})` : '');
    if (unknown.length) throw new QuantizerInputError(`not in the index: ${list(unknown)}`);
    if (again.length) throw new QuantizerInputError(`already retired: ${list(again)}`);
    if (new Set(rows).size !== rows.length) throw new QuantizerInputError('an item is listed twice');
    const info: IndexInfo = { ...this.info, indexVersion: this.info.indexVersion + 1, lineage: [...(this.info.lineage ?? []), this.hash()] };
    return new ItemIndex(this.itemIds, this.codes, this.codebookSizes, info, this.codebooks, [...this.retiredRows, ...rows]);
  }

  /** Row of an item id, or undefined. */
  rowOf(itemId: string): number | undefined {
    return this.rowOfId.get(itemId);
  }

  /** Codes of an item, or undefined if unknown. */
  codeOf(itemId: string): Codes | undefined {
    const r = this.rowOfId.get(itemId);
    return r === undefined ? undefined : Array.from(this.codes.subarray(r * this.levels, (r + 1) * this.levels));
  }

  /** Item with exactly these codes, or undefined. */
  itemOf(codes: ArrayLike<number>): string | undefined {
    const r = this.rowOfCodes(codes);
    return r === undefined ? undefined : this.itemIds[r];
  }

  /** Row of the item with exactly these codes (retired items included), or undefined. O(1). */
  rowOfCodes(codes: ArrayLike<number>): number | undefined {
    if (codes.length !== this.levels) return undefined;
    for (let l = 0; l < this.levels; l++) if (!(Number.isInteger(codes[l]) && codes[l] >= 0 && codes[l] < this.codebookSizes[l])) return undefined;
    return this.rowOfTuple.get(this.keyAt(codes, 0));
  }

  /** The lookup key of the tuple codes[o .. o+levels). */
  private keyAt(codes: ArrayLike<number>, o: number): number | string {
    if (this.packable) {
      let k = 0;
      for (let l = 0; l < this.levels; l++) k = k * this.codebookSizes[l] + codes[o + l];
      return k;
    }
    let s = '';
    for (let l = 0; l < this.levels; l++) s += (l ? ',' : '') + codes[o + l];
    return s;
  }

  /**
   * Give new items IDs with this index's codebooks, without retraining: existing items keep
   * their tuples, the result is collision-free and is returned as a new index (version + 1).
   */
  assign(newItems: NewItems, opts: { seed?: number } = {}): ItemIndex {
    const m = newItems.ids.length;
    for (const id of newItems.ids) if (this.rowOf(id) !== undefined) throw new QuantizerInputError(`item ${JSON.stringify(id)} is already in the index`);
    const scheme = getScheme(this.info.scheme);
    if (!scheme) throw new QuantizerInputError(`scheme ${JSON.stringify(this.info.scheme)} of this index is not registered in this build`);
    const all = new Uint16Array((this.size + m) * this.levels);
    all.set(this.codes);
    // the scheme fills the new rows; retired rows stay rows, so their tuples count as taken
    scheme.assign({ index: this, all, newIds: newItems.ids, embeddings: newItems.embeddings, dim: newItems.dim, seed: opts.seed ?? this.info.seed });
    const info: IndexInfo = { ...this.info, indexVersion: this.info.indexVersion + 1, addedItems: this.info.addedItems + m, lineage: [...(this.info.lineage ?? []), this.hash()] };
    return new ItemIndex([...this.itemIds, ...newItems.ids], all, this.codebookSizes, info, this.codebooks, this.retiredRows);
  }

  /** Build and usage statistics. */
  stats(): IndexStats {
    const rep = this.info.collisionReport;
    return {
      items: this.size,
      levels: this.levels,
      codebookSizes: [...this.codebookSizes],
      scheme: this.info.factory,
      collisions: this.info.collisions,
      collisionsResolved: this.info.collisions === 'none' ? 0 : rep.collisions,
      collidingGroups: rep.collidingGroups,
      maxGroup: rep.maxGroup,
      retired: this.retiredRows.length,
      perLevel: levelStats(this.codes, this.size, this.codebookSizes),
    };
  }

  /**
   * Content hash of the id ↔ tuple mapping and the codebook sizes (hex sha256). A model records
   * it at training time and refuses to serve with an index whose hash differs.
   */
  hash(): string {
    return (this.hashCache ??= this.computeHash());
  }

  private hashCache?: string;

  private computeHash(): string {
    const h = createHash('sha256');
    h.update(JSON.stringify({ sizes: this.codebookSizes, n: this.size }));
    h.update(Buffer.from(this.codes.buffer, this.codes.byteOffset, this.codes.byteLength));
    for (const id of this.itemIds) h.update(id + '\n');
    // retired rows change what may be recommended; indexes without any hash as before
    if (this.retiredRows.length) h.update('retired:' + this.retiredRows.join(','));
    return h.digest('hex');
  }
}
