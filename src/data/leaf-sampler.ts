/**
 * The synthetic generator's per-user draw of an item from one leaf category, in O(log n) instead
 * of a scan of the leaf: what lets `semrec data synth` reach a million items (issue 28).
 *
 * An item's weight for a user is `pop · fav(brand) · tier(brand) · prefer(brand)` (fav 5 for the
 * user's favourite brands, tier 2 when the brand's price tier is the user's, else 0.6, prefer 8 for
 * the brand the routine continues), 0 once the user has it. The draw is inversion of the
 * cumulative weight in the leaf's item order with one uniform number — the same rule as
 * `Rng.weighted` over the scan, so it has exactly the scan's distribution and consumes the same
 * random numbers. The cumulative weight comes from static prefix sums: per price tier, per brand
 * (for the few brands a user treats specially) and a correction for the user's seen items.
 *
 * Leaves of at most {@link SCAN_MAX_LEAF} items are drawn by the scan itself, so every catalogue
 * that small (every test and documented run so far) is generated bit for bit as before; larger
 * leaves may differ from a scan only where floating-point rounding of the two sums lands the
 * uniform number on the other side of a boundary.
 */
import type { Rng } from '../../quantizer/core/index.js';

/** Leaves up to this many items are drawn by scanning them. */
export const SCAN_MAX_LEAF = 64;

/** One user's view of the brands. */
export interface UserTaste {
  favBrands: ReadonlySet<number>;
  tier: number;
}

interface BrandRun {
  /** Positions of the brand's items in the leaf (ascending). */
  pos: Int32Array;
  /** Prefix sums of their popularity: prefix[j] = Σ pop of the first j of them. */
  prefix: Float64Array;
}

interface LeafTables {
  /** Per tier t: prefix[t][p] = Σ pop of items at positions < p whose brand is of tier t. */
  tierPrefix: Float64Array[];
  brands: Map<number, BrandRun>;
}

/** Items of each leaf and what their weights are made of. */
export class LeafSampler {
  private readonly tables: (LeafTables | undefined)[];
  private readonly position = new Map<number, number>();

  /**
   * @param itemsOfLeaf item indices per leaf, ascending
   * @param brandOf brand of each item; `popOf` its popularity; `tierOf` each brand's price tier
   * @param tiers number of price tiers
   */
  constructor(
    private readonly itemsOfLeaf: readonly (readonly number[])[],
    private readonly brandOf: ArrayLike<number>,
    private readonly popOf: ArrayLike<number>,
    private readonly tierOf: ArrayLike<number>,
    private readonly tiers: number,
  ) {
    this.tables = itemsOfLeaf.map((its) => (its.length > SCAN_MAX_LEAF ? this.build(its) : undefined));
  }

  private build(its: readonly number[]): LeafTables {
    const n = its.length;
    const tierPrefix = Array.from({ length: this.tiers }, () => new Float64Array(n + 1));
    const lists = new Map<number, number[]>();
    its.forEach((item, p) => {
      const b = this.brandOf[item];
      const t = this.tierOf[b];
      for (let k = 0; k < this.tiers; k++) tierPrefix[k][p + 1] = tierPrefix[k][p] + (k === t ? this.popOf[item] : 0);
      let l = lists.get(b);
      if (!l) lists.set(b, (l = []));
      l.push(p);
      this.position.set(item, p);
    });
    const brands = new Map<number, BrandRun>();
    for (const [b, ps] of lists) {
      const prefix = new Float64Array(ps.length + 1);
      ps.forEach((p, j) => (prefix[j + 1] = prefix[j] + this.popOf[its[p]]));
      brands.set(b, { pos: Int32Array.from(ps), prefix });
    }
    return { tierPrefix, brands };
  }

  private weight(item: number, user: UserTaste, preferBrand: number | undefined): number {
    const b = this.brandOf[item];
    return this.popOf[item] * (user.favBrands.has(b) ? 5 : 1) * (this.tierOf[b] === user.tier ? 2 : 0.6) * (preferBrand !== undefined && b === preferBrand ? 8 : 1);
  }

  /**
   * Draw an item of `leaf` the user has not `seen`, with probability proportional to its weight;
   * -1 (and no random number used) when the user has every item of the leaf.
   */
  draw(rng: Rng, leaf: number, user: UserTaste, seen: ReadonlySet<number>, preferBrand?: number): number {
    const its = this.itemsOfLeaf[leaf];
    const tables = this.tables[leaf];
    if (!tables) {
      const cands = its.filter((i) => !seen.has(i));
      if (cands.length === 0) return -1;
      return cands[rng.weighted(cands.map((i) => this.weight(i, user, preferBrand)))];
    }
    // the user's seen items in this leaf, by position
    const seenHere: { p: number; w: number }[] = [];
    for (const i of seen) {
      const p = this.position.get(i);
      if (p !== undefined && its[p] === i) seenHere.push({ p, w: this.weight(i, user, preferBrand) });
    }
    if (seenHere.length === its.length) return -1;
    // brands whose items weigh more than their tier's base: the favourites and the preferred one
    const special: { run: BrandRun; extra: number }[] = [];
    const tierW = (t: number) => (t === user.tier ? 2 : 0.6);
    const specials = new Set(user.favBrands);
    if (preferBrand !== undefined) specials.add(preferBrand);
    for (const b of specials) {
      const run = tables.brands.get(b);
      if (!run) continue;
      const factor = (user.favBrands.has(b) ? 5 : 1) * (b === preferBrand ? 8 : 1);
      special.push({ run, extra: (factor - 1) * tierW(this.tierOf[b]) });
    }
    /** Total weight of the unseen items at positions < p. */
    const cum = (p: number): number => {
      let s = 0;
      for (let t = 0; t < this.tiers; t++) s += tierW(t) * tables.tierPrefix[t][p];
      for (const { run, extra } of special) s += extra * run.prefix[lowerBound(run.pos, p)];
      for (const x of seenHere) if (x.p < p) s -= x.w;
      return s;
    };
    const r = rng.next() * cum(its.length);
    // the first position p with cum(p + 1) > r
    let lo = 0;
    let hi = its.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum(mid + 1) > r) hi = mid;
      else lo = mid + 1;
    }
    if (!seenHere.some((x) => x.p === lo)) return its[lo];
    // rounding left lo on a seen item (weight 0 in the scan): take the nearest unseen one
    const seenPos = new Set(seenHere.map((x) => x.p));
    let p = lo;
    while (p < its.length && seenPos.has(p)) p++;
    if (p === its.length) for (p = lo; seenPos.has(p); p--);
    return its[p];
  }
}

/** Number of entries of the ascending `a` that are < x. */
function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
