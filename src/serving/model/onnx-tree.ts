/**
 * Tree attention for beam search over an ONNX causal LM whose attention_mask is 3-D
 * ([batch, seq, total]: which keys each query may attend).
 *
 * One graph row per request (not per beam). After the prefill, the row's cache holds the prompt;
 * each step appends one token per live beam of the request to that same row — the beams are
 * "siblings in one sequence" — and the mask lets a beam's token attend only the prompt, the
 * tokens of its own ancestors and itself, at position id prompt length + depth. So every beam
 * sees exactly the context it would see with its own cache, and the log-probabilities equal the
 * per-beam path's (up to float rounding), while:
 * - reorder is bookkeeping (which ancestor slots a beam has), no KV copy at all;
 * - the cache per request grows by beams per step instead of being copied beams times.
 * Pruned beams' tokens stay in the cache, masked out (at most beams × (levels − 1) slots).
 *
 * The cache is a buffer the decoding owns, with room for the prompt and {@link TREE_EXTRA_SLOTS}
 * more slots (doubled when a search needs more): the whole buffer is fed as the past, unwritten
 * slots masked out, and each step appends the new positions in place. The buffers come from the
 * model's {@link KvPool} and go back to it when beam search releases the search's last state (a
 * state that was reordered or stepped has handed its cache on and releases nothing). Graphs exported by semrec
 * return only those new positions (`new_key_values.*`), so a step hands back kilobytes instead of
 * the whole cache; graphs that return `present.*` work too (their last positions are taken).
 */

import type { KvPool } from './kv-pool.js';

/** Per layer: keys and values. */
export type KvLayers = { key: Float32Array; value: Float32Array }[];

/** Cache state of a batch of rows. */
export interface OnnxState {
  rows: number;
  /** Per layer: key and value, each rows × heads × total × headDim. */
  past: KvLayers;
  /** Tokens attended so far (past length). */
  total: number;
  /** rows × total attention mask (0 for left padding). */
  mask: BigInt64Array;
  /** Next position id per row. */
  nextPos: Int32Array;
  /** Prompt (request) of each row: rows of one prompt hold identical cache positions [0, shared). */
  group: Int32Array;
  /** Cache positions computed by the prefill (identical for rows of the same prompt). */
  shared: number;
}

/** A step's new keys/values inside a graph output: per layer blocks of `slots` positions, the new ones from `from`. */
export interface FreshKv {
  kv: KvLayers;
  slots: number;
  from: number;
}

/** Cache slots a request's buffer has beyond its prompt at first (grown by doubling when a search needs more). */
export const TREE_EXTRA_SLOTS = 64;

/** Decoding state under tree attention. */
export interface TreeState {
  /** Graph rows: one per request (prompt). */
  requests: number;
  /**
   * Per layer: the key and value cache, each requests × heads × cap × headDim — a buffer this
   * decoding owns: each step appends the new positions in place (slots [used, used + seq)) and
   * feeds the whole buffer as the past; slots not yet written are masked out. A state is consumed
   * by `step` (beam search never steps a state twice).
   */
  cache: KvLayers;
  /** Cache slots per request in `cache`. */
  cap: number;
  /** Slots written so far (prompt + every step's new tokens). */
  used: number;
  heads: number;
  headDim: number;
  /** requests × promptLen: 1 for a real prompt token, 0 for left padding. */
  promptMask: BigInt64Array;
  promptLen: number;
  /** Beam rows. */
  rows: number;
  /** Request of each beam row. */
  req: Int32Array;
  /** Cache slots of each beam row's generated tokens, oldest first (shared, never mutated). */
  anc: ReadonlyArray<readonly number[]>;
  /** Next position id of each beam row. */
  nextPos: Int32Array;
  /** Where the cache buffers came from (and go back to on {@link treeRelease}); none: garbage-collected. */
  pool?: KvPool;
  /** Set once a reorder or step has made a new state over this one's cache (or it was released): releasing it frees nothing. */
  handedOn: boolean;
}

