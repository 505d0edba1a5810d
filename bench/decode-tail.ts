/**
 * bench/decode-tail — where a single request's latency tail comes from (issue 14), at the Beauty
 * shape (bench/beauty-shape.ts; 20-item histories, beam 20, k 10), in one process:
 *
 * - the warm-up `Recommender.load` runs (32 searches, more while they still page-fault);
 * - `--requests` single-request searches in windows of 100: minor page faults per request and
 *   p99 / p50 of each window (a process keeps growing for a while after its warm-up);
 * - GC over the whole run by kind (V8's scavenge, mark-compact, incremental marking, weak
 *   callbacks) and what the slowest 1 % of requests carried (page faults, GC pauses);
 * - the machine's own references in the same run: what one minor page fault costs (touching a
 *   fresh 64 MB buffer page by page), and p99 / p50 of a fixed arithmetic loop of about the
 *   median request's length (no allocation, no onnxruntime).
 *
 * All of it twice, each in a fresh node process, the same run: with V8's default young generation
 * and with the `semrec` command's (`--max-semi-space-size=2`, src/util/runtime.ts), alternating
 * `--pairs` times — the A/B behind that setting. Prints one JSON line.
 *
 *   npx tsx bench/decode-tail.ts [--requests 1000] [--threads 1] [--pairs 1] [--session-config name=value,...]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { PrefixTrie, TokenLayout, beamSearch } from '../decoding/index.js';
import { OnnxStepModel } from '../src/serving/model/onnx-runner.js';
import { D, HEADS, ITEMS, LAYERS, SIZES, exportModel, loadWarmUp, randomCodes, randomPrompts } from './beauty-shape.js';
import { arg, pct } from './fixture.js';
import { SEMI_SPACE_FLAG, isSemiSpaceArg } from '../src/util/runtime.js';

const requests = Number(arg('requests', '1000'));
const threads = Number(arg('threads', '1'));
/** onnxruntime session config entries, `name=value,name=value` (e.g. session.force_spinning_stop=1). */
const sessionConfigArg = arg('session-config', '');
const sessionConfig = Object.fromEntries(sessionConfigArg.split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
const WINDOW = 100;
const faultsNow = () => process.resourceUsage().minorPageFault;
const r2 = (x: number) => +x.toFixed(2);

/** µs per minor page fault: write one byte per 4 KB page of a fresh 64 MB buffer. */
function faultCost(): number {
  const buf = new Uint8Array(64 << 20);
  const f0 = faultsNow();
  const t0 = performance.now();
  for (let i = 0; i < buf.length; i += 4096) buf[i] = 1;
  const ms = performance.now() - t0;
  return r2((ms * 1000) / Math.max(1, faultsNow() - f0));
}

/** p99 / p50 of a fixed arithmetic loop lasting about `ms` (matrix-vector products over 1 MB, no allocation). */
async function loopJitter(ms: number): Promise<{ p50: number; r99: number }> {
  const n = 512;
  const A = Float32Array.from({ length: n * n }, (_, i) => Math.sin(i));
  const x = new Float32Array(n).fill(1);
  const y = new Float32Array(n);
  const work = (reps: number) => {
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += A[i * n + j] * x[j];
        y[i] = s * 1e-3;
      }
    }
  };
  work(50); // compiled before it is timed
  let reps = 1;
  for (;;) {
    const t0 = performance.now();
    work(reps);
    if (performance.now() - t0 >= ms) break;
    reps++;
  }
  const ts: number[] = [];
  for (let k = 0; k < 400; k++) {
    const t0 = performance.now();
    work(reps);
    ts.push(performance.now() - t0);
    await new Promise((r) => setImmediate(r));
  }
  return { p50: pct(ts, 50), r99: r2(pct(ts, 99) / pct(ts, 50)) };
}

const GC_KINDS: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge', [constants.NODE_PERFORMANCE_GC_MAJOR]: 'markCompact', [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incrementalMarking', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakCallbacks' };

