/**
 * A model that scores whole items (SASRec and other ID-based recommenders) as a StepModel, so it
 * is decoded, served, fused and evaluated like every other kind, and still answers only real
 * items. Per request the scorer gives log p(item | history) over its catalogue; over the trie each
 * node gets the best score of a returnable leaf under it, and a token's log-probability is the
 * step between a node's best and its child's:
 *
 *     lp(code | node) = best(node·code) − best(node),   best(root) := 0,
 *
 * so a tuple's summed score is exactly log p(item), and a prefix's running score is the best item
 * it can still lead to. Beam search of width B therefore returns exactly the B best items of the
 * scorer (a prefix without one of them scores below every prefix that has one), with the request's
 * exclusions and allow-list honoured in the look-ahead (the search passes them as
 * {@link CandidateFilter}s). The per-token values are not a normalised distribution (they are
 * ≤ 0 and telescope to the item's log-probability); fused with a token model, the final scores are
 * the weighted sum of both models' item log-probabilities, as for any fusion.
 *
 * Items of the index the scorer does not know (rows added by `index add` after training) score
 * −∞: they are never returned by this model alone.
 */
import type { CandidateFilter, PrefixTrie, StepModel, StepOutput, TokenLayout } from '../../../decoding/index.js';
import { advanceNodes, pickRows, promptItemRows } from './prompt-items.js';

/** Scores whole items for histories (e.g. SASRec's ONNX graph). */
export interface ItemScorer {
  /** Items it scores: rows 0 .. items − 1 of the index it was trained on. */
  readonly items: number;
  /** History items it reads (the most recent are kept). */
  readonly maxHistory: number;
  /**
   * Log-probabilities of every item after each history (rows, oldest first, each < `items`):
   * row-major [histories × items].
   */
  score(histories: readonly Int32Array[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Decoding state: each row's request (index into `best`) and trie node. */
export interface ItemScoreState {
  ctx: Int32Array;
  node: Int32Array;
  /** Per request: the best returnable leaf score under every trie node. */
  best: Float32Array[];
}

/** An {@link ItemScorer} decoded over a trie (see the module comment). */
export class ItemScoreStepModel implements StepModel<ItemScoreState> {
  readonly vocabSize: number;

  /**
   * @param opts `rowOfCodes`: any row by tuple, retired ones included, so that a retired item in
   *   a history still conditions the scorer.
   */
  constructor(
    private readonly scorer: ItemScorer,
    private readonly trie: PrefixTrie,
    private readonly layout: TokenLayout,
    private readonly opts: { rowOfCodes?: (codes: ArrayLike<number>) => number } = {},
  ) {
    this.vocabSize = layout.vocabSize;
  }

  /** The history rows of a prompt that the scorer knows, oldest first. */
  historyOf(prompt: Int32Array): Int32Array {
    const rows = promptItemRows(prompt, this.scorer.maxHistory, this.trie, this.layout, this.opts.rowOfCodes);
    return Int32Array.from(rows.filter((r) => r >= 0 && r < this.scorer.items).reverse());
  }

  /** Best returnable leaf score under every node, for one request's item log-probabilities. */
  private bestUnder(lp: Float32Array, filter: CandidateFilter | undefined): Float32Array {
    const t = this.trie;
    const best = new Float32Array(t.numNodes).fill(-Infinity);
    const base = t.levelStart[t.levels];
    const n = t.numItems;
    const items = this.scorer.items;
    if (filter?.includeLeaves) {
      for (const leaf of filter.includeLeaves) {
        const row = t.leafRow[leaf];
        if (row < items) best[base + leaf] = lp[row];
      }
    } else {
      for (let leaf = 0; leaf < n; leaf++) {
        const row = t.leafRow[leaf];
        if (row < items) best[base + leaf] = lp[row];
      }
      if (filter) for (const leaf of filter.excludeLeaves) best[base + leaf] = -Infinity;
    }
    for (let u = base - 1; u >= 0; u--) {
      const { start, end } = t.children(u);
      let m = -Infinity;
      for (let c = start; c < end; c++) if (best[c] > m) m = best[c];
      best[u] = m;
    }
    return best;
  }

  private output(state: ItemScoreState): StepOutput<ItemScoreState> {
    const R = state.node.length;
    const V = this.vocabSize;
    const out = new Float32Array(R * V).fill(-Infinity);
    for (let r = 0; r < R; r++) {
      const node = state.node[r];
      if (node < 0 || this.trie.isLeaf(node)) continue;
      const best = state.best[state.ctx[r]];
      const from = node === 0 ? 0 : best[node];
      if (from === -Infinity) continue;
      const { start, end, codes } = this.trie.children(node);
      const off = r * V + this.layout.offsets[this.trie.depth(node)];
      for (let i = 0; i < end - start; i++) {
        const b = best[start + i];
        if (b !== -Infinity) out[off + codes[i]] = b - from;
      }
    }
    return { state, logprobs: out };
  }

  async prefill(prompts: readonly Int32Array[], filters?: readonly (CandidateFilter | undefined)[]): Promise<StepOutput<ItemScoreState>> {
    const items = this.scorer.items;
    const lp = prompts.length ? await this.scorer.score(prompts.map((p) => this.historyOf(p))) : new Float32Array(0);
    const best = prompts.map((_, i) => this.bestUnder(lp.subarray(i * items, (i + 1) * items), filters?.[i]));
    return this.output({ ctx: Int32Array.from(prompts, (_, i) => i), node: new Int32Array(prompts.length), best });
  }

  async step(state: ItemScoreState, tokens: Int32Array): Promise<StepOutput<ItemScoreState>> {
    return this.output({ ctx: state.ctx, node: advanceNodes(this.trie, this.layout, state.node, tokens), best: state.best });
  }

  reorder(state: ItemScoreState, index: Int32Array): ItemScoreState {
    return { ctx: pickRows(state.ctx, index), node: pickRows(state.node, index), best: state.best };
  }
}
