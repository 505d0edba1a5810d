import { describe, expect, it } from 'vitest';
import { beamSearch, beamSearchesRun, DecodingInputError, PrefixTrie, TokenLayout, warmUp, DEFAULT_WARMUP_SEARCHES, WARMUP_ROUND } from '../../decoding/index.js';
import { TableModel, distinctTuples, hashedLogits } from './table-model.js';

describe('warmUp', () => {
  const sizes = [6, 5, 4];
  const n = 70;
  const codes = distinctTuples(n, sizes, 1);
  const trie = PrefixTrie.build(codes, n, sizes);
  const layout = new TokenLayout(sizes);
  const prompts = [new Int32Array([1, 5, 9]), new Int32Array([1, 7])];

  it('runs the single searches over the prompts, then one batch, and leaves results unchanged', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 3));
    const before = await beamSearch(model, trie, layout, [{ prompt: prompts[0] }], { beamWidth: 8 });
    model.calls = { prefill: 0, step: 0, rows: 0 };
    const r = await warmUp(model, trie, layout, prompts, { searches: 5, batch: 4, beamWidth: 8 });
    expect(r.searches).toBe(6);
    expect(model.calls.prefill).toBe(6); // one prefill per search
    expect(model.calls.step).toBe(6 * (sizes.length - 1));
    expect(await beamSearch(model, trie, layout, [{ prompt: prompts[0] }], { beamWidth: 8 })).toEqual(before);
  });

  it('defaults to DEFAULT_WARMUP_SEARCHES + one batch; does nothing without prompts or when told so', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 4));
    expect((await warmUp(model, trie, layout, prompts)).searches).toBe(DEFAULT_WARMUP_SEARCHES + 1);
    model.calls = { prefill: 0, step: 0, rows: 0 };
    expect((await warmUp(model, trie, layout, [])).searches).toBe(0);
    expect((await warmUp(model, trie, layout, prompts, { searches: 0, batch: 0 })).searches).toBe(0);
    expect(model.calls.prefill).toBe(0);
  });

  it('goes on in rounds while searches still fault, up to maxSearches', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 6));
    // a process that takes 10 page faults per search for its first 21 searches, then none
    const faults = () => Math.min(model.calls.prefill, 21) * 10;
    const r = await warmUp(model, trie, layout, prompts, { searches: 5, batch: 0, maxSearches: 100, faults });
    expect(WARMUP_ROUND).toBe(16);
    expect(r.searches).toBe(5 + 16 + 16); // 5 (10/search) → 16 (10/search) → 16 (0/search): warm
    expect(r.faultsPerSearch).toBe(0);
    // still faulting at the cap: stops there (5 + 15), and says how many faults the last round took
    const hot = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 6));
    const r2 = await warmUp(hot, trie, layout, prompts, { searches: 5, batch: 4, maxSearches: 20, faults: () => hot.calls.prefill * 7 });
    expect([r2.searches, hot.calls.prefill, r2.faultsPerSearch]).toEqual([21, 21, 7]);
    // without maxSearches: exactly `searches`
    const once = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 6));
    expect((await warmUp(once, trie, layout, prompts, { searches: 5, batch: 0, faults: () => once.calls.prefill * 7 })).searches).toBe(5);
  });

  it('counts every beam search of the process (a batch once) and goes on until the process has run processSearches', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 8));
    const c0 = beamSearchesRun();
    await beamSearch(model, trie, layout, [{ prompt: prompts[0] }, { prompt: prompts[1] }], { beamWidth: 4 });
    await beamSearch(model, trie, layout, [], { beamWidth: 4 }); // nothing searched: not counted
    expect(beamSearchesRun()).toBe(c0 + 1);
    const quiet = () => 0; // no page faults: only processSearches can ask for more rounds
    // 5 → 21 → 37 → 53 searches run since c1: the first count ≥ 40
    const c1 = beamSearchesRun();
    const r = await warmUp(model, trie, layout, prompts, { searches: 5, batch: 0, maxSearches: 1000, processSearches: c1 + 40, faults: quiet });
    expect(r.searches).toBe(5 + 3 * WARMUP_ROUND);
    expect(beamSearchesRun()).toBe(c1 + 53);
    // already there: exactly `searches`
    expect((await warmUp(model, trie, layout, prompts, { searches: 5, batch: 0, maxSearches: 1000, processSearches: c1, faults: quiet })).searches).toBe(5);
    // capped by maxSearches (5 + 16 + 9) and by maxMs (0: no extra round at all)
    expect((await warmUp(model, trie, layout, prompts, { searches: 5, batch: 0, maxSearches: 30, processSearches: beamSearchesRun() + 1000, faults: quiet })).searches).toBe(30);
    expect((await warmUp(model, trie, layout, prompts, { searches: 5, batch: 0, maxSearches: 1000, processSearches: beamSearchesRun() + 1000, maxMs: 0, faults: quiet })).searches).toBe(5);
  });

  it('refuses bad counts with a typed error', async () => {
    const model = new TableModel(layout.vocabSize, hashedLogits(layout.vocabSize, 5));
    await expect(warmUp(model, trie, layout, prompts, { searches: -1 })).rejects.toThrow(DecodingInputError);
    await expect(warmUp(model, trie, layout, prompts, { batch: 1.5 })).rejects.toThrow(/warm-up batch must be a non-negative integer/);
    await expect(warmUp(model, trie, layout, prompts, { maxSearches: -2 })).rejects.toThrow(/warm-up maxSearches must be a non-negative integer/);
    await expect(warmUp(model, trie, layout, prompts, { steadyFaults: NaN })).rejects.toThrow(DecodingInputError);
    await expect(warmUp(model, trie, layout, prompts, { processSearches: 2.5 })).rejects.toThrow(/warm-up processSearches must be a non-negative integer/);
    await expect(warmUp(model, trie, layout, prompts, { maxMs: NaN })).rejects.toThrow(/warm-up maxMs must be ≥ 0/);
  });
});
