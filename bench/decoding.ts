/**
 * bench/decoding — prefix-trie build time and bytes/item at 1M and 10M items, and beam-search
 * overhead per request excluding the model (a fake StepModel that returns a precomputed
 * log-probability buffer) at beam 20/50 with 3 and 4 levels; then end to end through the
 * Recommender with the onnxruntime transformer runner (default sizes: 4 layers, d_model 128,
 * trained briefly on the synthetic data — latency does not depend on how well it is trained) and,
 * as the same-run reference, the transition model: p50/p99 latency of single requests and
 * throughput of 16 concurrent requests, beam 20. Prints one JSON line.
 *
 *   npx tsx bench/decoding.ts [--sizes 1000000,10000000] [--requests 256] [--e2e-requests 64]
 */
import { PrefixTrie, TokenLayout, beamSearch, type StepModel, type StepOutput } from '../decoding/index.js';
import { Rng } from '../quantizer/core/index.js';
import { endToEnd } from './e2e.js';
import { arg } from './fixture.js';

const sizesN = arg('sizes', '1000000,10000000').split(',').map(Number);
const requests = Number(arg('requests', '256'));

/** n distinct tuples, scattered: digits of (i·P mod N) in the mixed radix `sizes`. */
function codesFor(n: number, sizes: number[]): Uint16Array {
  const L = sizes.length;
  const N = sizes.reduce((a, b) => a * b, 1);
  if (n > N) throw new Error('too many items for the tuple space');
  const P = 2654435761 % N | 1;
  const out = new Uint16Array(n * L);
  for (let i = 0; i < n; i++) {
    let m = Number((BigInt(i) * BigInt(P)) % BigInt(N));
    for (let l = L - 1; l >= 0; l--) {
      out[i * L + l] = m % sizes[l];
      m = Math.floor(m / sizes[l]);
    }
  }
  return out;
}

/** A model with no cost: every call returns views of one random log-probability buffer. */
class FakeModel implements StepModel<number> {
  private buf: Float32Array;
  constructor(readonly vocabSize: number, maxRows: number) {
    const r = new Rng(1);
    this.buf = Float32Array.from({ length: vocabSize * maxRows }, () => -5 * r.next());
  }
  private out(rows: number): StepOutput<number> {
    return { state: rows, logprobs: this.buf.subarray(0, rows * this.vocabSize) };
  }
  async prefill(prompts: readonly Int32Array[]) {
    return this.out(prompts.length);
  }
  async step(state: number, tokens: Int32Array) {
    return this.out(tokens.length);
  }
  reorder(_s: number, index: Int32Array) {
    return index.length;
  }
}

const result: Record<string, unknown> = { bench: 'decoding' };
const trieSizes = [256, 256, 256, 16];
for (const n of sizesN) {
  const codes = codesFor(n, trieSizes);
  const t0 = performance.now();
  const trie = PrefixTrie.build(codes, n, trieSizes);
  const ms = performance.now() - t0;
  result[`trieBuild_${n}`] = { seconds: +(ms / 1000).toFixed(3), bytesPerItem: +(trie.bytes / n).toFixed(2), nodes: trie.numNodes };
}

for (const sizes of [
  [256, 256, 256],
  [256, 256, 256, 16],
]) {
  const n = 200_000;
  const trie = PrefixTrie.build(codesFor(n, sizes), n, sizes);
  const layout = new TokenLayout(sizes);
  for (const beam of [20, 50]) {
    const model = new FakeModel(layout.vocabSize, requests * beam);
    const reqs = Array.from({ length: requests }, (_, i) => ({ prompt: new Int32Array([1, i]) }));
    await beamSearch(model, trie, layout, reqs.slice(0, 8), { beamWidth: beam }); // warm-up
    const t0 = performance.now();
    await beamSearch(model, trie, layout, reqs, { beamWidth: beam });
    const msPerRequest = (performance.now() - t0) / requests;
    result[`beamOverhead_L${sizes.length}_beam${beam}`] = { msPerRequest: +msPerRequest.toFixed(3), items: n, requests };
  }
}
result.endToEnd = await endToEnd(Number(arg('e2e-requests', '64')));
console.log(JSON.stringify(result));
