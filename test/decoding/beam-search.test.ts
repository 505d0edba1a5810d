import { describe, expect, it } from 'vitest';
import { beamSearch, PrefixTrie, TokenLayout, DecodingInputError } from '../../decoding/index.js';
import { TableModel, distinctTuples, hashedLogits } from './table-model.js';

/** Brute force: joint log-probability of every item, sorted (score desc, tuple asc). */
function bruteForce(model: TableModel, layout: TokenLayout, codes: Uint16Array, n: number, prompt: Int32Array) {
  const L = layout.levels;
  const all = [];
  for (let i = 0; i < n; i++) {
    const t = Array.from(codes.subarray(i * L, (i + 1) * L));
    let s = 0;
    const gen: number[] = [];
    for (let l = 0; l < L; l++) {
      const tok = layout.token(l, t[l]);
      s += model.logprobs(prompt, gen)[tok];
      gen.push(tok);
    }
    all.push({ row: i, codes: t, score: s });
  }
  return all.sort((a, b) => b.score - a.score || a.codes.join().localeCompare(b.codes.join(), 'en', { numeric: true }));
}

describe('constrained beam search', () => {
  const sizes = [6, 5, 4];
  const n = 70;
  const codes = distinctTuples(n, sizes, 1);
  const trie = PrefixTrie.build(codes, n, sizes);
  const layout = new TokenLayout(sizes);

  it('with beamWidth ≥ #items returns exactly the top-k items by product probability (brute force)', async () => {
    for (let seed = 0; seed < 10; seed++) {
      const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, seed));
      const prompts = [new Int32Array([1, 5, 9]), new Int32Array([1, 7]), new Int32Array([1])];
      const res = await beamSearch(model, trie, layout, prompts.map((p) => ({ prompt: p })), { beamWidth: n, k: 10 });
      prompts.forEach((p, r) => {
        const want = bruteForce(model, layout, codes, n, p).slice(0, 10);
        expect(res[r].map((h) => h.row)).toEqual(want.map((w) => w.row));
        res[r].forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 4));
      });
      // batched: one prefill and L−1 steps for all requests together
      expect(model.calls.prefill).toBe(1);
      expect(model.calls.step).toBe(sizes.length - 1);
    }
  });

  it('small beams: every returned tuple is a real item, distinct, on thousands of random tries', async () => {
    const rowsOf = new Set(Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * 3, i * 3 + 3)).join()));
    let checked = 0;
    for (let seed = 0; seed < 60; seed++) {
      const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 1000 + seed, 8));
      const reqs = Array.from({ length: 40 }, (_, i) => ({ prompt: new Int32Array([1, seed, i]) }));
      const bw = 1 + (seed % 7);
      const res = await beamSearch(model, trie, layout, reqs, { beamWidth: bw });
      for (const hits of res) {
        expect(hits.length).toBe(bw);
        expect(new Set(hits.map((h) => h.row)).size).toBe(hits.length);
        for (const h of hits) {
          expect(rowsOf.has(h.codes.join())).toBe(true);
          expect(Array.from(codes.subarray(h.row * 3, h.row * 3 + 3))).toEqual(h.codes);
          checked++;
        }
        for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('never picks a token the trie forbids even when the model prefers it', async () => {
    // a catalogue without any item whose first code is 5; the model puts almost all mass there
    const rows = Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * 3, i * 3 + 3))).filter((t) => t[0] !== 5);
    const sub = PrefixTrie.build(Uint16Array.from(rows.flat()), rows.length, sizes);
    const forbidden = layout.token(0, 5);
    const model = new TableModel(layout.vocabSize, () => {
      const z = new Float32Array(layout.vocabSize).fill(-5);
      z[forbidden] = 20;
      z[0] = 30; // PAD
      return z;
    });
    const res = await beamSearch(model, sub, layout, [{ prompt: new Int32Array([1]) }], { beamWidth: 5 });
    expect(res[0]).toHaveLength(5);
    for (const h of res[0]) {
      expect(h.codes[0]).not.toBe(5);
      expect(rows[h.row]).toEqual(h.codes);
    }
    // scores are log-probabilities under the full-vocabulary softmax (not renormalised)
    expect(res[0][0].score).toBeLessThan(-20);
  });

  it('excluded items are pruned during the walk, so k results still come back', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 3));
    const prompt = new Int32Array([1, 2]);
    const top = bruteForce(model, layout, codes, n, prompt);
    const exclude = top.slice(0, 30).map((h) => h.row); // the 30 best items
    const res = await beamSearch(model, trie, layout, [{ prompt, exclude }], { beamWidth: n, k: 10 });
    expect(res[0].map((h) => h.row)).toEqual(top.slice(30, 40).map((h) => h.row));
    // small beams: still k results, none excluded
    for (const bw of [3, 10]) {
      const r2 = await beamSearch(model, trie, layout, [{ prompt, exclude }], { beamWidth: bw });
      expect(r2[0]).toHaveLength(bw);
      for (const h of r2[0]) expect(exclude).not.toContain(h.row);
    }
    // excluding everything but 2 items leaves exactly those 2
    const keep = [top[5].row, top[60].row];
    const r3 = await beamSearch(model, trie, layout, [{ prompt, exclude: top.map((h) => h.row).filter((r) => !keep.includes(r)) }], { beamWidth: 10 });
    expect(r3[0].map((h) => h.row).sort()).toEqual([...keep].sort());
  });

  it('an allow-list (include) returns exactly the best allowed items (brute force), minus exclusions', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 11));
    const prompt = new Int32Array([1, 4]);
    const top = bruteForce(model, layout, codes, n, prompt);
    for (let seed = 0; seed < 8; seed++) {
      // a seeded random allow-list of 12 rows, 3 of them also excluded, plus junk rows that must be ignored
      const rows = top.map((h) => h.row).sort((a, b) => ((a * 7919 + seed * 104729) % 97) - ((b * 7919 + seed * 104729) % 97));
      const include = [...rows.slice(0, 12), -1, n + 5];
      const exclude = rows.slice(0, 3);
      const want = top.filter((h) => rows.slice(3, 12).includes(h.row)).slice(0, 5);
      const wide = await beamSearch(model, trie, layout, [{ prompt, include, exclude }], { beamWidth: n, k: 5 });
      expect(wide[0].map((h) => h.row)).toEqual(want.map((h) => h.row));
      // small beams still fill k from the allowed set, never anything else
      const narrow = await beamSearch(model, trie, layout, [{ prompt, include, exclude }], { beamWidth: 4 });
      expect(narrow[0]).toHaveLength(4);
      for (const h of narrow[0]) expect(rows.slice(3, 12)).toContain(h.row);
    }
    // an empty allow-list returns nothing
    const none = await beamSearch(model, trie, layout, [{ prompt, include: [] }], { beamWidth: 5 });
    expect(none[0]).toEqual([]);
  });

  it('equal scores tie-break by token id (deterministic)', async () => {
    const model = new TableModel(layout.vocabSize, () => new Float32Array(layout.vocabSize)); // uniform
    const res = await beamSearch(model, trie, layout, [{ prompt: new Int32Array([1]) }], { beamWidth: n, k: 8 });
    const sorted = Array.from({ length: n }, (_, i) => Array.from(codes.subarray(i * 3, i * 3 + 3)))
      .sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
      .slice(0, 8);
    expect(res[0].map((h) => h.codes)).toEqual(sorted);
  });

  it('validates arguments', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 1));
    await expect(beamSearch(model, trie, layout, [{ prompt: new Int32Array([1]) }], { beamWidth: 0 })).rejects.toThrow(DecodingInputError);
    const wrong = new TableModel(layout.vocabSize + 1, hashedLogits(layout.vocabSize + 1, 1));
    await expect(beamSearch(wrong, trie, layout, [{ prompt: new Int32Array([1]) }], { beamWidth: 2 })).rejects.toThrow(/vocabulary/);
  });
});
