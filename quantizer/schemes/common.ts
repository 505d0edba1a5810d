/** Helpers shared by several schemes. */
import { tupleKey } from '../collisions.js';
import { CollisionError, QuantizerInputError } from '../errors.js';
import { Rng } from '../core/index.js';
import type { AssignContext } from './scheme.js';

/** Capacity of a tuple space. */
export function capacity(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}

/** Refuse a tuple space with fewer tuples than items (schemes that give every item its own tuple). */
export function checkCapacity(factory: string, sizes: readonly number[], n: number): void {
  if (capacity(sizes) < n) throw new QuantizerInputError(`${factory} has ${capacity(sizes)} tuples, fewer than ${n} items`);
}

/** Per tuple prefix (all levels but the last): the last-level codes rows [0, rows) use. */
export function lastLevelUsage(all: Uint16Array, L: number, rows: number): Map<string, Set<number>> {
  const usedBy = new Map<string, Set<number>>();
  for (let r = 0; r < rows; r++) {
    const k = tupleKey(all, L, r, L - 1);
    let s = usedBy.get(k);
    if (!s) usedBy.set(k, (s = new Set()));
    s.add(all[r * L + L - 1]);
  }
  return usedBy;
}

/**
 * For rows [start, start+count): set the extra (last) level to the smallest code not used by any
 * earlier row with the same prefix. Throws (or returns false with `strict = false`) when full.
 */
function fillExtraLevel(all: Uint16Array, start: number, count: number, L: number, extraSize: number, strict = true): boolean {
  const usedBy = lastLevelUsage(all, L, start);
  for (let r = start; r < start + count; r++) {
    const k = tupleKey(all, L, r, L - 1);
    let s = usedBy.get(k);
    if (!s) usedBy.set(k, (s = new Set()));
    let c = 0;
    while (s.has(c)) c++;
    if (c >= extraSize) {
      if (!strict) return false;
      throw new CollisionError(`prefix (${k}) already holds ${extraSize} items, the size of the extra level; rebuild the index with a larger extraLevelSize`, { param: 'extraLevelSize' });
    }
    s.add(c);
    all[r * L + L - 1] = c;
  }
  return true;
}

/** New items get random free tuples (schemes with no signal for an item nobody has interacted with). */
export function assignRandomFree(ctx: AssignContext): void {
  const { index, all, newIds } = ctx;
  const info = index.info;
  const L = index.levels;
  const n = index.size;
  const sizes = index.codebookSizes;
  const rng = new Rng(ctx.seed * 7 + info.indexVersion);
  const used = new Set<string>();
  for (let r = 0; r < n; r++) used.add(tupleKey(all, L, r));
  const prefixLevels = info.collisions === 'extra-level' ? info.schemeLevels : L;
  const cap = capacity(sizes.slice(0, prefixLevels));
  for (let i = 0; i < newIds.length; i++) {
    const r = n + i;
    let tries = 0;
    for (;;) {
      if (++tries > 10000 || used.size >= cap * (prefixLevels < L ? sizes[L - 1] : 1)) {
        throw new CollisionError(`no free tuple left for item ${newIds[i]} in ${info.factory}`);
      }
      for (let l = 0; l < prefixLevels; l++) all[r * L + l] = rng.int(sizes[l]);
      if (prefixLevels < L && !fillExtraLevel(all, r, 1, L, sizes[L - 1], false)) continue;
      const key = tupleKey(all, L, r);
      if (!used.has(key)) {
        used.add(key);
        break;
      }
    }
  }
}
