/**
 * bench/decode-compare — one request's cost against its references, in the same run, at the
 * Beauty shape (issue 14): 4 layers, d_model 128, 4 heads, ff 512; 12,101 items on 4 levels
 * 256/256/256/128 (vocabulary 900); 20-item histories (81-token prompts); beam 20, k 10.
 *
 * - floor: `../shared/bench/kvbench.mjs` — the model calls of one request alone (prefill, 1 step
 *   at batch 1, the prompt cache copied to 20 rows, 3 steps at batch 20), no beam logic;
 * - semrec: `beamSearch` over `OnnxStepModel` and the prefix trie, end to end, with tree attention
 *   (the default export: all beams of a request in one sequence over one prompt cache) and with
 *   the per-beam KV cache (`--mask causal` export, the Hugging Face convention) as the before;
 *   and the tree path once more with the KV pool off (`treePoolBytes: 0`: every request's cache
 *   allocated afresh), single requests only;
 * - peer: `../shared/bench/torch_beam.py` — PyTorch eager + a Python dict trie (TIGER/LETTER style);
 *
 * each at 1 and 2 intra-op threads, each thread count in its own fresh node process (p50/p90/p99 ms
 * of single requests), then semrec's throughput
 * at concurrency 1/16/64: concurrent requests over one session, one request per beam search
 * (`reqPerSec`), and the same requests batched 16 / 64 per beam search (`batchedReqPerSec`, what
 * the Recommender does with concurrent requests). The model is
 * the project's own export of a randomly initialised decoder (latency does not depend on the
 * weights). Prints one JSON line, with ratios semrec / floor and semrec / peer.
 *
 *   npx tsx bench/decode-compare.ts [--requests 300] [--shared ../shared]
 */
import { execFileSync } from 'node:child_process';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PrefixTrie, TokenLayout, beamSearch, type StepModel } from '../decoding/index.js';
import { OnnxStepModel } from '../src/serving/model/onnx-runner.js';
import { pythonPath } from '../src/training/python.js';
import { arg, pct } from './fixture.js';
import { semiSpaceMb } from '../src/util/runtime.js';
import { D, HEADS, ITEMS, LAYERS, SIZES, exportModel, loadWarmUp, randomCodes, randomPrompts } from './beauty-shape.js';

const requests = Number(arg('requests', '300'));
const shared = path.resolve(arg('shared', path.join(process.cwd(), '..', 'shared')), 'bench');

/** A StepModel that adds the wall time of every model call (prefill, step: graph run + input building) to `acc.ms`. */
function timedModel<S>(model: StepModel<S>, acc: { ms: number }): StepModel<S> {
  const time = async <T>(f: () => Promise<T>) => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      acc.ms += performance.now() - t0;
    }
  };
  return { vocabSize: model.vocabSize, prefill: (p) => time(() => model.prefill(p)), step: (st, t) => time(() => model.step(st, t)), reorder: (st, i) => model.reorder(st, i), release: (st) => model.release?.(st) };
}

