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

/** A causal model that can be prefetched with prompts and advanced one token per row. */
export interface StepModel<S = unknown> {
  /** Vocabulary size (row length of `logprobs`). */
  readonly vocabSize: number;
  /** Run the prompts (one row each) and return the distribution of each prompt's next token. */
  prefill(prompts: readonly Int32Array[]): Promise<StepOutput<S>>;
  /** Append `tokens[i]` to row i and return the next distribution for every row. */
  step(state: S, tokens: Int32Array): Promise<StepOutput<S>>;
  /** New state whose row i is row `index[i]` of `state` (rows may repeat or be dropped). */
  reorder(state: S, index: Int32Array): S | Promise<S>;
  /** Optional: free resources held by a state that will not be used again. */
  release?(state: S): void;
}
