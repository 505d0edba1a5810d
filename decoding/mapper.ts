/**
 * Mapper: code tuple ↔ item id in O(1) both ways. Tuples are packed into one number
 * (mixed radix over the codebook sizes) when the tuple space fits in 2^53, otherwise into a string.
 */
import { DecodingInputError } from './errors.js';

export class Mapper {
  private readonly byKey = new Map<number | string, number>();
  private readonly rowById = new Map<string, number>();
  private readonly packable: boolean;
  readonly levels: number;

  /**
   * @param itemIds id of each row
   * @param codes n × L row-major codes
   * @param sizes codebook size per level
   */
  constructor(
    readonly itemIds: readonly string[],
    readonly codes: ArrayLike<number>,
    readonly sizes: readonly number[],
  ) {
    this.levels = sizes.length;
    this.packable = sizes.reduce((a, b) => a * b, 1) <= Number.MAX_SAFE_INTEGER;
    if (codes.length !== itemIds.length * this.levels) throw new DecodingInputError(`code matrix has ${codes.length} entries, expected ${itemIds.length} × ${this.levels}`);
    for (let i = 0; i < itemIds.length; i++) {
      const key = this.keyOfRow(i);
      if (this.byKey.has(key)) throw new DecodingInputError(`items ${itemIds[this.byKey.get(key)!]} and ${itemIds[i]} share a tuple`);
      this.byKey.set(key, i);
      this.rowById.set(itemIds[i], i);
    }
  }

  private keyOf(get: (l: number) => number): number | string {
    if (this.packable) {
      let k = 0;
      for (let l = 0; l < this.levels; l++) k = k * this.sizes[l] + get(l);
      return k;
    }
    let s = '';
    for (let l = 0; l < this.levels; l++) s += (l ? ',' : '') + get(l);
    return s;
  }

  private keyOfRow(i: number): number | string {
    return this.keyOf((l) => this.codes[i * this.levels + l]);
  }

  /** Row of a tuple, or -1. */
  rowOfCodes(codes: ArrayLike<number>): number {
    if (codes.length !== this.levels) return -1;
    for (let l = 0; l < this.levels; l++) if (!(codes[l] >= 0 && codes[l] < this.sizes[l])) return -1;
    return this.byKey.get(this.keyOf((l) => codes[l])) ?? -1;
  }

  /** Item id of a tuple, or undefined. */
  itemOf(codes: ArrayLike<number>): string | undefined {
    const r = this.rowOfCodes(codes);
    return r < 0 ? undefined : this.itemIds[r];
  }

  /** Row of an item id, or -1. */
  rowOf(itemId: string): number {
    return this.rowById.get(itemId) ?? -1;
  }

  /** Codes of an item id, or undefined. */
  codesOf(itemId: string): number[] | undefined {
    const r = this.rowById.get(itemId);
    if (r === undefined) return undefined;
    return Array.from({ length: this.levels }, (_, l) => this.codes[r * this.levels + l]);
  }
}
