/** `sequential:LxK` — items numbered by first appearance in the training sequences, as mixed-radix digits. */
import { collisionReport } from '../collisions.js';
import { CollisionError } from '../errors.js';
import { capacity, checkCapacity } from './common.js';
import type { IndexingScheme } from './scheme.js';

/** Write integer m as digits in the mixed radix `sizes` (most significant first). */
export function toDigits(m: number, sizes: readonly number[], out: Uint16Array, o: number): void {
  for (let l = sizes.length - 1; l >= 0; l--) {
    out[o + l] = m % sizes[l];
    m = Math.floor(m / sizes[l]);
  }
}

/** Training-sequence first-appearance order of `ids` (unseen items after, in input order). */
export function firstAppearanceOrder(ids: readonly string[], sequences: ReadonlyArray<readonly string[]>): number[] {
  const row = new Map(ids.map((id, i) => [id, i]));
  const seen = new Uint8Array(ids.length);
  const order: number[] = [];
  for (const s of sequences) {
    for (const it of s) {
      const r = row.get(it);
      if (r !== undefined && !seen[r]) {
        seen[r] = 1;
        order.push(r);
      }
    }
  }
  for (let r = 0; r < ids.length; r++) if (!seen[r]) order.push(r);
  return order;
}

export const sequentialScheme: IndexingScheme = {
  name: 'sequential',
  description: 'items numbered by first appearance in the training sequences (mixed-radix digits)',
  build(input, ctx) {
    const { sizes } = ctx;
    const n = input.ids.length;
    checkCapacity(ctx.factory, sizes, n);
    const order = firstAppearanceOrder(input.ids, ctx.sequences());
    const codes = new Uint16Array(n * sizes.length);
    order.forEach((row, m) => toDigits(m, sizes, codes, row * sizes.length));
    return { codes, sizes, collisions: 'none', dim: 0, params: {}, report: collisionReport(codes, n, sizes.length) };
  },
  // numbering continues after every item ever numbered (retired items keep their numbers)
  assign({ index, all, newIds }) {
    const n = index.size;
    const m = newIds.length;
    const cap = capacity(index.codebookSizes);
    if (n + m > cap) throw new CollisionError(`${index.info.factory} has room for ${cap} items; cannot hold ${n + m}`);
    for (let i = 0; i < m; i++) toDigits(n + i, index.codebookSizes, all, (n + i) * index.levels);
  },
};
