/**
 * FusedStepModel: a weighted log-linear combination of StepModels over the same token layout,
 * itself a StepModel — so several models decode together inside one trie-constrained beam search.
 *
 * Per row and token, the fused log-score is `Σ_i w_i · logp_i(token | prefix)`. It is not
 * renormalised (a product of experts); beam search ranks tuples by the sum over their tokens,
 * so a tuple's score is `Σ_i w_i · log p_i(tuple)` — exactly the weighted sum of each part's joint
 * log-probability. With one weight 1 and the others 0 it is that part alone. Parts with weight 0
 * are never called (they cost nothing and cannot turn −∞ · 0 into NaN).
 *
 *   const fused = new FusedStepModel([
 *     { model: transformer, weight: 0.7 },
 *     { model: transition, weight: 0.3 },
 *   ]);
 *   await beamSearch(fused, trie, layout, requests, { beamWidth: 20 });
 */
import { DecodingInputError } from './errors.js';
import type { CandidateFilter, StepModel, StepOutput } from './step-model.js';

/** One member of a {@link FusedStepModel}. */
export interface FusedPart {
  model: StepModel<unknown>;
  /** Non-negative weight of this part's log-probabilities. */
  weight: number;
}

/** Decoding state of a fused model: one state per active part. */
export type FusedState = unknown[];

export class FusedStepModel implements StepModel<FusedState> {
  readonly vocabSize: number;
  /** Parts with a positive weight (the ones that are called). */
  readonly active: readonly FusedPart[];
  private readonly spent = new WeakSet<FusedState>();

  /** @param parts the models and their weights; all must share one vocabulary */
  constructor(parts: readonly FusedPart[]) {
    if (parts.length === 0) throw new DecodingInputError('a fused model needs at least one part');
    const V = parts[0].model.vocabSize;
    for (const [i, p] of parts.entries()) {
      if (!Number.isFinite(p.weight) || p.weight < 0) throw new DecodingInputError(`fusion weight of part ${i} must be a finite number ≥ 0, got ${p.weight}`);
      if (p.model.vocabSize !== V) throw new DecodingInputError(`fused parts must share one vocabulary: part ${i} has ${p.model.vocabSize} tokens, part 0 has ${V}`);
    }
    this.active = parts.filter((p) => p.weight > 0);
    if (this.active.length === 0) throw new DecodingInputError('every fusion weight is 0');
    this.vocabSize = V;
  }

  private combine(outs: readonly StepOutput<unknown>[], rows: number): StepOutput<FusedState> {
    const n = rows * this.vocabSize;
    for (const [i, o] of outs.entries()) {
      if (o.logprobs.length !== n) throw new DecodingInputError(`fused part ${i} returned ${o.logprobs.length} log-probabilities for ${rows} rows of ${this.vocabSize}`);
    }
    if (outs.length === 1 && this.active[0].weight === 1) return { state: [outs[0].state], logprobs: outs[0].logprobs };
    const lp = new Float32Array(n);
    for (const [i, o] of outs.entries()) {
      const w = this.active[i].weight;
      const src = o.logprobs;
      for (let j = 0; j < n; j++) lp[j] += w * src[j];
    }
    return { state: outs.map((o) => o.state), logprobs: lp };
  }

  async prefill(prompts: readonly Int32Array[], filters?: readonly (CandidateFilter | undefined)[]): Promise<StepOutput<FusedState>> {
    const outs = await Promise.all(this.active.map((p) => p.model.prefill(prompts, filters)));
    return this.combine(outs, prompts.length);
  }

  async step(state: FusedState, tokens: Int32Array): Promise<StepOutput<FusedState>> {
    const outs = await Promise.all(this.active.map((p, i) => p.model.step(state[i], tokens)));
    return this.combine(outs, tokens.length);
  }

  async reorder(state: FusedState, index: Int32Array): Promise<FusedState> {
    const next = await Promise.all(this.active.map((p, i) => p.model.reorder(state[i], index)));
    // a part that built a new state no longer needs the old one (a part that reordered in place
    // keeps it); the old fused state is then spent, and releasing it later is a no-op
    this.active.forEach((p, i) => {
      if (next[i] !== state[i]) p.model.release?.(state[i]);
    });
    this.spent.add(state);
    return next;
  }

  release(state: FusedState): void {
    if (this.spent.has(state)) return;
    this.spent.add(state);
    this.active.forEach((p, i) => p.model.release?.(state[i]));
  }
}
