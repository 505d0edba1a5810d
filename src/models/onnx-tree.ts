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
 */
import type { OnnxState } from './onnx-runner.js';

/** Decoding state under tree attention. */
export interface TreeState {
  /** Graph rows: one per request (prompt). */
  requests: number;
  /** Per layer: key and value, each requests × heads × total × headDim (onnxruntime's outputs, passed back as they are). */
  past: OnnxState['past'];
  /** Cache slots per request. */
  total: number;
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
}

/** The tree state right after a prefill (one beam row per request, nothing generated yet). */
export function treeFromPrefill(s: OnnxState): TreeState {
  return {
    requests: s.rows,
    past: s.past,
    total: s.total,
    promptMask: s.mask,
    promptLen: s.total,
    rows: s.rows,
    req: Int32Array.from({ length: s.rows }, (_, i) => i),
    anc: Array.from({ length: s.rows }, () => []),
    nextPos: s.nextPos,
  };
}

/** Beam row i of the new state is beam row index[i] of `s` (bookkeeping only). */
export function treeReorder(s: TreeState, index: Int32Array): TreeState {
  return {
    ...s,
    rows: index.length,
    req: Int32Array.from(index, (i) => s.req[i]),
    anc: Array.from(index, (i) => s.anc[i]),
    nextPos: Int32Array.from(index, (i) => s.nextPos[i]),
  };
}

/** Graph inputs of one step: each beam row's token appended to its request's row. */
export interface TreeStepInputs {
  ids: BigInt64Array;
  pos: BigInt64Array;
  /** requests × seq × (total + seq). */
  mask: BigInt64Array;
  /** New tokens per request row (the most beams any request has; shorter ones are padded). */
  seq: number;
  /** Offset into the logits (requests × seq × V) of each beam row's distribution. */
  logitRows: Int32Array;
  /** The state after the step, given the graph's new cache. */
  next(past: OnnxState['past'], total: number): TreeState;
}

/** Build one step's inputs (see {@link TreeStepInputs}). */
export function treeStepInputs(s: TreeState, tokens: Int32Array, padId: number): TreeStepInputs {
  const R = s.requests;
  const slot = new Int32Array(s.rows);
  const count = new Int32Array(R);
  for (let i = 0; i < s.rows; i++) slot[i] = count[s.req[i]]++;
  let seq = 1;
  for (let r = 0; r < R; r++) if (count[r] > seq) seq = count[r];
  const T = s.total + seq;
  const ids = new BigInt64Array(R * seq).fill(BigInt(padId));
  const pos = new BigInt64Array(R * seq);
  const mask = new BigInt64Array(R * seq * T);
  // padding queries attend only themselves (their outputs are never read)
  for (let q = 0; q < R * seq; q++) mask[q * T + s.total + (q % seq)] = 1n;
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
    logitRows[i] = q;
    anc[i] = [...s.anc[i], s.total + slot[i]];
  }
  return {
    ids,
    pos,
    mask,
    seq,
    logitRows,
    next: (past, total) => ({ ...s, past, total, anc, nextPos: Int32Array.from(s.nextPos, (p) => p + 1) }),
  };
}

/** Log-softmax of the V-wide logit rows starting at `rows[i] · V`, one output row each. */
export function logSoftmaxAt(logits: Float32Array, V: number, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * V);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * V;
    let m = -Infinity;
    for (let v = 0; v < V; v++) if (logits[o + v] > m) m = logits[o + v];
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[o + v] - m);
    const lse = m + Math.log(sum);
    for (let v = 0; v < V; v++) out[r * V + v] = logits[o + v] - lse;
  }
  return out;
}
