/**
 * The transition StepModel (on disk: config.json `architecture: "bigram"`, the name kept since
 * format version 1, and transition.bin — see transition-file.ts): the next item's distribution is a mixture of smoothed
 * transition distributions from the last `history` items of the prompt,
 *
 *     p(i | h) = Σ_j α_j · (c(h_j→i) + β·π(i)) / (C(h_j) + β),   π(i) = (count(i) + 1) / (N + n),
 *
 * where h_1 is the last item, α_j ∝ decay^(j−1) (Σ α_j = 1), and c(s→i) counts how often i
 * follows s in a training sequence within `window` positions, each occurrence weighted 1/distance
 * (window 1, history 1: the classic smoothed first-order model). It is expressed token by token
 * over the trie: p(code | prefix) = mass(prefix·code) / mass(prefix). It really scores tokens (a
 * proper distribution over the catalogue), so it stands in for the transformer in decoding,
 * serving and evaluation, and is a reference model in its own right. Retired items leave the
 * candidates without changing the scores of the others (the normalisers C(h_j) and N + n count
 * every row), so the ranking of the live items is the old one without them. `window`, `history` and
 * `decay` are chosen on the validation split by `semrec train` (see transition-select.ts).
 */
import type { PrefixTrie, StepModel, StepOutput, TokenLayout } from '../../../decoding/index.js';
import { allocateOccurrences, sumOccurrences } from '../../../quantizer/core/index.js';
import { ModelError } from '../../errors.js';
import { advanceNodes, pickRows, promptItemRows } from './prompt-items.js';
import type { TransitionData } from './transition-file.js';

export type { TransitionData } from './transition-file.js';

/** How a transition model is fitted and conditioned (defaults: the first-order model). */
export interface TransitionShape {
  /** Count transitions up to this many positions ahead, weighted 1/distance (default 1). */
  window?: number;
  /** Condition on the last `history` items (default 1). */
  history?: number;
  /** Weight ratio between consecutive history items (default 1). */
  decay?: number;
}

/**
 * Count transitions in training sequences given as item-row arrays: a CSR over source rows whose
 * counts are summed in sequence order (each (source, destination) pair adds its 1/distance weights
 * in the order the sequences hold them), in typed arrays — memory grows with the transitions, not
 * with a map entry per pair.
 * @param beta pseudo-count of the popularity prior
 * @param shape window (fitting) and history/decay (recorded for decoding)
 */
export function fitTransition(sequences: ReadonlyArray<ArrayLike<number>>, items: number, beta = 2, shape: TransitionShape = {}): TransitionData {
  const window = shape.window ?? 1;
  const history = shape.history ?? 1;
  const decay = shape.decay ?? 1;
  if (!Number.isInteger(window) || window < 1 || window > 1000) throw new ModelError(`transition window must be an integer in 1..1000, got ${window}`);
  if (!Number.isInteger(history) || history < 1) throw new ModelError(`transition history must be an integer ≥ 1, got ${history}`);
  if (!(decay > 0 && decay <= 1)) throw new ModelError(`transition decay must be in (0, 1], got ${decay}`);
  const counts = new Uint32Array(items);
  // occurrences (destination, distance) per source, in sequence order
  const perRow = new Float64Array(items);
  for (const s of sequences) {
    for (let i = 0; i < s.length; i++) {
      const src = s[i];
      if (!(Number.isInteger(src) && src >= 0 && src < items)) throw new ModelError(`transition fit: item row ${src} is outside 0..${items - 1}`);
      counts[src]++;
      perRow[src] += Math.min(window, s.length - 1 - i);
    }
  }
  let occ;
  try {
    occ = allocateOccurrences(perRow);
  } catch (err) {
    throw new ModelError(`transition fit: ${(err as Error).message}`);
  }
  for (const s of sequences) {
    for (let i = 0; i < s.length; i++) {
      for (let d = 1; d <= window && i + d < s.length; d++) {
        const at = occ.cursor[s[i]]++;
        occ.col[at] = s[i + d];
        occ.dist[at] = d;
      }
    }
  }
  // per source, the distinct destinations (sorted) and their weights summed in order
  const sums = sumOccurrences(occ);
  const srcPtr = Uint32Array.from(sums.indptr);
  const dst = new Uint32Array(sums.indices.buffer, sums.indices.byteOffset, sums.indices.length); // rows ≥ 0: the same bits
  const dstCount = sums.values;
  const shaped = window === 1 && history === 1 && decay === 1 ? {} : { window, history, decay };
  return { items, beta, ...shaped, counts, srcPtr, dst, dstCount };
}

/** What a request's rows are conditioned on: Σ_j c_j · (mass_j(node) + prior(node)). */
interface Context {
  /** Σ_j c_j · mass_j(node), by trie node (the root holds Σ_j c_j · C(h_j)). */
  mass: Map<number, number>;
  /** Σ_j c_j. */
  priorCoef: number;
}

/** Per-row decoding state: the row's context (index into `contexts`) and current trie node. */
export interface TransitionState {
  ctx: Int32Array;
  node: Int32Array;
  contexts: Context[];
}

export class TransitionStepModel implements StepModel<TransitionState> {
  readonly vocabSize: number;
  /** β·π(v) summed over the leaves under each node. */
  private readonly prior: Float64Array;
  private readonly cache = new Map<number, { mass: Map<number, number>; total: number; fullTotal: number }>();
  /** ancestors of each item's leaf, depth 1..L (row-major n × L) */
  private readonly path: Int32Array;

  private readonly rowOfCodes?: (codes: ArrayLike<number>) => number;

