/**
 * A StepModel whose logits are a deterministic function (a "table") of the prompt and the tokens
 * generated so far; log-probabilities are the log-softmax over the whole vocabulary.
 */
import type { StepModel, StepOutput } from '../../decoding/index.js';
import { Rng } from '../../quantizer/core/index.js';

export type Rows = { prompt: Int32Array; gen: number[] }[];

export class TableModel implements StepModel<Rows> {
  calls = { prefill: 0, step: 0, rows: 0 };
  constructor(
    readonly vocabSize: number,
    /** logits for the next token given prompt and generated tokens */
    readonly logits: (prompt: Int32Array, gen: readonly number[]) => Float32Array,
  ) {}

  logprobs(prompt: Int32Array, gen: readonly number[]): Float32Array {
    const z = this.logits(prompt, gen);
    let m = -Infinity;
    for (const v of z) m = Math.max(m, v);
    let s = 0;
    for (const v of z) s += Math.exp(v - m);
    const lse = m + Math.log(s);
    return z.map((v) => v - lse);
  }

  private out(rows: Rows): StepOutput<Rows> {
    const lp = new Float32Array(rows.length * this.vocabSize);
    rows.forEach((r, i) => lp.set(this.logprobs(r.prompt, r.gen), i * this.vocabSize));
    this.calls.rows += rows.length;
    return { state: rows, logprobs: lp };
  }
  async prefill(prompts: readonly Int32Array[]) {
    this.calls.prefill++;
    return this.out(prompts.map((p) => ({ prompt: p, gen: [] })));
  }
  async step(state: Rows, tokens: Int32Array) {
    this.calls.step++;
    return this.out(state.map((r, i) => ({ prompt: r.prompt, gen: [...r.gen, tokens[i]] })));
  }
  reorder(state: Rows, index: Int32Array): Rows {
    return Array.from(index, (i) => ({ prompt: state[i].prompt, gen: [...state[i].gen] }));
  }
}

/** Pseudo-random but deterministic logits from a hash of (prompt, generated tokens, seed). */
export function hashedLogits(V: number, seed: number, scale = 3): (prompt: Int32Array, gen: readonly number[]) => Float32Array {
  return (prompt, gen) => {
    let h = 2166136261 ^ seed;
    for (const t of [...prompt, -1, ...gen]) h = Math.imul(h ^ (t + 7), 16777619);
    const out = new Float32Array(V);
    for (let v = 0; v < V; v++) {
      let x = Math.imul(h ^ (v * 2654435761), 2246822519);
      x ^= x >>> 13;
      x = Math.imul(x, 3266489917);
      x ^= x >>> 16;
      out[v] = ((x >>> 0) / 4294967296) * scale * 2 - scale;
    }
    return out;
  };
}

/** n distinct random tuples (row-major) over codebook `sizes`, seeded. */
export function distinctTuples(n: number, sizes: readonly number[], seed: number): Uint16Array {
  const r = new Rng(seed);
  const L = sizes.length;
  const codes = new Uint16Array(n * L);
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    for (;;) {
      const t = sizes.map((k) => r.int(k));
      const key = t.join();
      if (!seen.has(key)) {
        seen.add(key);
        codes.set(t, i * L);
        break;
      }
    }
  }
  return codes;
}
