/**
 * bench/wide-beams — what wide beams cost (issue 28): p50 / p99 of single requests at beam 20,
 * 50, 100 and 200 (k 10), at the Beauty shape (bench/beauty-shape.ts: 4 layers, d_model 128, 4
 * heads; 12,101 items on 4 levels 256/256/256/128; 20-item histories, 81-token prompts), for
 *
 * - the transformer alone (`OnnxStepModel`, tree attention: every beam of a request in one
 *   sequence over one prompt cache) and
 * - the fused model (that transformer and a transition model fitted on seeded random sequences,
 *   weights 0.5 / 0.5: `FusedStepModel`, as `semrec train`'s default architecture serves).
 *
 * Per beam width: p50 / p99 ms, and the cost per beam (p50 ÷ beam) as a ratio to beam 20's in the
 * same run (goal: ≤ 1 at beam 200 — the prompt is shared and the beams batched). Model calls and
 * beam logic are both in the figures. The model is the project's own export of a randomly
 * initialised decoder (latency does not depend on the weights). One JSON line.
 *
 *   node --max-semi-space-size=2 --import tsx bench/wide-beams.ts [--requests 40] [--threads 1]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FusedStepModel, PrefixTrie, TokenLayout, beamSearch, type StepModel } from '../decoding/index.js';
import { Rng } from '../quantizer/core/index.js';
import { OnnxStepModel } from '../src/serving/model/onnx-runner.js';
import { TransitionStepModel, fitTransition } from '../src/serving/model/transition.js';
import { D, HEADS, ITEMS, LAYERS, SIZES, exportModel, loadWarmUp, randomCodes, randomPrompts } from './beauty-shape.js';
import { arg, pct } from './fixture.js';

const requests = Number(arg('requests', '40'));
const threads = Number(arg('threads', '1'));
const BEAMS = [20, 50, 100, 200];

/** p50 / p99 of `requests` single requests at each beam width, and the per-beam cost against beam 20's. */
async function sweep<S>(model: StepModel<S>, trie: PrefixTrie, layout: TokenLayout, prompts: Int32Array[]) {
  const out: Record<string, { p50: number; p99: number; msPerBeam: number; perBeamVsBeam20: number; returned: number }> = {};
  let base = 0;
  for (const beam of BEAMS) {
    // a few searches at this width first: buffers sized for it, pages touched
    for (let i = 0; i < 3; i++) await beamSearch(model, trie, layout, [{ prompt: prompts[i] }], { beamWidth: beam, k: 10 });
    const ms: number[] = [];
    let returned = 0;
    for (let i = 0; i < requests; i++) {
      const t0 = performance.now();
      const [hits] = await beamSearch(model, trie, layout, [{ prompt: prompts[i % prompts.length] }], { beamWidth: beam, k: 10 });
      ms.push(performance.now() - t0);
      returned += hits.length;
    }
    const p50 = pct(ms, 50);
    if (beam === BEAMS[0]) base = p50 / beam;
    out[`beam${beam}`] = { p50, p99: pct(ms, 99), msPerBeam: +(p50 / beam).toFixed(3), perBeamVsBeam20: +(p50 / beam / base).toFixed(3), returned: returned / requests };
  }
  return out;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'semrec-wide-'));
try {
  const t0 = performance.now();
  const layout = new TokenLayout(SIZES);
  const codes = randomCodes();
  const trie = PrefixTrie.build(codes, ITEMS, SIZES);
  const prompts = randomPrompts(layout, codes, Math.max(requests, 8));
  const transformer = await OnnxStepModel.load(exportModel(dir, layout.vocabSize, 'tree'), { vocabSize: layout.vocabSize, layers: LAYERS, heads: HEADS, headDim: D / HEADS }, { threads });
  // the transition model: 22,000 seeded random sequences of 9 items (Beauty's size), its shape 5:3:0.3
  const rng = new Rng(11);
  const seqs = Array.from({ length: 22_000 }, () => Int32Array.from({ length: 9 }, () => rng.int(ITEMS)));
  const transition = new TransitionStepModel(fitTransition(seqs, ITEMS, 2, { window: 5, history: 3, decay: 0.3 }), trie, layout);
  const fused = new FusedStepModel([
    { model: transformer, weight: 0.5 },
    { model: transition, weight: 0.5 },
  ]);
  await loadWarmUp(transformer, trie, layout, prompts);
  const result = {
    bench: 'wide-beams',
    items: ITEMS,
    requests,
    threads,
    cpus: os.cpus().length,
    transformer: await sweep(transformer, trie, layout, prompts),
    fused: await sweep(fused, trie, layout, prompts),
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
  console.log(JSON.stringify(result));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