/** semrec's single requests, then (unless `singleOnly`) its throughput; `poolBytes` 0: every request allocates its tree cache afresh (the before of the KV pool). */
async function semrec(modelFile: string, threads: number, trie: PrefixTrie, layout: TokenLayout, prompts: Int32Array[], opts: { poolBytes?: number; singleOnly?: boolean } = {}) {
  const model = await OnnxStepModel.load(modelFile, { vocabSize: layout.vocabSize, layers: LAYERS, heads: HEADS, headDim: D / HEADS }, { threads, treePoolBytes: opts.poolBytes });
  const tree = model.tree;
  const one = (p: Int32Array) => beamSearch(model, trie, layout, [{ prompt: p }], { beamWidth: 20, k: 10 });
  // the warm-up of a serving process's first load (bench/beauty-shape.ts loadWarmUp)
  await loadWarmUp(model, trie, layout, prompts);
  // single requests, with where each one's time went: model calls, and GC pauses (node's gc entries)
  const acc = { ms: 0 };
  const timed = timedModel(model, acc);
  let gcMs = 0;
  let majorGcs = 0; // full (mark-compact) GCs: the ones the young-generation setting keeps away
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorGcs++;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const ts: number[] = [];
  const modelTs: number[] = [];
  const gcTs: number[] = [];
  const faults: number[] = []; // minor page faults during the request (memory the process had to map)
  for (const p of prompts) {
    acc.ms = 0;
    const gc0 = gcMs;
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    await beamSearch(timed, trie, layout, [{ prompt: p }], { beamWidth: 20, k: 10 });
    ts.push(performance.now() - t0);
    faults.push(process.resourceUsage().minorPageFault - f0);
    modelTs.push(acc.ms);
    await new Promise((r) => setImmediate(r)); // let the gc observer report this request's pauses
    gcTs.push(gcMs - gc0);
  }
  gc.disconnect();
  // the slowest 1 % of requests: how much of their time was model calls and GC
  const order = ts.map((_, i) => i).sort((a, b) => ts[b] - ts[a]).slice(0, Math.max(1, Math.round(ts.length / 100)));
  const mean = (xs: number[]) => +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(2);
  const tail = { ms: mean(order.map((i) => ts[i])), modelMs: mean(order.map((i) => modelTs[i])), gcMs: mean(order.map((i) => gcTs[i])), pageFaults: mean(order.map((i) => faults[i])) };
  const calls = { p50: pct(modelTs, 50), p90: pct(modelTs, 90), p99: pct(modelTs, 99) };
  const single = { tree, p50: pct(ts, 50), p90: pct(ts, 90), p99: pct(ts, 99), calls, tail, gcMsTotal: +gcMs.toFixed(1), majorGcs, pageFaultsPerRequest: mean(faults) };
  if (opts.singleOnly) {
    await model.close();
    return { ...single, reqPerSec: {}, batchedReqPerSec: {}, batchedModelShare: {} };
  }
  const throughput: Record<string, number> = {};
  for (const c of [1, 16, 64]) {
    const n = Math.max(c, prompts.length);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: c }, async () => {
      while (next < n) await one(prompts[next++ % prompts.length]);
    }));
    throughput[`c${c}`] = +(n / ((performance.now() - t0) / 1000)).toFixed(1);
  }
  // batched searches; the share of their wall time spent in model calls is the throughput they
  // reach relative to the model calls alone at the same batch
  const batched: Record<string, number> = {};
  const modelShare: Record<string, number> = {};
  for (const c of [16, 64]) {
    const n = Math.max(c, prompts.length);
    acc.ms = 0;
    const t0 = performance.now();
    for (let s = 0; s < n; s += c) await beamSearch(timed, trie, layout, Array.from({ length: Math.min(c, n - s) }, (_, i) => ({ prompt: prompts[(s + i) % prompts.length] })), { beamWidth: 20, k: 10 });
    const wall = performance.now() - t0;
    batched[`c${c}`] = +(n / (wall / 1000)).toFixed(1);
    modelShare[`c${c}`] = +(acc.ms / wall).toFixed(3);
  }
  await model.close();
  return { ...single, reqPerSec: throughput, batchedReqPerSec: batched, batchedModelShare: modelShare };
}

function floor(modelFile: string, threads: number, work: string): { p50: number; p90: number } {
  // kvbench imports onnxruntime-node: run a copy from inside the project so that it resolves
  const script = path.join(work, 'kvbench.mjs');
  const r = JSON.parse(execFileSync(process.execPath, [script, String(threads), modelFile], { encoding: 'utf8' }).trim().split('\n').pop()!);
  return { p50: +r.p50_ms, p90: +r.p90_ms };
}

