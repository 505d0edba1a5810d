import { describe, expect, it } from 'vitest';
import { beamSearch, PrefixTrie, RemappedStepModel, TokenLayout, DecodingInputError } from '../../decoding/index.js';
import { Rng } from '../../quantizer/core/index.js';
import { TableModel, distinctTuples, hashedLogits } from './table-model.js';

/**
 * An "inner" model whose vocabulary is the canonical one permuted and padded with extra (text)
 * tokens. With no extra tokens, decoding through the remapping gives exactly the canonical
 * model's results; with extra tokens, scores are the inner joint log-probabilities.
 */
function setup(extra: number, seed: number) {
  const sizes = [6, 5, 4];
  const layout = new TokenLayout(sizes);
  const V = layout.vocabSize;
  const W = V + extra;
  const perm = Array.from({ length: W }, (_, i) => i);
  const r = new Rng(seed);
  for (let i = W - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const map = perm.slice(0, V); // canonical t → inner perm[t]; inner ids perm[V..] are text tokens
  const canonicalLogits = hashedLogits(V, seed);
  const textLogits = hashedLogits(extra || 1, seed + 1);
  const inv = new Int32Array(W).fill(-1);
  map.forEach((m, t) => (inv[m] = t));
  // the inner model sees inner ids; it scores as the canonical model on the mapped tokens
  const inner = new TableModel(W, (prompt, gen) => {
    const z = canonicalLogits(prompt, gen.map((g) => inv[g]));
    const out = new Float32Array(W);
    const tz = textLogits(prompt, gen);
    for (let w = 0; w < W; w++) out[w] = inv[w] >= 0 ? z[inv[w]] : tz[perm.indexOf(w) - V];
    return out;
  });
  const canonical = new TableModel(V, canonicalLogits);
  const n = 60;
  const trie = PrefixTrie.build(distinctTuples(n, sizes, seed), n, sizes);
  return { layout, map, inner, canonical, trie, V, W };
}

describe('RemappedStepModel', () => {
  it('with a permuted vocabulary, decodes exactly like the canonical model', async () => {
    for (const seed of [1, 2, 3]) {
      const { layout, map, inner, canonical, trie } = setup(0, seed);
      const model = new RemappedStepModel(inner, map);
      const reqs = [{ prompt: new Int32Array([1, 7]) }, { prompt: new Int32Array([1, 9, 12]) }];
      const a = await beamSearch(canonical, trie, layout, reqs, { beamWidth: 8 });
      const b = await beamSearch(model, trie, layout, reqs, { beamWidth: 8 });
      expect(b.map((hs) => hs.map((h) => h.row))).toEqual(a.map((hs) => hs.map((h) => h.row)));
      b.forEach((hs, i) => hs.forEach((h, j) => expect(h.score).toBeCloseTo(a[i][j].score, 5)));
    }
  });

  it('with extra text tokens, scores are the inner model’s joint log-probabilities (brute force)', async () => {
    const { layout, map, inner, trie } = setup(7, 4);
    const model = new RemappedStepModel(inner, map);
    const prompt = new Int32Array([3, 1, 0]);
    const [hits] = await beamSearch(model, trie, layout, [{ prompt }], { beamWidth: 60 });
    expect(hits).toHaveLength(60); // beam ≥ items: every item, exactly ranked
    for (const h of hits) {
      const toks = layout.tokens(h.codes).map((t) => map[t]);
      let s = 0;
      for (let l = 0; l < toks.length; l++) s += inner.logprobs(prompt, toks.slice(0, l))[toks[l]];
      expect(h.score).toBeCloseTo(s, 4);
    }
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
  });

  it('rejects a map outside the inner vocabulary', () => {
    const { inner, V, W } = setup(2, 5);
    expect(() => new RemappedStepModel(inner, Array.from({ length: V }, (_, i) => (i === 3 ? W : i)))).toThrow(DecodingInputError);
  });
});
