/**
 * Trie-constrained beam search over a {@link StepModel}. Every returned tuple is a real item.
 *
 * Per level, each beam expands only the children the trie allows (all other tokens are never
 * considered), candidates are ranked by summed log-probability, and the best `beamWidth` survive;
 * the model state is reordered by beam index and advanced by one token. Many requests run in one
 * batch (one model call per level for all of them). Equal scores tie-break by token ids
 * (lexicographic tuple order), so results are deterministic. Excluded items are pruned during the
 * walk: a subtree whose leaves are all excluded is never expanded, so `k` results still come back
 * whenever `k` non-excluded items exist. An allow-list (`include`) is pruned the same way.
 */
import { DecodingInputError } from './errors.js';
import type { CandidateFilter, StepModel } from './step-model.js';
import type { TokenLayout } from './token-layout.js';
import type { PrefixTrie } from './trie.js';

/** One decoding request. */
export interface BeamRequest {
  /** Prompt token ids (e.g. BOS + the history's tuples). */
  prompt: Int32Array;
  /** Item rows that must not be returned (e.g. already seen). */
  exclude?: Iterable<number>;
  /**
   * If given, only these item rows may be returned (an allow-list; `exclude` still applies).
   * Pruned like `exclude`: a subtree without an allowed leaf is never expanded.
   */
  include?: Iterable<number>;
}

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions {
  /** Beams kept per request at every level (≥ 1). */
  beamWidth: number;
  /** Results returned per request (default and maximum: beamWidth). */
  k?: number;
}

/** One generated item. */
export interface BeamHit {
  /** Item row (of the ItemIndex the trie was built from). */
  row: number;
  /** The item's code tuple. */
  codes: number[];
  /** Joint log-probability of the tuple under the model. */
  score: number;
}

interface Beam {
  node: number;
  score: number;
  codes: number[];
  /** Row of this beam in the model state. */
  stateRow: number;
}

/** Sorted distinct leaf indices of item rows (out-of-range rows ignored), minus `minus`. */
function leavesOf(rows: Iterable<number> | undefined, rowToLeaf: Int32Array, minus?: Int32Array): Int32Array {
  if (!rows) return new Int32Array(0);
  const leaves = new Set<number>();
  for (const r of rows) if (Number.isInteger(r) && r >= 0 && r < rowToLeaf.length && rowToLeaf[r] >= 0) leaves.add(rowToLeaf[r]);
  if (minus) for (const l of minus) leaves.delete(l);
  return Int32Array.from(leaves).sort();
}