/** Copy `blocks` (rows × heads) runs of `len` positions from slot `srcFrom` of a buffer with `srcCap` slots per block to slot `at` of one with `dstCap`. */
export function copySlots(src: Float32Array, srcCap: number, srcFrom: number, dst: Float32Array, dstCap: number, at: number, blocks: number, len: number, headDim: number): void {
  for (let b = 0; b < blocks; b++) {
    const s0 = (b * srcCap + srcFrom) * headDim;
    dst.set(src.subarray(s0, s0 + len * headDim), (b * dstCap + at) * headDim);
  }
}

/** The tree state right after a prefill (one beam row per request, nothing generated yet); `s.past` is the prompt's cache. */
export function treeFromPrefill(s: OnnxState, heads: number, headDim: number, extra = TREE_EXTRA_SLOTS, pool?: KvPool): TreeState {
  const cap = s.total + extra;
  const blocks = s.rows * heads;
  const own = (src: Float32Array) => {
    const dst = pool ? pool.take(blocks * cap * headDim) : new Float32Array(blocks * cap * headDim);
    copySlots(src, s.total, 0, dst, cap, 0, blocks, s.total, headDim);
    return dst;
  };
  return {
    requests: s.rows,
    cache: s.past.map((p) => ({ key: own(p.key), value: own(p.value) })),
    cap,
    used: s.total,
    heads,
    headDim,
    promptMask: s.mask,
    promptLen: s.total,
    rows: s.rows,
    req: Int32Array.from({ length: s.rows }, (_, i) => i),
    anc: Array.from({ length: s.rows }, () => []),
    nextPos: s.nextPos,
    pool,
    handedOn: false,
  };
}

/** Beam row i of the new state is beam row index[i] of `s` (bookkeeping only; `s` hands its cache on). */
export function treeReorder(s: TreeState, index: Int32Array): TreeState {
  const next = {
    ...s,
    rows: index.length,
    req: Int32Array.from(index, (i) => s.req[i]),
    anc: Array.from(index, (i) => s.anc[i]),
    nextPos: Int32Array.from(index, (i) => s.nextPos[i]),
    handedOn: false,
  };
  s.handedOn = true;
  return next;
}

/** Give a state's cache buffers back to its pool, unless the state handed them on to a later one (then nothing happens). */
export function treeRelease(s: TreeState): void {
  if (s.handedOn) return;
  s.handedOn = true;
  if (s.pool) for (const p of s.cache) for (const b of [p.key, p.value]) s.pool.give(b);
}

/** Graph inputs of one step: each beam row's token appended to its request's row. */
export interface TreeStepInputs {
  ids: BigInt64Array;
  pos: BigInt64Array;
  /** requests × seq × (cap + seq): the cache's slots, then the step's own tokens (from the state's pool, when it has one). */
  mask: BigInt64Array;
  /** New tokens per request row (the most beams any request has; shorter ones are padded). */
  seq: number;
  /** The past to feed: the whole cache (requests × heads × cap × headDim per layer). */
  cache: KvLayers;
  cap: number;
  /** Offset into the logits (requests × seq × V) of each beam row's distribution. */
  logitRows: Int32Array;
  /**
   * Append the step's new keys/values and return the state after the step. `fresh.kv` holds, per
   * layer, requests × heads × `fresh.slots` positions, the new ones starting at `fresh.from`
   * (graphs returning only them: slots = seq, from = 0; graphs returning `present`: the whole
   * cache fed plus seq, from = the cache's slots).
   */
  next(fresh: FreshKv): TreeState;
}

