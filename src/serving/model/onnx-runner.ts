/**
 * StepModel over onnxruntime-node for a causal LM exported in the Hugging Face / Optimum
 * convention (input_ids, attention_mask, [position_ids], past_key_values.{i}.key|value → logits,
 * present.{i}.key|value; KV tensors [batch, heads, past, head_dim]).
 *
 * Prefill runs left-padded prompts in one batch with an empty past; each step feeds one token per
 * row with the KV cache; reorder gathers cache rows by beam index. When every row keeps its prompt
 * and the row count stays (beam search after the first level), reorder works in place and copies
 * only the generated positions — the prompt's part of the cache is identical across a prompt's
 * rows — so a reorder costs rows × generated tokens, not rows × prompt length.
 *
 * Graphs whose attention_mask is 3-D ([batch, seq, total]: each query's keys, as semrec's own
 * export writes them) are decoded with **tree attention** instead (onnx-tree.ts): all beams of a
 * request are one sequence over one shared cache, each beam attending its prompt, its ancestors
 * and itself; reorder copies no KV at all, and a step's cost grows with the request's tokens,
 * not with beams × history. semrec's export also returns only the new positions' keys/values
 * (`new_key_values.{i}.key|value` instead of `present.*`): the cache lives in a buffer the
 * decoding owns and appends to. Every path computes the same log-probabilities. One InferenceSession
 * is shared by all callers (onnxruntime sessions are safe for concurrent `run`).
 */
import * as ort from 'onnxruntime-node';
import type { StepModel, StepOutput } from '../../../decoding/index.js';
import { ModelError } from '../../errors.js';
import { KV_POOL_BYTES, KvPool } from './kv-pool.js';
import { copySlots, logSoftmaxAt, treeFromPrefill, treeRelease, treeReorder, treeStepInputs, TREE_EXTRA_SLOTS, type FreshKv, type KvLayers, type OnnxState, type TreeState } from './onnx-tree.js';

/** One graph call's outputs and shape. */
interface GraphCall {
  logits: Float32Array;
  out: ort.InferenceSession.ReturnType;
  rows: number;
  seq: number;
  /** Past length fed. */
  P: number;
  /** Logit rows per graph row (seq, or fewer when the graph took `logits_from`). */
  kept: number;
}

export type { OnnxState, TreeState } from './onnx-tree.js';

/** Options of {@link OnnxStepModel.load}. */
export interface OnnxRunnerOptions {
  /** The model's name in error messages when it is loaded from bytes (default `model.onnx (in memory)`). */
  label?: string;
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /** Pad token id for left padding (default 0). */
  padId?: number;
  /**
   * Decode with tree attention when the graph allows it (a 3-D attention_mask; default true).
   * False forces the per-row KV cache path (for comparisons).
   */
  tree?: boolean;
  /** Tree attention: cache slots a request's buffer has beyond its prompt at first (default {@link TREE_EXTRA_SLOTS}; grown by doubling). */
  treeExtraSlots?: number;
  /**
   * Tree attention: most bytes of released KV-cache buffers kept for the next requests (default
   * {@link KV_POOL_BYTES}; 0 allocates every request's cache afresh). See {@link KvPool}.
   */
  treePoolBytes?: number;
  /**
   * onnxruntime session configuration entries (names and values as onnxruntime's `AddConfigEntry`
   * takes them; values are strings), over {@link DEFAULT_SESSION_CONFIG}.
   */
  sessionConfig?: Readonly<Record<string, string>>;
}

/**
 * Session configuration every step model gets unless `sessionConfig` says otherwise:
 * `session.force_spinning_stop` — onnxruntime's intra-op workers stop spinning as soon as a graph
 * call returns instead of spinning on for a while, so between the calls of a beam search (the
 * beam logic in node) they do not take the cores node needs. Measured at two threads on two cores
 * (`npm run bench:decode-tail -- --threads 2`, fresh processes): request p99 / p50 1.49-1.60
 * instead of 2.09-2.44 at the same p50; turning spinning off altogether (`allow_spinning` 0) also
 * shortens the tail but costs 25-70 % of the p50. No effect at one thread (no workers).
 */