  /**
   * @param data the fitted counts (rows of the index it was trained on)
   * @param trie the candidates: the serving index's live rows
   * @param opts `rows`: rows of the serving index (default: the trie's items). An index grown by
   *   `index add` has more rows than the model: new items get the popularity prior of an unseen
   *   item. `rowOfCodes`: any row by tuple, retired ones included, so that a retired item that
   *   ends a history still conditions the transitions.
   */
  constructor(
    private readonly data: TransitionData,
    private readonly trie: PrefixTrie,
    private readonly layout: TokenLayout,
    opts: { rows?: number; rowOfCodes?: (codes: ArrayLike<number>) => number } = {},
  ) {
    const rows = opts.rows ?? trie.numItems;
    if (data.items > rows || (opts.rows === undefined && data.items !== rows)) throw new ModelError(`transition model has ${data.items} items, the index ${rows}`);
    this.rowOfCodes = opts.rowOfCodes;
    this.vocabSize = layout.vocabSize;
    const n = trie.numItems;
    const L = trie.levels;
    const N = data.counts.reduce((a, b) => a + b, 0);
    this.prior = new Float64Array(trie.numNodes);
    this.path = new Int32Array(rows * L).fill(-1);
    const leafBase = trie.levelStart[L];
    for (let leaf = 0; leaf < n; leaf++) {
      const row = trie.leafRow[leaf];
      this.prior[leafBase + leaf] = (data.beta * ((data.counts[row] ?? 0) + 1)) / (N + rows);
    }
    for (let u = leafBase - 1; u >= 0; u--) {
      const { start: a, end: b } = trie.children(u);
      let s = 0;
      for (let c = a; c < b; c++) s += this.prior[c];
      this.prior[u] = s;
    }
    // leaf paths (for transition masses): walk down each item's codes; rows not in the trie
    // (retired items) keep −1 and take no transition mass
    for (let leaf = 0; leaf < n; leaf++) {
      const row = trie.leafRow[leaf];
      const codes = trie.codesOf(leafBase + leaf);
      let node = 0;
      for (let l = 0; l < L; l++) {
        node = trie.child(node, codes[l]);
        this.path[row * L + l] = node;
      }
    }
  }

  /** Transition masses of a source item over trie nodes (cached, bounded). */
  private transitions(src: number): { mass: Map<number, number>; total: number; fullTotal: number } {
    let t = this.cache.get(src);
    if (t) return t;
    const mass = new Map<number, number>();
    let total = 0;
    let fullTotal = 0; // retired destinations included: the source's normaliser does not change when items retire
    if (src >= 0 && src < this.data.items) {
      const L = this.trie.levels;
      for (let p = this.data.srcPtr[src]; p < this.data.srcPtr[src + 1]; p++) {
        const d = this.data.dst[p];
        const c = this.data.dstCount[p];
        fullTotal += c;
        if (this.path[d * L] < 0) continue; // a retired item: not a candidate
        total += c;
        for (let l = 0; l < L; l++) {
          const node = this.path[d * L + l];
          mass.set(node, (mass.get(node) ?? 0) + c);
        }
      }
    }
    mass.set(0, total); // the root: every transition from src
    t = { mass, total, fullTotal };
    if (this.cache.size > 50_000) this.cache.clear();
    this.cache.set(src, t);
    return t;
  }

  /**
   * A request's context from its conditioning items (most recent first; −1: none). One item:
   * c = 1, exactly the first-order model's ratios. Several: c_j = α_j / (C(h_j) + β).
   */
  private context(srcs: readonly number[]): Context {
    if (srcs.length <= 1) {
      const t = this.transitions(srcs[0] ?? -1);
      return { mass: t.mass, priorCoef: 1 };
    }
    const decay = this.data.decay ?? 1;
    let norm = 0;
    for (let j = 0; j < srcs.length; j++) norm += decay ** j;
    const mass = new Map<number, number>();
    let priorCoef = 0;
    srcs.forEach((src, j) => {
      const t = this.transitions(src);
      const c = decay ** j / norm / (t.fullTotal + this.data.beta);
      priorCoef += c;
      for (const [node, m] of t.mass) mass.set(node, (mass.get(node) ?? 0) + c * m);
    });
    return { mass, priorCoef };
  }

  private output(state: TransitionState): StepOutput<TransitionState> {
    const R = state.node.length;
    const V = this.vocabSize;
    const lp = new Float32Array(R * V).fill(-Infinity);
    for (let r = 0; r < R; r++) {
      const node = state.node[r];
      if (node < 0 || this.trie.isLeaf(node)) continue;
      const { mass, priorCoef: k } = state.contexts[state.ctx[r]];
      const denom = (mass.get(node) ?? 0) + k * this.prior[node];
      const { start, end, codes } = this.trie.children(node);
      const level = this.trie.depth(node);
      const off = r * V + this.layout.offsets[level];
      for (let i = 0; i < end - start; i++) {
        const c = start + i;
        lp[off + codes[i]] = Math.log(((mass.get(c) ?? 0) + k * this.prior[c]) / denom);
      }
    }
    return { state, logprobs: lp };
  }

  async prefill(prompts: readonly Int32Array[]): Promise<StepOutput<TransitionState>> {
    const history = this.data.history ?? 1;
    const contexts = prompts.map((p) => this.context(promptItemRows(p, history, this.trie, this.layout, this.rowOfCodes)));
    return this.output({ ctx: Int32Array.from(prompts, (_, i) => i), node: new Int32Array(prompts.length), contexts });
  }

  async step(state: TransitionState, tokens: Int32Array): Promise<StepOutput<TransitionState>> {
    return this.output({ ctx: state.ctx, node: advanceNodes(this.trie, this.layout, state.node, tokens), contexts: state.contexts });
  }

  reorder(state: TransitionState, index: Int32Array): TransitionState {
    return { ctx: pickRows(state.ctx, index), node: pickRows(state.node, index), contexts: state.contexts };
  }
}