/** A state whose cache has room for `seq` more slots (a larger copy when it has not). */
function withRoom(s: TreeState, seq: number): TreeState {
  if (s.used + seq <= s.cap) return s;
  const cap = Math.max(2 * s.cap, s.used + seq);
  const blocks = s.requests * s.heads;
  const grow = (src: Float32Array) => {
    const dst = s.pool ? s.pool.take(blocks * cap * s.headDim) : new Float32Array(blocks * cap * s.headDim);
    copySlots(src, s.cap, 0, dst, cap, 0, blocks, s.used, s.headDim);
    return dst;
  };
  return { ...s, cap, cache: s.cache.map((p) => ({ key: grow(p.key), value: grow(p.value) })) };
}

/** Build one step's inputs (see {@link TreeStepInputs}). */
export function treeStepInputs(state: TreeState, tokens: Int32Array, padId: number): TreeStepInputs {
  const R = state.requests;
  const slot = new Int32Array(state.rows);
  const count = new Int32Array(R);
  for (let i = 0; i < state.rows; i++) slot[i] = count[state.req[i]]++;
  let seq = 1;
  for (let r = 0; r < R; r++) if (count[r] > seq) seq = count[r];
  const s = withRoom(state, seq);
  const C = s.cap;
  const T = C + seq;
  const ids = new BigInt64Array(R * seq).fill(BigInt(padId));
  const pos = new BigInt64Array(R * seq);
  // from the pool when there is one: the runner's graph call gives it back when it returns
  const mask = s.pool ? s.pool.takeInt64(R * seq * T) : new BigInt64Array(R * seq * T);
  // padding queries attend only themselves (their outputs are never read)
  for (let q = 0; q < R * seq; q++) mask[q * T + C + (q % seq)] = 1n;
  const logitRows = new Int32Array(s.rows);
  const anc: number[][] = new Array(s.rows);
  const P = s.promptLen;
  for (let i = 0; i < s.rows; i++) {
    const r = s.req[i];
    const q = r * seq + slot[i];
    ids[q] = BigInt(tokens[i]);
    pos[q] = BigInt(s.nextPos[i]);
    const base = q * T;
    mask.set(s.promptMask.subarray(r * P, (r + 1) * P), base);
    for (const a of s.anc[i]) mask[base + a] = 1n;
    mask[base + C + slot[i]] = 1n; // itself
    logitRows[i] = q;
    anc[i] = [...s.anc[i], s.used + slot[i]];
  }
  return {
    ids,
    pos,
    mask,
    seq,
    cache: s.cache,
    cap: C,
    logitRows,
    next: (fresh) => {
      const blocks = R * s.heads;
      s.cache.forEach((p, l) => {
        copySlots(fresh.kv[l].key, fresh.slots, fresh.from, p.key, C, s.used, blocks, seq, s.headDim);
        copySlots(fresh.kv[l].value, fresh.slots, fresh.from, p.value, C, s.used, blocks, seq, s.headDim);
      });
      // a grown cache: the smaller one it was copied from goes back to the pool
      if (s.cache !== state.cache) treeRelease(state);
      state.handedOn = true;
      return { ...s, used: s.used + seq, anc, nextPos: Int32Array.from(s.nextPos, (p) => p + 1), handedOn: false };
    },
  };
}

/**
 * Log-softmax of the V-wide logit rows starting at `rows[i] · V`, one output row each. When the
 * rows only move towards the front (strictly increasing, rows[i] ≥ i — every caller's case) the
 * result is written over `logits` itself (a graph output, read once) and a view of its first
 * rows is returned: no allocation per call; otherwise into a new array.
 */
export function logSoftmaxAt(logits: Float32Array, V: number, rows: Int32Array): Float32Array {
  let inPlace = true;
  for (let r = 0; r < rows.length && inPlace; r++) inPlace = rows[r] >= r && (r === 0 || rows[r] > rows[r - 1]);
  const out = inPlace ? logits.subarray(0, rows.length * V) : new Float32Array(rows.length * V);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > m) m = logits[o + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v] - m);
    const lse = m + Math.log(sum);
    // in place, row r is written at or before the rows still to be read (rows[r] ≥ r, increasing)
    for (let v = 0; v < V; v++) out[r * V + v] = logits[o + v] - lse;
  }
  return out;
}
