/**
 * StepModel: everything beam search knows about a model. Implementations: the onnxruntime runner
 * (KV cache), the bigram transition model (src/), table models in tests.
 */

/** Output of a model call: its new state and next-token log-probabilities. */
export interface StepOutput<S> {
  state: S;
  /**
   * rows × vocabSize row-major log-probabilities of the next token (log-softmax over the model's
   * whole vocabulary; −Infinity for impossible tokens). Beam search masks tokens the trie does
   * not allow and never renormalises: a tuple's score is the model's joint log-probability.
   */
  logprobs: Float32Array;
}

/**
 * What one request of a search may return, in leaves of the search's trie (sorted, distinct): a
 * hint for models that score whole items and look ahead with it (an item-scoring model's best
 * item under a prefix is then a returnable one, so the search is exact). Models that score tokens
 * ignore it; beam search prunes by it either way.
 */
export interface CandidateFilter {
  /** Leaves the request must not return. */
  excludeLeaves: Int32Array;
  /** If given, the only leaves it may return (already without the excluded ones). */
  includeLeaves?: Int32Array;
}

/** A causal model that can be prefetched with prompts and advanced one token per row. */
export interface StepModel<S = unknown> {
  /** Vocabulary size (row length of `logprobs`). */
  readonly vocabSize: number;
  /**
   * Run the prompts (one row each) and return the distribution of each prompt's next token.
   * `filters[i]`: what request i may return (see {@link CandidateFilter}; optional to use).
   */
  prefill(prompts: readonly Int32Array[], filters?: readonly (CandidateFilter | undefined)[]): Promise<StepOutput<S>>;
  /** Append `tokens[i]` to row i and return the next distribution for every row. */
  step(state: S, tokens: Int32Array): Promise<StepOutput<S>>;
  /** New state whose row i is row `index[i]` of `state` (rows may repeat or be dropped). */
  reorder(state: S, index: Int32Array): S | Promise<S>;
  /** Optional: free resources held by a state that will not be used again. */
  release?(state: S): void;
}
