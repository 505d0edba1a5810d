/**
 * Collision resolution: make every item's code tuple unique.
 *
 * - `extra-level` (TIGER): append one level numbering the items that share a tuple (0, 1, 2, ...).
 * - `reassign`: keep tuple length; items that collide move, at the last level, to the nearest free
 *   code under the same prefix (capacity-aware), failing only if a prefix truly holds more items
 *   than the last level has codes.
 */
import { CollisionError, QuantizerInputError } from './errors.js';

/** The two resolution strategies. */
export type CollisionMode = 'extra-level' | 'reassign';

/** Collision statistics before resolution. */
export interface CollisionReport {
  /** Items whose tuple was shared with an earlier item (n − distinct tuples). */
  collisions: number;
  /** Number of tuples shared by two or more items. */
  collidingGroups: number;
  /** Largest number of items sharing one tuple. */
  maxGroup: number;
}

/** Key of row i's first `len` codes. */
export function tupleKey(codes: ArrayLike<number>, L: number, i: number, len = L): string {
  let s = '';
  for (let l = 0; l < len; l++) s += (l ? ',' : '') + codes[i * L + l];
  return s;
}

/** Group row indices by full tuple (groups in order of first occurrence, rows ascending). */
export function groupByTuple(codes: ArrayLike<number>, n: number, L: number, len = L): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const k = tupleKey(codes, L, i, len);
    const g = groups.get(k);
    if (g) g.push(i);
    else groups.set(k, [i]);
  }
  return groups;
}

/** Count collisions of an n×L code matrix. */
export function collisionReport(codes: ArrayLike<number>, n: number, L: number): CollisionReport {
  const groups = groupByTuple(codes, n, L);
  let colliding = 0;
  let maxGroup = n ? 1 : 0;
  for (const g of groups.values()) {
    if (g.length > 1) colliding++;
    if (g.length > maxGroup) maxGroup = g.length;
  }
  return { collisions: n - groups.size, collidingGroups: colliding, maxGroup };
}

/**
 * Append a disambiguation level. Returns the n×(L+1) codes. `extraSize` is the new level's
 * codebook size; it must be at least the largest group.
 */
export function resolveExtraLevel(codes: Uint16Array, n: number, L: number, extraSize: number): Uint16Array {
  const rep = collisionReport(codes, n, L);
  if (rep.maxGroup > extraSize) {
    throw new CollisionError(`extra level has ${extraSize} codes but ${rep.maxGroup} items share one tuple`);
  }
  if (extraSize > 65536) throw new QuantizerInputError(`extra level size ${extraSize} exceeds 65536`);
  const out = new Uint16Array(n * (L + 1));
  for (const g of groupByTuple(codes, n, L).values()) {
    g.forEach((row, j) => {
      for (let l = 0; l < L; l++) out[row * (L + 1) + l] = codes[row * L + l];
      out[row * (L + 1) + L] = j;
    });
  }
  return out;
}

/**
 * Ranking of last-level codes for one row, best first. Used by `reassign` to pick the nearest
 * free code. Without one, codes are tried in ascending order.
 */
export type CodeRanker = (row: number) => ArrayLike<number>;

/**
 * Re-assign colliding rows at the last level, in place. In each group of rows sharing a tuple the
 * row with the smallest `cost` (e.g. distance to its codeword; ties: lower row) keeps the code;
 * the others take the best free code under their prefix according to `rank`.
 * `fixed` rows (e.g. existing items during incremental add) never move.
 */
export function resolveReassign(
  codes: Uint16Array,
  n: number,
  L: number,
  lastSize: number,
  opts: { cost?: ArrayLike<number>; rank?: CodeRanker; fixed?: (row: number) => boolean } = {},
): void {
  const byPrefix = groupByTuple(codes, n, L, L - 1);
  const cost = (r: number) => (opts.cost ? opts.cost[r] : 0);
  for (const [prefix, rows] of byPrefix) {
    if (rows.length > lastSize) {
      throw new CollisionError(
        `prefix (${prefix || 'root'}) holds ${rows.length} items but the last level has only ${lastSize} codes; ` +
          `use --collisions extra-level or a larger last codebook`,
      );
    }
    const used = new Uint8Array(lastSize);
    const byCode = new Map<number, number[]>();
    for (const r of rows) {
      const c = codes[r * L + L - 1];
      const g = byCode.get(c);
      if (g) g.push(r);
      else byCode.set(c, [r]);
    }
    const movers: number[] = [];
    for (const [c, g] of byCode) {
      used[c] = 1;
      if (g.length === 1) continue;
      // keeper: a fixed row if any, else the lowest cost
      g.sort((a, b) => Number(!!opts.fixed?.(b)) - Number(!!opts.fixed?.(a)) || cost(a) - cost(b) || a - b);
      for (const r of g.slice(1)) {
        if (opts.fixed?.(r)) throw new CollisionError(`two fixed items share the tuple (${tupleKey(codes, L, r)})`);
        movers.push(r);
      }
    }
    movers.sort((a, b) => cost(a) - cost(b) || a - b);
    let nextFree = 0;
    for (const r of movers) {
      let placed = -1;
      if (opts.rank) {
        const order = opts.rank(r);
        for (let t = 0; t < order.length; t++) {
          if (!used[order[t]]) {
            placed = order[t];
            break;
          }
        }
      }
      if (placed < 0) {
        while (nextFree < lastSize && used[nextFree]) nextFree++;
        placed = nextFree;
      }
      used[placed] = 1;
      codes[r * L + L - 1] = placed;
    }
  }
}
