/**
 * ItemIndex: the mapping between item ids and their collision-free code tuples (semantic IDs),
 * with the codebooks that produced them (when the scheme has any) and build statistics.
 */
import { createHash } from 'node:crypto';
import type { CollisionMode, CollisionReport } from './collisions.js';
import { tupleKey } from './collisions.js';
import type { SchemeName } from './factory.js';
import type { LevelStats } from './stats.js';
import { levelStats } from './stats.js';
import { QuantizerInputError, CollisionError } from './errors.js';
import { assignItems, type NewItems } from './assign.js';

/** Descriptive metadata of an index (what index.json records besides file checksums). */
export interface IndexInfo {
  scheme: SchemeName;
  /** Canonical factory string, e.g. `rqkmeans:3x256`. */
  factory: string;
  seed: number;
  /** How collisions were resolved (`none` for schemes that are collision-free by construction). */
  collisions: CollisionMode | 'none';
  /** Levels produced by the scheme, before an `extra-level` disambiguation level. */
  schemeLevels: number;
  /** Embedding dimension of the codebooks (0 when the scheme has none). */
  dim: number;
  /** Scheme parameters (balanced, iterations, encoder, ...). */
  params: Record<string, unknown>;
  /** 1 for a fresh build, +1 for every incremental add. */
  indexVersion: number;
  /** Items added incrementally since the build. */
  addedItems: number;
  /** Collisions before resolution (at build time). */
  collisionReport: CollisionReport;
  /** Mean squared reconstruction error after each codebook level (semantic schemes). */
  mse?: number[];
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
  perLevel: LevelStats[];
}

/** An item's codes as a plain array. */
export type Codes = number[];

/** Items ↔ code tuples. Immutable; incremental adds produce a new ItemIndex. */
export class ItemIndex {
  /** Number of levels (tuple length). */
  readonly levels: number;
  private readonly rowOfId = new Map<string, number>();
  private readonly rowOfTuple = new Map<string, number>();

  /**
   * @param itemIds item id of each row
   * @param codes n × levels code matrix, row-major
   * @param codebookSizes codes available at each level (token range per level)
   * @param info metadata
   * @param codebooks per scheme level, K×dim centroids (semantic schemes; empty otherwise)
   */
  constructor(
    readonly itemIds: readonly string[],
    readonly codes: Uint16Array,
    readonly codebookSizes: readonly number[],
    readonly info: IndexInfo,
    readonly codebooks: readonly Float32Array[] = [],
  ) {
    this.levels = codebookSizes.length;
    const n = itemIds.length;
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
      const key = tupleKey(codes, this.levels, i);
      const other = this.rowOfTuple.get(key);
      if (other !== undefined) throw new CollisionError(`items ${itemIds[other]} and ${id} share the tuple (${key})`);
      this.rowOfTuple.set(key, i);
    }
  }

  /** Number of items. */
  get size(): number {
    return this.itemIds.length;
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
    if (codes.length !== this.levels) return undefined;
    const r = this.rowOfTuple.get(tupleKey(codes, this.levels, 0));
    return r === undefined ? undefined : this.itemIds[r];
  }

  /**
   * Give new items IDs with this index's codebooks, without retraining: existing items keep
   * their tuples, the result is collision-free and is returned as a new index (version + 1).
   */
  assign(newItems: NewItems, opts: { seed?: number } = {}): ItemIndex {
    return assignItems(this, newItems, opts);
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
      perLevel: levelStats(this.codes, this.size, this.codebookSizes),
    };
  }

  /**
   * Content hash of the id ↔ tuple mapping and the codebook sizes (hex sha256). A model records
   * it at training time and refuses to serve with an index whose hash differs.
   */
  hash(): string {
    const h = createHash('sha256');
    h.update(JSON.stringify({ sizes: this.codebookSizes, n: this.size }));
    h.update(Buffer.from(this.codes.buffer, this.codes.byteOffset, this.codes.byteLength));
    for (const id of this.itemIds) h.update(id + '\n');
    return h.digest('hex');
  }
}
