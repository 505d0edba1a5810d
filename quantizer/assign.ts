/**
 * Incremental add: give new items IDs with the existing index, without retraining. Existing
 * items never change their tuple (nor their row); the result stays collision-free, is a new index
 * version and records the old index's hash in its lineage, so models trained on it serve it.
 * Retired items keep their tuples: a new item never gets one.
 *
 * - semantic schemes (rqkmeans, hybrid, rqvae): encode with the stored codebooks; then
 *   `extra-level`: the smallest free disambiguation code under the new item's prefix (if the
 *   prefix is full, the next-nearest code at the last semantic level is tried);
 *   `reassign`: the nearest free last-level code under its prefix.
 *   For `hybrid`, new items have no interactions yet: their collaborative half is zero.
 * - sequential: numbering continues after the existing items.
 * - random and collab: a random free tuple (collab has no signal for an item nobody has
 *   interacted with yet; rebuild the index to place such items collaboratively).
 */
import { resolveReassign, tupleKey } from './collisions.js';
import { CollisionError, QuantizerInputError } from './errors.js';
import { ItemIndex, type IndexInfo } from './item-index.js';
import { Rng } from './rng.js';
import { encodeRQ } from './rq.js';
import { toDigits } from './schemes.js';

/** New items: ids, and their content embeddings for semantic schemes. */
export interface NewItems {
  ids: readonly string[];
  /** m × dim content embeddings (same encoder as the build). */
  embeddings?: Float32Array;
  dim?: number;
}

/** Return a new index with `items` added (see module doc for how each scheme places them). */
export function assignItems(index: ItemIndex, items: NewItems, opts: { seed?: number } = {}): ItemIndex {
  const m = items.ids.length;
  const L = index.levels;
  const n = index.size;
  for (const id of items.ids) if (index.rowOf(id) !== undefined) throw new QuantizerInputError(`item ${JSON.stringify(id)} is already in the index`);
  const info = index.info;
  const S = info.schemeLevels;
  const sizes = index.codebookSizes;
  const all = new Uint16Array((n + m) * L);
  all.set(index.codes);
  const newInfo: IndexInfo = { ...info, indexVersion: info.indexVersion + 1, addedItems: info.addedItems + m, lineage: [...(info.lineage ?? []), index.hash()] };

  if (index.codebooks.length) {
    let x = items.embeddings;
    const d = info.dim;
    if (!x) throw new QuantizerInputError(`scheme ${info.scheme} needs embeddings for new items`);
    const contentDim = typeof info.params.contentDim === 'number' ? info.params.contentDim : d;
    const givenDim = items.dim ?? x.length / Math.max(1, m);
    if (givenDim !== contentDim || x.length !== m * contentDim) {
      throw new QuantizerInputError(`new item embeddings must be ${m} × ${contentDim}, got ${x.length} values (dim ${givenDim})`);
    }
    if (contentDim !== d) {
      // hybrid: pad the collaborative half with zeros
      const padded = new Float32Array(m * d);
      for (let i = 0; i < m; i++) padded.set(x.subarray(i * contentDim, (i + 1) * contentDim), i * d);
      x = padded;
    }
    const lastK = sizes[S - 1];
    const enc = encodeRQ(index.codebooks as Float32Array[], x, m, d, lastK);
    for (let i = 0; i < m; i++) for (let l = 0; l < S; l++) all[(n + i) * L + l] = enc.codes[i * S + l];
    if (info.collisions === 'reassign') {
      const topk = Math.min(lastK, enc.lastCandidates.length / Math.max(1, m));
      const cost = new Float64Array(n + m);
      for (let i = 0; i < m; i++) cost[n + i] = enc.lastDistances[i * topk];
      resolveReassign(all, n + m, L, sizes[L - 1], {
        cost,
        fixed: (r) => r < n,
        rank: (r) => enc.lastCandidates.subarray((r - n) * topk, (r - n + 1) * topk),
      });
    } else if (info.collisions === 'extra-level') {
      // Smallest free disambiguation code under the item's prefix; if that prefix is full, the
      // next-nearest code at the last semantic level (as `reassign` would), and so on.
      const topk = enc.lastCandidates.length / Math.max(1, m);
      const usedBy = new Map<string, Set<number>>();
      for (let r = 0; r < n; r++) {
        const k = tupleKey(all, L, r, L - 1);
        let set = usedBy.get(k);
        if (!set) usedBy.set(k, (set = new Set()));
        set.add(all[r * L + L - 1]);
      }
      for (let i = 0; i < m; i++) {
        const r = n + i;
        let placed = false;
        for (let t = 0; t < topk && !placed; t++) {
          all[r * L + S - 1] = enc.lastCandidates[i * topk + t];
          const k = tupleKey(all, L, r, L - 1);
          let set = usedBy.get(k);
          if (!set) usedBy.set(k, (set = new Set()));
          let c = 0;
          while (set.has(c)) c++;
          if (c < sizes[L - 1]) {
            set.add(c);
            all[r * L + L - 1] = c;
            placed = true;
          }
        }
        if (!placed) throw new CollisionError(`no free code left for item ${items.ids[i]}: every prefix it could take is full; rebuild the index`);
      }
    }
  } else if (info.scheme === 'sequential') {
    const cap = sizes.reduce((a, b) => a * b, 1);
    if (n + m > cap) throw new CollisionError(`${info.factory} has room for ${cap} items; cannot hold ${n + m}`);
    for (let i = 0; i < m; i++) toDigits(n + i, sizes, all, (n + i) * L);
  } else {
    const rng = new Rng((opts.seed ?? info.seed) * 7 + info.indexVersion);
    const used = new Set<string>();
    for (let r = 0; r < n; r++) used.add(tupleKey(all, L, r));
    const prefixLevels = info.collisions === 'extra-level' ? S : L;
    const cap = sizes.slice(0, prefixLevels).reduce((a, b) => a * b, 1);
    for (let i = 0; i < m; i++) {
      const r = n + i;
      let tries = 0;
      for (;;) {
        if (++tries > 10000 || used.size >= cap * (prefixLevels < L ? sizes[L - 1] : 1)) {
          throw new CollisionError(`no free tuple left for item ${items.ids[i]} in ${info.factory}`);
        }
        for (let l = 0; l < prefixLevels; l++) all[r * L + l] = rng.int(sizes[l]);
        if (prefixLevels < L) {
          const placed = fillExtraLevel(all, r, 1, L, sizes[L - 1], false);
          if (!placed) continue;
        }
        const key = tupleKey(all, L, r);
        if (!used.has(key)) {
          used.add(key);
          break;
        }
      }
    }
  }
  // retired rows stay rows: their tuples were counted as taken above and are never reused
  return new ItemIndex([...index.itemIds, ...items.ids], all, sizes, newInfo, index.codebooks, index.retiredRows);
}

/**
 * For rows [start, start+count): set the extra (last) level to the smallest code not used by any
 * earlier row with the same prefix. Throws (or returns false with `strict = false`) when full.
 */
function fillExtraLevel(all: Uint16Array, start: number, count: number, L: number, extraSize: number, strict = true): boolean {
  const usedBy = new Map<string, Set<number>>();
  for (let r = 0; r < start; r++) {
    const k = tupleKey(all, L, r, L - 1);
    let s = usedBy.get(k);
    if (!s) usedBy.set(k, (s = new Set()));
    s.add(all[r * L + L - 1]);
  }
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