/** A request's returnable leaves: the model's hint (undefined: every leaf) and, per node, whether any is under it. */
function aliveTest(trie: PrefixTrie, q: BeamRequest, rowToLeaf: Int32Array): { filter?: CandidateFilter; alive: (node: number) => boolean } {
  const ex = leavesOf(q.exclude, rowToLeaf);
  if (q.include) {
    const allowed = leavesOf(q.include, rowToLeaf, ex);
    return {
      filter: { excludeLeaves: ex, includeLeaves: allowed },
      alive: (node) => {
        const [lo, hi] = trie.leafRange(node);
        return lowerBound(allowed, hi) - lowerBound(allowed, lo) > 0;
      },
    };
  }
  if (ex.length === 0) return { alive: () => true };
  return {
    filter: { excludeLeaves: ex },
    alive: (node) => {
      const [lo, hi] = trie.leafRange(node);
      return lowerBound(ex, hi) - lowerBound(ex, lo) < hi - lo;
    },
  };
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

/** Candidate order: higher score first; ties by tuple (parent rank, then code). */
function better(sa: number, ra: number, ca: number, sb: number, rb: number, cb: number): boolean {
  if (sa !== sb) return sa > sb;
  if (ra !== rb) return ra < rb;
  return ca < cb;
}

const rowToLeafCache = new WeakMap<PrefixTrie, Int32Array>();
function rowToLeafOf(trie: PrefixTrie): Int32Array {
  let m = rowToLeafCache.get(trie);
  if (!m) {
    m = new Int32Array(trie.rowBound).fill(-1);
    trie.leafRow.forEach((row, leaf) => (m![row] = leaf));
    rowToLeafCache.set(trie, m);
  }
  return m;
}

let searchesRun = 0;

/**
 * Beam searches this process has run so far (any model; a batch counts once): how far V8 has got
 * with compiling the decoding code (see `WarmUpOptions.processSearches` in warmup.ts).
 */
export function beamSearchesRun(): number {
  return searchesRun;
}

/**
 * Run constrained beam search for a batch of requests. Returns, per request, up to `k` distinct
 * items sorted by score (then tuple).
 */
export async function beamSearch<S>(model: StepModel<S>, trie: PrefixTrie, layout: TokenLayout, requests: readonly BeamRequest[], opts: BeamSearchOptions): Promise<BeamHit[][]> {
  const B = opts.beamWidth;
  const k = Math.min(opts.k ?? B, B);
  if (!Number.isInteger(B) || B < 1) throw new DecodingInputError(`beamWidth must be a positive integer, got ${B}`);
  if (!Number.isInteger(k) || k < 1) throw new DecodingInputError(`k must be a positive integer, got ${opts.k}`);
  if (layout.levels !== trie.levels) throw new DecodingInputError(`token layout has ${layout.levels} levels, trie ${trie.levels}`);
  if (layout.vocabSize !== model.vocabSize) throw new DecodingInputError(`model vocabulary ${model.vocabSize} ≠ token layout ${layout.vocabSize}`);
  const R = requests.length;
  if (R === 0) return [];
  searchesRun++;
  const V = model.vocabSize;
  const L = trie.levels;
  const rowToLeaf = rowToLeafOf(trie);
  const tests = requests.map((q) => aliveTest(trie, q, rowToLeaf));
  const alive = (r: number, node: number): boolean => tests[r].alive(node);

  let out = await model.prefill(
    requests.map((q) => q.prompt),
    tests.some((t) => t.filter) ? tests.map((t) => t.filter) : undefined,
  );
  let beams: Beam[][] = requests.map((_, r) => (alive(r, trie.root) ? [{ node: trie.root, score: 0, codes: [], stateRow: r }] : []));

  for (let level = 0; level < L; level++) {
    const off = layout.offsets[level];
    const lp = out.logprobs;
    const next: Beam[][] = [];
    for (let r = 0; r < R; r++) {
      // bounded selection: keep the best B candidates (arrays, worst-first insertion sort)
      const cs: number[] = [];
      const cr: number[] = [];
      const cc: number[] = [];
      const cn: number[] = [];
      const cp: number[] = [];
      beams[r].forEach((b, rank) => {
        const { start, end, codes } = trie.children(b.node);
        const base = b.stateRow * V + off;
        for (let i = 0; i < end - start; i++) {
          const node = start + i;
          if (!alive(r, node)) continue;
          let s = b.score + lp[base + codes[i]];
          if (Number.isNaN(s)) s = -Infinity;
          const full = cs.length >= B;
          if (full && !better(s, rank, codes[i], cs[B - 1], cr[B - 1], cc[B - 1])) continue;
          // insert in order
          let pos = full ? B - 1 : cs.length;
          if (!full) {
            cs.push(0);
            cr.push(0);
            cc.push(0);
            cn.push(0);
            cp.push(0);
          }
          while (pos > 0 && better(s, rank, codes[i], cs[pos - 1], cr[pos - 1], cc[pos - 1])) {
            cs[pos] = cs[pos - 1];
            cr[pos] = cr[pos - 1];
            cc[pos] = cc[pos - 1];
            cn[pos] = cn[pos - 1];
            cp[pos] = cp[pos - 1];
            pos--;
          }
          cs[pos] = s;
          cr[pos] = rank;
          cc[pos] = codes[i];
          cn[pos] = node;
          cp[pos] = b.stateRow;
        }
      });
      // survivors, re-ranked in tuple order so that the next level's tie-break is lexicographic
      const chosen = cs.map((s, i) => ({ node: cn[i], score: s, codes: [...beams[r][cr[i]].codes, cc[i]], stateRow: cp[i] }));
      chosen.sort((a, b) => {
        for (let l = 0; l <= level; l++) if (a.codes[l] !== b.codes[l]) return a.codes[l] - b.codes[l];
        return 0;
      });
      next.push(chosen);
    }
    beams = next;
    if (level === L - 1) break;
    // advance the model: row i of the new state = parent beam's state row; feed the chosen token
    const index: number[] = [];
    const tokens: number[] = [];
    for (const bs of beams) {
      for (const b of bs) {
        index.push(b.stateRow);
        tokens.push(off + b.codes[level]);
      }
    }
    if (index.length === 0) break;
    const reordered = await model.reorder(out.state, Int32Array.from(index));
    if (reordered !== out.state) model.release?.(out.state);
    let row = 0;
    for (const bs of beams) for (const b of bs) b.stateRow = row++;
    out = await model.step(reordered, Int32Array.from(tokens));
  }
  model.release?.(out.state);

  return beams.map((bs) =>
    bs
      .filter((b) => trie.isLeaf(b.node))
      .sort((a, b) => {
        if (a.score !== b.score) return b.score - a.score;
        for (let l = 0; l < L; l++) if (a.codes[l] !== b.codes[l]) return a.codes[l] - b.codes[l];
        return 0;
      })
      .slice(0, k)
      .map((b) => ({ row: trie.rowOfLeaf(b.node), codes: b.codes, score: b.score })),
  );
}