function peer(threads: number): { p50: number; p90: number } {
  const out = execFileSync(pythonPath(), [path.join(shared, 'torch_beam.py'), String(threads), String(ITEMS), '20', String(Math.min(requests, 50))], { encoding: 'utf8' });
  const r = JSON.parse(out.trim().split('\n').pop()!.replace(/'/g, '"'));
  return { p50: r.p50_ms, p90: r.p90_ms };
}

/**
 * One thread count's comparison (a fresh node process per thread count, as a service starts —
 * not a second model in a process that has run the other: a new onnxruntime thread pool there
 * grows its own memory during the measured requests).
 */
async function compareAt(threads: number, files: { tree: string; causal: string }, work: string): Promise<Record<string, unknown>> {
  const layout = new TokenLayout(SIZES);
  const codes = randomCodes();
  const trie = PrefixTrie.build(codes, ITEMS, SIZES);
  const prompts = randomPrompts(layout, codes, requests);
  const f = floor(files.causal, threads, work);
  const s = await semrec(files.tree, threads, trie, layout, prompts);
  const noPool = await semrec(files.tree, threads, trie, layout, prompts, { poolBytes: 0, singleOnly: true });
  const before = await semrec(files.causal, threads, trie, layout, prompts);
  const p = peer(threads);
  if (!s.tree || before.tree) throw new Error('the exports did not give one tree and one per-beam graph');
  return {
    floorMs: f,
    semrecMs: { p50: s.p50, p90: s.p90, p99: s.p99 },
    // the same requests' model calls alone (graph runs + input building, timed inside them),
    // the slowest 1 %: their mean time, model-call time, GC pauses and page faults; GC over all requests
    semrecModelCallsMs: s.calls,
    semrecSlowest1pct: s.tail,
    semrecGcMsTotal: s.gcMsTotal,
    semrecMajorGcs: s.majorGcs,
    semrecPageFaultsPerRequest: s.pageFaultsPerRequest,
    // the same tree path with every request's cache allocated afresh (no KV pool)
    noPoolMs: { p50: noPool.p50, p90: noPool.p90, p99: noPool.p99 },
    noPoolPageFaultsPerRequest: noPool.pageFaultsPerRequest,
    noPoolSlowest1pct: noPool.tail,
    perBeamCacheMs: { p50: before.p50, p90: before.p90, p99: before.p99 },
    peerMs: p,
    semrecReqPerSec: s.reqPerSec,
    semrecBatchedReqPerSec: s.batchedReqPerSec,
    // batched searches: wall-time share in model calls = throughput ÷ the model calls' own at that batch
    semrecBatchedModelShare: s.batchedModelShare,
    perBeamCacheReqPerSec: before.reqPerSec,
    perBeamCacheBatchedReqPerSec: before.batchedReqPerSec,
    floorReqPerSecSingle: +(1000 / f.p50).toFixed(1),
    ratios: {
      semrecOverFloorP50: +(s.p50 / f.p50).toFixed(2),
      semrecOverPeerP50: +(s.p50 / p.p50).toFixed(2),
      semrecP99OverP50: +(s.p99 / s.p50).toFixed(2),
      noPoolP99OverP50: +(noPool.p99 / noPool.p50).toFixed(2),
      modelCallsP99OverP50: +(s.calls.p99 / s.calls.p50).toFixed(2),
      // the tail of the model calls alone (kvbench reports p50 / p90 of 50 requests)
      semrecP90OverP50: +(s.p90 / s.p50).toFixed(2),
      floorP90OverP50: +(f.p90 / f.p50).toFixed(2),
      semrecOverPerBeamCacheP50: +(s.p50 / before.p50).toFixed(2),
      batched64OverSingleThroughput: +(s.batchedReqPerSec.c64 / s.reqPerSec.c1).toFixed(2),
    },
  };
}

if (!existsSync(path.join(shared, 'kvbench.mjs'))) throw new Error(`no references at ${shared} (pass --shared DIR)`);
const work = path.join(process.cwd(), 'node_modules', '.cache', 'semrec-decode-compare');
if (arg('child-threads', '')) {
  const files = { tree: arg('tree-file', ''), causal: arg('causal-file', '') };
  console.log(JSON.stringify(await compareAt(Number(arg('child-threads', '')), files, work)));
} else {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'semrec-decode-compare-'));
  mkdirSync(work, { recursive: true });
  copyFileSync(path.join(shared, 'kvbench.mjs'), path.join(work, 'kvbench.mjs'));
  try {
    const layout = new TokenLayout(SIZES);
    const causal = exportModel(tmp, layout.vocabSize, 'causal'); // the floor's and the before's graph
    const tree = exportModel(tmp, layout.vocabSize, 'tree'); // same weights, 3-D mask
    // the node runtime semrec ran in (npm run bench:decode-compare starts it as the `semrec` command does; the children inherit it)
    const result: Record<string, unknown> = { bench: 'decode-compare', items: ITEMS, sizes: SIZES, promptTokens: randomPrompts(layout, randomCodes(), 1)[0].length, beam: 20, requests, v8SemiSpaceMb: semiSpaceMb() ?? 'default', processPerThreadCount: true };
    for (const threads of [1, 2]) {
      const args = [...process.execArgv, process.argv[1], '--child-threads', String(threads), '--tree-file', tree, '--causal-file', causal, '--requests', String(requests), '--shared', path.dirname(shared)];
      const out = execFileSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
      result[`threads${threads}`] = JSON.parse(out.trim().split('\n').pop()!);
    }
    console.log(JSON.stringify(result));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
