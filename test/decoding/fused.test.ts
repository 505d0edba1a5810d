import { describe, expect, it } from 'vitest';
import { beamSearch, DecodingInputError, FusedStepModel, PrefixTrie, TokenLayout, type StepModel } from '../../decoding/index.js';
import { TableModel, distinctTuples, hashedLogits } from './table-model.js';

/** Joint log-probability of a tuple under a table model, summed token by token (brute force). */
function joint(model: TableModel, layout: TokenLayout, prompt: Int32Array, tuple: readonly number[]): number {
  let s = 0;
  const gen: number[] = [];
  tuple.forEach((c, l) => {
    const tok = layout.token(l, c);
    s += model.logprobs(prompt, gen)[tok];
    gen.push(tok);
  });
  return s;
}

describe('FusedStepModel (weighted log-linear fusion)', () => {
  const sizes = [5, 4, 3];
  const n = 40;
  const codes = distinctTuples(n, sizes, 11);
  const trie = PrefixTrie.build(codes, n, sizes);
  const layout = new TokenLayout(sizes);
  const V = layout.vocabSize;
  const tuples = Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * 3, i * 3 + 3)));

  it('ranks every item by Σ w_i · joint log p_i (brute force over the whole tiny trie)', async () => {
    for (let seed = 0; seed < 6; seed++) {
      const a = new TableModel(V, hashedLogits(V, 100 + seed, 4));
      const b = new TableModel(V, hashedLogits(V, 200 + seed, 4));
      const w = [0.15 * seed + 0.1, 1 - 0.15 * seed];
      const fused = new FusedStepModel([
        { model: a as StepModel<unknown>, weight: w[0] },
        { model: b as StepModel<unknown>, weight: w[1] },
      ]);
      const prompts = [new Int32Array([1, 3]), new Int32Array([1, 8, 9, 10])];
      const res = await beamSearch(fused, trie, layout, prompts.map((prompt) => ({ prompt })), { beamWidth: n, k: n });
      prompts.forEach((p, r) => {
        const want = tuples
          .map((t, row) => ({ row, score: w[0] * joint(a, layout, p, t) + w[1] * joint(b, layout, p, t) }))
          .sort((x, y) => y.score - x.score);
        expect(res[r]).toHaveLength(n);
        res[r].forEach((h, i) => {
          expect(h.score).toBeCloseTo(want[i].score, 4);
          expect(h.codes).toEqual(tuples[h.row]);
        });
        expect(res[r].map((h) => h.row)).toEqual(want.map((x) => x.row));
      });
    }
  });

  it('weight 1 / 0 is exactly that part alone, and the zero-weight part is never called', async () => {
    const a = new TableModel(V, hashedLogits(V, 7));
    const b = new TableModel(V, hashedLogits(V, 8));
    const reqs = [{ prompt: new Int32Array([1, 4]) }];
    const alone = await beamSearch(new TableModel(V, hashedLogits(V, 7)), trie, layout, reqs, { beamWidth: 10 });
    const fused = await beamSearch(new FusedStepModel([{ model: a as StepModel<unknown>, weight: 1 }, { model: b as StepModel<unknown>, weight: 0 }]), trie, layout, reqs, { beamWidth: 10 });
    expect(fused).toEqual(alone);
    expect(b.calls.prefill + b.calls.step).toBe(0);
  });

  it('small beams return distinct real items; bad weights and vocabularies are typed errors', async () => {
    const a = new TableModel(V, hashedLogits(V, 1));
    const b = new TableModel(V, hashedLogits(V, 2));
    const fused = new FusedStepModel([{ model: a as StepModel<unknown>, weight: 0.6 }, { model: b as StepModel<unknown>, weight: 0.4 }]);
    const res = await beamSearch(fused, trie, layout, [{ prompt: new Int32Array([1]) }, { prompt: new Int32Array([1, 5]) }], { beamWidth: 4 });
    for (const hits of res) {
      expect(hits).toHaveLength(4);
      expect(new Set(hits.map((h) => h.row)).size).toBe(4);
      for (const h of hits) expect(tuples[h.row]).toEqual(h.codes);
    }
    expect(() => new FusedStepModel([])).toThrow(DecodingInputError);
    expect(() => new FusedStepModel([{ model: a as StepModel<unknown>, weight: -0.1 }])).toThrow(/≥ 0/);
    expect(() => new FusedStepModel([{ model: a as StepModel<unknown>, weight: 0 }])).toThrow(/every fusion weight is 0/);
    expect(() => new FusedStepModel([{ model: a as StepModel<unknown>, weight: 1 }, { model: new TableModel(V + 1, hashedLogits(V + 1, 3)) as StepModel<unknown>, weight: 1 }])).toThrow(/share one vocabulary/);
  });
});
