/**
 * RemappedStepModel: serve a model whose vocabulary is not the canonical {@link TokenLayout} —
 * e.g. a Hugging Face causal LM whose semantic-ID tokens were added to a text vocabulary — through
 * the same beam search.
 *
 * The adapter exposes the canonical vocabulary: canonical token `t` is the inner model's token
 * `map[t]` (−1: the inner model has no such token; its log-probability is −Infinity). Each
 * canonical row of log-probabilities is gathered from the inner model's full log-softmax, so
 * scores stay the inner model's joint log-probabilities (no renormalisation over the ID tokens).
 * Prompts are passed to {@link prefill} in the inner model's own token ids (a text prompt
 * tokenised by its tokenizer); tokens given to {@link step} are canonical and are translated.
 *
 * A model with a restricted output head (logits for its ID tokens only) has two maps: `map` into
 * its output columns, `inputMap` into its input vocabulary.
 */
import { DecodingInputError } from './errors.js';
import type { CandidateFilter, StepModel, StepOutput } from './step-model.js';

export class RemappedStepModel<S> implements StepModel<S> {
  readonly vocabSize: number;
  private readonly map: Int32Array;
  private readonly inputMap: Int32Array;

  /**
   * @param inner the model in its own vocabulary
   * @param map canonical token id → the inner model's output column (−1 for none); its length is
   *   the canonical vocabulary size
   * @param inputMap canonical token id → the inner model's input token id (−1 for none); default
   *   `map` (a model whose output columns are its vocabulary)
   */
  constructor(
    readonly inner: StepModel<S>,
    map: ArrayLike<number>,
    inputMap: ArrayLike<number> = map,
  ) {
    this.map = Int32Array.from(map);
    this.inputMap = Int32Array.from(inputMap);
    this.vocabSize = this.map.length;
    if (this.inputMap.length !== this.map.length) throw new DecodingInputError(`token maps: ${this.map.length} output entries but ${this.inputMap.length} input entries`);
    for (let t = 0; t < this.map.length; t++) {
      const m = this.map[t];
      if (!Number.isInteger(m) || m < -1 || m >= inner.vocabSize) throw new DecodingInputError(`token map: canonical token ${t} → ${m} is outside the inner vocabulary of ${inner.vocabSize}`);
      if (!Number.isInteger(this.inputMap[t]) || this.inputMap[t] < -1) throw new DecodingInputError(`input token map: canonical token ${t} → ${this.inputMap[t]} is not a token id`);
    }
  }

  private gather(out: StepOutput<S>, rows: number): StepOutput<S> {
    const V = this.vocabSize;
    const W = this.inner.vocabSize;
    if (out.logprobs.length !== rows * W) throw new DecodingInputError(`inner model returned ${out.logprobs.length} log-probabilities for ${rows} rows of ${W}`);
    const lp = new Float32Array(rows * V);
    for (let r = 0; r < rows; r++) {
      for (let t = 0; t < V; t++) {
        const m = this.map[t];
        lp[r * V + t] = m < 0 ? -Infinity : out.logprobs[r * W + m];
      }
    }
    return { state: out.state, logprobs: lp };
  }

  /** Prefill prompts given in the inner model's token ids. */
  async prefill(prompts: readonly Int32Array[], filters?: readonly (CandidateFilter | undefined)[]): Promise<StepOutput<S>> {
    return this.gather(await this.inner.prefill(prompts, filters), prompts.length);
  }

  /** Append canonical tokens (translated to inner ids). */
  async step(state: S, tokens: Int32Array): Promise<StepOutput<S>> {
    const inner = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const m = tokens[i] >= 0 && tokens[i] < this.vocabSize ? this.inputMap[tokens[i]] : -1;
      if (m < 0) throw new DecodingInputError(`canonical token ${tokens[i]} has no counterpart in the inner model`);
      inner[i] = m;
    }
    return this.gather(await this.inner.step(state, inner), tokens.length);
  }

  reorder(state: S, index: Int32Array): S | Promise<S> {
    return this.inner.reorder(state, index);
  }

  release(state: S): void {
    this.inner.release?.(state);
  }
}
