/**
 * bench/quantizer — RQ-KMeans 3×256 build vs faiss's own residual quantiser (RQ3x8, trained
 * through faiss-node) on the same seeded Gaussian-mixture embeddings (default 1,000,000 × 128).
 * Each side runs in its own child process so that peak memory (max RSS) is its own.
 * Prints one JSON line: times, ratio ours/faiss, peak memory, collisions, utilisation.
 *
 *   npx tsx bench/quantizer.ts [--n 1000000] [--d 128] [--levels 3] [--k 256] [--seed 1]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { trainRQ, collisionReport, levelStats, faissTakesTypedArrays } from '../quantizer/index.js';
import { Rng } from '../quantizer/core/index.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const n = opt('n', 1_000_000);
const d = opt('d', 128);
const levels = opt('levels', 3);
const k = opt('k', 256);
const seed = opt('seed', 1);
const mode = args.includes('--child') ? args[args.indexOf('--child') + 1] : undefined;

/** Gaussian mixture at three scales: 1024 centres, 8 sub-centres each, isotropic noise. */
function makeData(): Float32Array {
  const rng = new Rng(seed);
  const C = 1024;
  const centres = new Float32Array(C * d);
  for (let i = 0; i < centres.length; i++) centres[i] = rng.normal();
  const sub = new Float32Array(C * 8 * d);
  for (let i = 0; i < sub.length; i++) sub[i] = 0.5 * rng.normal();
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = rng.int(C);
    const s = c * 8 + rng.int(8);
    for (let j = 0; j < d; j++) x[i * d + j] = centres[c * d + j] + sub[s * d + j] + 0.5 * rng.normal();
  }
  return x;
}

if (mode) {
  const x = makeData();
  const t0 = performance.now();
  let extra: Record<string, unknown> = {};
  if (mode === 'ours') {
    const rq = trainRQ(x, n, d, { sizes: Array(levels).fill(k), seed, iterations: 20 });
    const rep = collisionReport(rq.codes, n, levels);
    const st = levelStats(rq.codes, n, Array(levels).fill(k));
    extra = {
      collisions: rep.collisions,
      maxGroup: rep.maxGroup,
      utilisation: st.map((s) => +s.utilisation.toFixed(4)),
      normalisedEntropy: st.map((s) => +s.normalisedEntropy.toFixed(4)),
      mse: rq.mse.map((v) => +v.toFixed(3)),
      typedArrayInput: faissTakesTypedArrays(),
    };
  } else {
    const faiss = createRequire(import.meta.url)('faiss-node');
    const bits = Math.log2(k);
    const index = faiss.Index.fromFactory(d, `RQ${levels}x${bits}`);
    index.train(faissTakesTypedArrays() ? x : Array.from(x));
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify({ seconds, maxRssMB: process.resourceUsage().maxRSS / 1024, ...extra }) + '\n');
  process.exit(0);
}

const self = fileURLToPath(import.meta.url);
function child(which: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, ...args, '--child', which], { encoding: 'utf8', maxBuffer: 1 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${which} failed with status ${r.status}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}
// baseline: the data generation alone (its memory is in both figures)
const ours = child('ours');
const ref = child('faiss');
console.log(
  JSON.stringify({
    bench: 'quantizer',
    n,
    d,
    scheme: `rqkmeans:${levels}x${k}`,
    faissFactory: `RQ${levels}x${Math.log2(k)}`,
    oursSeconds: +(ours.seconds as number).toFixed(2),
    faissSeconds: +(ref.seconds as number).toFixed(2),
    ratio: +((ours.seconds as number) / (ref.seconds as number)).toFixed(3),
    oursPeakMB: Math.round(ours.maxRssMB as number),
    faissPeakMB: Math.round(ref.maxRssMB as number),
    collisions: ours.collisions,
    maxGroup: ours.maxGroup,
    utilisation: ours.utilisation,
    normalisedEntropy: ours.normalisedEntropy,
    mse: ours.mse,
    typedArrayInput: ours.typedArrayInput,
  }),
);