export const DEFAULT_SESSION_CONFIG: Readonly<Record<string, string>> = { 'session.force_spinning_stop': '1' };

function logSoftmaxRows(logits: Float32Array, rows: number, V: number, rowStride: number, rowOffset: number): Float32Array {
  // strides and offsets are whole rows of V logits
  return logSoftmaxAt(logits, V, Int32Array.from({ length: rows }, (_, r) => (r * rowStride + rowOffset) / V));
}

/** rows × total key mask → rows × seq × total causal per-query masks (query i is key total − seq + i), zeroed from `pool`. */
function causal3d(mask: BigInt64Array, rows: number, seq: number, total: number, pool: KvPool): BigInt64Array {
  const out = pool.takeInt64(rows * seq * total);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < seq; i++) {
      const keys = total - seq + i + 1;
      out.set(mask.subarray(r * total, r * total + keys), (r * seq + i) * total);
    }
  }
  return out;
}

/** A graph's attention-mask rank (2: HF causal-LM convention; 3: per-query masks, tree attention). */
function maskRank(session: ort.InferenceSession): number {
  const m = session.inputMetadata?.find((x) => x.name === 'attention_mask');
  return m && m.isTensor && m.shape.length === 3 ? 3 : 2;
}

/** StepModel over one onnxruntime session of a causal LM in the Hugging Face convention (see the file header). */
export class OnnxStepModel implements StepModel<OnnxState | TreeState> {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly vocabSize: number,
    readonly layers: number,
    readonly heads: number,
    readonly headDim: number,
    private readonly padId: number,
    /** Whether the graph takes position_ids (some Optimum GPT-2 exports derive them from the mask). */
    private readonly hasPositionIds: boolean,
    /** Whether the graph takes `logits_from` (semrec's tree exports: a prefill computes only the last position's logits). */
    readonly hasLogitsFrom: boolean,
    /** Whether the graph's attention_mask is 3-D (per query). */
    readonly mask3d: boolean,
    /** Whether beams are decoded with tree attention (needs `mask3d`). */
    readonly tree: boolean,
    /** Whether the graph returns only the new positions' keys/values (`new_key_values.*`) instead of `present.*`. */
    readonly newKv: boolean,
    private readonly treeExtraSlots: number,
    /** Where tree-attention caches come from and go back to. */
    readonly pool: KvPool,
  ) {}

  /** Load a model.onnx and check its inputs/outputs follow the convention. */
  static async load(source: string | Uint8Array, dims: { vocabSize: number; layers: number; heads: number; headDim: number }, opts: OnnxRunnerOptions = {}): Promise<OnnxStepModel> {
    let session: ort.InferenceSession;
    const file = typeof source === 'string' ? source : (opts.label ?? 'model.onnx (in memory)');
    try {
      const so: ort.InferenceSession.SessionOptions = { ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}), graphOptimizationLevel: 'all', extra: { ...DEFAULT_SESSION_CONFIG, ...opts.sessionConfig } };
      session = typeof source === 'string' ? await ort.InferenceSession.create(source, so) : await ort.InferenceSession.create(source, so);
    } catch (err) {
      throw new ModelError(`${file}: onnxruntime cannot load the model: ${(err as Error).message}`);
    }
    const need = ['input_ids', 'attention_mask', ...Array.from({ length: dims.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat()];
    const missing = need.filter((n) => !session.inputNames.includes(n));
    if (missing.length) throw new ModelError(`${file}: missing inputs ${missing.join(', ')} (expected the HF causal-LM convention)`);
    const newKv = session.outputNames.includes(`new_key_values.${dims.layers - 1}.value`);
    if (session.outputNames[0] !== 'logits' || !(newKv || session.outputNames.includes(`present.${dims.layers - 1}.value`))) {
      throw new ModelError(`${file}: outputs must be logits, present.{i}.key|value (or new_key_values.{i}.key|value)`);
    }
    // the cache's head count and width as the graph declares them (when fixed) must be the config's
    const kvMeta = session.inputMetadata?.find((m) => m.name === 'past_key_values.0.key');
    const kvShape = kvMeta && kvMeta.isTensor ? kvMeta.shape : undefined;
    if (kvShape && kvShape.length === 4) {
      const [, h, , d] = kvShape;
      if ((typeof h === 'number' && h > 0 && h !== dims.heads) || (typeof d === 'number' && d > 0 && d !== dims.headDim)) {
        throw new ModelError(`${file}: the graph's key/value cache is ${String(h)} heads × ${String(d)} wide, the config says ${dims.heads} × ${dims.headDim}`);
      }
    }
    const mask3d = maskRank(session) === 3;
    if (newKv && !mask3d) throw new ModelError(`${file}: a graph that returns only new keys/values (new_key_values.*) needs a 3-D attention_mask`);
    return new OnnxStepModel(session, dims.vocabSize, dims.layers, dims.heads, dims.headDim, opts.padId ?? 0, session.inputNames.includes('position_ids'), session.inputNames.includes('logits_from'), mask3d, mask3d && opts.tree !== false, newKv, opts.treeExtraSlots ?? TREE_EXTRA_SLOTS, new KvPool(opts.treePoolBytes ?? KV_POOL_BYTES));
  }

  /**
   * One graph call over `past` (per layer rows × heads × past.len × headDim; none = empty). `mask`
   * is rows × total keys (the causal-LM convention; expanded to causal per-query masks for a 3-D
   * graph) or, with `perQuery`, rows × seq × total (3-D graphs only); the per-query mask goes back
   * to the pool when the call returns (ignored when it is not the pool's). `logitsFrom`: the first
   * position whose logits are wanted (graphs that take `logits_from` compute only those; others
   * return every position and the caller skips the rest).
   */
  private async run(ids: BigInt64Array, rows: number, seq: number, past: { kv: KvLayers; len: number } | undefined, mask: BigInt64Array, pos: BigInt64Array, perQuery = false, logitsFrom = 0): Promise<GraphCall> {
    const P = past ? past.len : 0;
    const total = P + seq;
    const perQueryMask = perQuery ? mask : this.mask3d ? causal3d(mask, rows, seq, total, this.pool) : undefined;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [rows, seq]),
      attention_mask: perQueryMask ? new ort.Tensor('int64', perQueryMask, [rows, seq, total]) : new ort.Tensor('int64', mask, [rows, total]),
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', pos, [rows, seq]);
    if (this.hasLogitsFrom) feeds.logits_from = new ort.Tensor('int64', BigInt64Array.of(BigInt(logitsFrom)), []);
    for (let i = 0; i < this.layers; i++) {
      const k = past ? past.kv[i].key : new Float32Array(0);
      const v = past ? past.kv[i].value : new Float32Array(0);
      feeds[`past_key_values.${i}.key`] = new ort.Tensor('float32', k, [rows, this.heads, P, this.headDim]);
      feeds[`past_key_values.${i}.value`] = new ort.Tensor('float32', v, [rows, this.heads, P, this.headDim]);
    }
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } catch (err) {
      // the graph and the config disagree in a way no load-time check saw: typed, not a raw onnxruntime error
      throw new ModelError(`onnxruntime could not run the model (${rows} rows × ${seq} positions after ${P}): ${String((err as Error)?.message ?? err).split('\n')[0]}`);
    } finally {
      if (perQueryMask) this.pool.give(perQueryMask);
    }
    const logits = out.logits;
    if (Number(logits.dims[2]) !== this.vocabSize) throw new ModelError(`model vocabulary ${logits.dims[2]} ≠ expected ${this.vocabSize}`);
    const kept = Number(logits.dims[1]);
    if (kept !== (this.hasLogitsFrom ? seq - logitsFrom : seq)) throw new ModelError(`model returned logits for ${kept} positions of ${seq} (logits_from ${this.hasLogitsFrom ? logitsFrom : 'not taken'})`);
    return { logits: logits.data as Float32Array, out, rows, seq, P, kept };
  }

  /** The whole cache after a call (per layer rows × heads × (P + seq) × headDim): `present.*`, or the past followed by the new positions. */
  private present(call: GraphCall, past?: KvLayers): KvLayers {
    const { rows, seq, P, out } = call;
    const blocks = rows * this.heads;
    const hd = this.headDim;
    const cat = (old: Float32Array | undefined, fresh: Float32Array) => {
      if (P === 0) return fresh;
      const dst = new Float32Array(blocks * (P + seq) * hd);
      copySlots(old!, P, 0, dst, P + seq, 0, blocks, P, hd);
      copySlots(fresh, seq, 0, dst, P + seq, P, blocks, seq, hd);
      return dst;
    };
    return Array.from({ length: this.layers }, (_, i) =>
      this.newKv
        ? { key: cat(past?.[i].key, out[`new_key_values.${i}.key`].data as Float32Array), value: cat(past?.[i].value, out[`new_key_values.${i}.value`].data as Float32Array) }
        : { key: out[`present.${i}.key`].data as Float32Array, value: out[`present.${i}.value`].data as Float32Array },
    );
  }

  /** Where a call's new positions' keys/values are: `new_key_values.*` as they are, or the last positions of `present.*` (no copy either way). */
  private fresh(call: GraphCall): FreshKv {
    const { seq, P, out } = call;
    const name = this.newKv ? 'new_key_values' : 'present';
    const kv = Array.from({ length: this.layers }, (_, i) => ({ key: out[`${name}.${i}.key`].data as Float32Array, value: out[`${name}.${i}.value`].data as Float32Array }));
    return this.newKv ? { kv, slots: seq, from: 0 } : { kv, slots: P + seq, from: P };
  }

  /**
   * Logits for prompts (left-padded): rows × seq × vocab (every position, for parity checks), or
   * with `lastOnly` rows × 1 × vocab on graphs that take `logits_from` (`seq` is then 1; others
   * still return every position).
   */
  async forward(prompts: readonly Int32Array[], lastOnly = false): Promise<{ logits: Float32Array; seq: number; state: OnnxState }> {
    const R = prompts.length;
    const T = Math.max(1, ...prompts.map((p) => p.length));
    const ids = new BigInt64Array(R * T).fill(BigInt(this.padId));
    const mask = new BigInt64Array(R * T);
    const pos = new BigInt64Array(R * T);
    const nextPos = new Int32Array(R);
    prompts.forEach((p, r) => {
      const pad = T - p.length;
      for (let t = 0; t < p.length; t++) {
        ids[r * T + pad + t] = BigInt(p[t]);
        mask[r * T + pad + t] = 1n;
        pos[r * T + pad + t] = BigInt(t);
      }
      nextPos[r] = p.length;
    });
    const res = await this.run(ids, R, T, undefined, mask, pos, false, lastOnly ? T - 1 : 0);
    return { logits: res.logits, seq: res.kept, state: { rows: R, past: this.present(res), total: T, mask, nextPos, group: Int32Array.from({ length: R }, (_, i) => i), shared: T } };
  }

  async prefill(prompts: readonly Int32Array[]): Promise<StepOutput<OnnxState | TreeState>> {
    const { logits, seq, state } = await this.forward(prompts, true);
    const V = this.vocabSize;
    const logprobs = logSoftmaxRows(logits, prompts.length, V, seq * V, (seq - 1) * V);
    return { state: this.tree ? treeFromPrefill(state, this.heads, this.headDim, this.treeExtraSlots, this.pool) : state, logprobs };
  }

  async step(state: OnnxState | TreeState, tokens: Int32Array): Promise<StepOutput<OnnxState | TreeState>> {
    if ('requests' in state) {
      const x = treeStepInputs(state, tokens, this.padId);
      const res = await this.run(x.ids, state.requests, x.seq, { kv: x.cache, len: x.cap }, x.mask, x.pos, true);
      return { state: x.next(this.fresh(res)), logprobs: logSoftmaxAt(res.logits, this.vocabSize, x.logitRows) };
    }
    const R = state.rows;
    const T = state.total + 1;
    const mask = new BigInt64Array(R * T);
    for (let r = 0; r < R; r++) {
      mask.set(state.mask.subarray(r * state.total, (r + 1) * state.total), r * T);
      mask[r * T + T - 1] = 1n;
    }
    const pos = BigInt64Array.from(state.nextPos, (p) => BigInt(p));
    const res = await this.run(BigInt64Array.from(tokens, (t) => BigInt(t)), R, 1, { kv: state.past, len: state.total }, mask, pos);
    const nextPos = Int32Array.from(state.nextPos, (p) => p + 1);
    return { state: { rows: R, past: this.present(res, state.past), total: T, mask, nextPos, group: state.group, shared: state.shared }, logprobs: logSoftmaxRows(res.logits, R, this.vocabSize, this.vocabSize, 0) };
  }

  reorder(state: OnnxState | TreeState, index: Int32Array): OnnxState | TreeState {
    if ('requests' in state) return treeReorder(state, index);
    const R = index.length;
    let inPlace = R === state.rows;
    for (let i = 0; inPlace && i < R; i++) inPlace = state.group[index[i]] === state.group[i];
    return inPlace ? this.reorderInPlace(state, index) : this.gather(state, index);
  }

  /**
   * Same rows, each from its own prompt: positions [0, shared) already hold the right values (a
   * prompt's rows share them; the mask and next positions too), so only the generated positions
   * move. Mutates and returns `state` (beam search never reuses a reordered state).
   */
  private reorderInPlace(state: OnnxState, index: Int32Array): OnnxState {
    const gen = state.total - state.shared;
    if (gen === 0) return state;
    const R = state.rows;
    const H = this.heads;
    const hd = this.headDim;
    const block = gen * hd; // one (row, head)'s generated positions
    const tmp = new Float32Array(R * H * block);
    for (const p of state.past) {
      for (const buf of [p.key, p.value]) {
        for (let i = 0; i < R; i++) {
          for (let h = 0; h < H; h++) {
            const src = ((index[i] * H + h) * state.total + state.shared) * hd;
            tmp.set(buf.subarray(src, src + block), (i * H + h) * block);
          }
        }
        for (let i = 0; i < R; i++) {
          for (let h = 0; h < H; h++) {
            const dst = ((i * H + h) * state.total + state.shared) * hd;
            buf.set(tmp.subarray((i * H + h) * block, (i * H + h + 1) * block), dst);
          }
        }
      }
    }
    return state;
  }

  /** General reorder: a new state whose row i is a copy of row index[i]. */
  private gather(state: OnnxState, index: Int32Array): OnnxState {
    const R = index.length;
    const rowSize = this.heads * state.total * this.headDim;
    const gather = (src: Float32Array) => {
      const dst = new Float32Array(R * rowSize);
      for (let i = 0; i < R; i++) dst.set(src.subarray(index[i] * rowSize, (index[i] + 1) * rowSize), i * rowSize);
      return dst;
    };
    const mask = new BigInt64Array(R * state.total);
    for (let i = 0; i < R; i++) mask.set(state.mask.subarray(index[i] * state.total, (index[i] + 1) * state.total), i * state.total);
    return {
      rows: R,
      past: state.past.map((p) => ({ key: gather(p.key), value: gather(p.value) })),
      total: state.total,
      mask,
      nextPos: Int32Array.from(index, (i) => state.nextPos[i]),
      group: Int32Array.from(index, (i) => state.group[i]),
      shared: state.shared,
    };
  }

  /** A finished search's state: a tree state's cache goes back to the pool (if it was not handed on); per-row states hold nothing to free. */
  release(state: OnnxState | TreeState): void {
    if ('requests' in state) treeRelease(state);
  }

  /** Release the session. */
  async close(): Promise<void> {
    await this.session.release();
  }
}