/** One measurement in this process (the child's part), over the exported model at `modelFile`. */
async function measure(modelFile: string): Promise<Record<string, unknown>> {
  const layout = new TokenLayout(SIZES);
  const codes = randomCodes();
  const trie = PrefixTrie.build(codes, ITEMS, SIZES);
  const model = await OnnxStepModel.load(modelFile, { vocabSize: layout.vocabSize, layers: LAYERS, heads: HEADS, headDim: D / HEADS }, { threads, sessionConfig });
  const prompts = randomPrompts(layout, codes, requests);
  const warm = await loadWarmUp(model, trie, layout, prompts);

  const gcs: { start: number; ms: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration, kind: ((e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0) });
  });
  obs.observe({ entryTypes: ['gc'] });
  const reqs: { start: number; ms: number; faults: number }[] = [];
  for (const p of prompts) {
    const f0 = faultsNow();
    const start = performance.now();
    await beamSearch(model, trie, layout, [{ prompt: p }], { beamWidth: 20, k: 10 });
    reqs.push({ start, ms: performance.now() - start, faults: faultsNow() - f0 });
  }
  await new Promise((r) => setTimeout(r, 20)); // let the observer report the last pauses
  obs.disconnect();
  await model.close();

  const windows = [];
  for (let w = 0; w < reqs.length; w += WINDOW) {
    const part = reqs.slice(w, w + WINDOW);
    const ts = part.map((r) => r.ms);
    windows.push({ faultsPerRequest: r2(part.reduce((a, r) => a + r.faults, 0) / part.length), p50: pct(ts, 50), p99OverP50: r2(pct(ts, 99) / pct(ts, 50)) });
  }
  const all = reqs.map((r) => r.ms);
  const gcIn = (r: (typeof reqs)[number]) => gcs.filter((g) => g.start >= r.start && g.start <= r.start + r.ms).reduce((a, g) => a + g.ms, 0);
  const slowest = [...reqs].sort((a, b) => b.ms - a.ms).slice(0, Math.max(1, Math.round(reqs.length / 100)));
  const mean = (xs: number[]) => r2(xs.reduce((a, b) => a + b, 0) / xs.length);
  const gcByKind: Record<string, { count: number; ms: number; maxMs: number }> = {};
  for (const g of gcs) {
    const k = (gcByKind[GC_KINDS[g.kind] ?? `kind${g.kind}`] ??= { count: 0, ms: 0, maxMs: 0 });
    k.count++;
    k.ms = r2(k.ms + g.ms);
    k.maxMs = r2(Math.max(k.maxMs, g.ms));
  }
  const p50 = pct(all, 50);
  const loop = await loopJitter(p50);
  return {
    warmUp: { searches: warm.searches, ms: r2(warm.ms), lastRoundFaultsPerSearch: warm.faultsPerSearch },
    ms: { p50, p90: pct(all, 90), p99: pct(all, 99) },
    p99OverP50: r2(pct(all, 99) / p50),
    windows,
    gcByKind,
    slowest1pct: { ms: mean(slowest.map((r) => r.ms)), pageFaults: mean(slowest.map((r) => r.faults)), gcMs: mean(slowest.map(gcIn)) },
    reference: { microsPerPageFault: faultCost(), fixedLoopMs: loop.p50, fixedLoopP99OverP50: loop.r99 },
  };
}

const RUNTIMES = { default: [] as string[], semiSpace2: [SEMI_SPACE_FLAG] };
type Runtime = keyof typeof RUNTIMES;

if (arg('child', '')) {
  console.log(JSON.stringify(await measure(arg('child', ''))));
} else {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'semrec-decode-tail-'));
  try {
    const modelFile = exportModel(tmp, new TokenLayout(SIZES).vocabSize, 'tree');
    // the children run this file the way this process runs it (tsx's loader flags), minus any young-generation flag of ours
    const base = process.execArgv.filter((a) => !isSemiSpaceArg(a));
    const runs: Record<Runtime, Record<string, unknown>[]> = { default: [], semiSpace2: [] };
    for (let pair = 0; pair < Number(arg('pairs', '1')); pair++) {
      for (const rt of Object.keys(RUNTIMES) as Runtime[]) {
        const out = execFileSync(process.execPath, [...base, ...RUNTIMES[rt], process.argv[1], '--child', modelFile, '--requests', String(requests), '--threads', String(threads), '--session-config', sessionConfigArg], { encoding: 'utf8', maxBuffer: 1 << 24 });
        runs[rt].push(JSON.parse(out.trim().split('\n').pop()!) as Record<string, unknown>);
      }
    }
    const per = (rt: Runtime, f: (r: Record<string, unknown>) => number) => runs[rt].map(f);
    const ratio = (r: Record<string, unknown>) => r.p99OverP50 as number;
    const majors = (r: Record<string, unknown>) => r2((((r.gcByKind as Record<string, { count: number }>).markCompact?.count ?? 0) * 1000) / requests);
    console.log(JSON.stringify({
      bench: 'decode-tail',
      threads,
      requests,
      sessionConfig,
      runtimes: Object.fromEntries(Object.entries(RUNTIMES).map(([k, v]) => [k, v.join(' ') || "node's defaults"])),
      p99OverP50: { default: per('default', ratio), semiSpace2: per('semiSpace2', ratio) },
      majorGcsPer1000Requests: { default: per('default', majors), semiSpace2: per('semiSpace2', majors) },
      runs,
    }));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
