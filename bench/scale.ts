/**
 * bench/scale — the whole pipeline at growing catalogue sizes, one JSON line per size (issue 28).
 *
 * Per size N (items; users 2N, seed 1), each step a fresh process of the CLI (`node -r
 * bench/rss-on-exit.cjs --import tsx src/cli.ts ...`) so that its wall time and peak RSS are its own:
 *
 * 1. `data synth --items N --users 2N` (k-core 5, leave-one-out split);
 * 2. `index build --embed text+cf --scheme rqkmeans:3x256` (TF-IDF + SVD and co-occurrence PPMI +
 *    SVD, RQ-KMeans, collisions resolved);
 * 3. `train` — the same model shape at every size (the default transformer recipe, stopped after
 *    `--max-steps` optimiser steps: latency and memory do not depend on how well it is trained),
 *    fused with the transition model of a fixed shape 5:3:0.3 at weight 0.5 (no choices on
 *    validation, which would decode thousands of users per size), history items excluded;
 * 4. serving (bench/scale-serve.ts): trie build, `Recommender.load`, model and serving RSS,
 *    decode p50 / p99 of single requests at beam 20 on a seeded sample of test users;
 * 5. `index add` of N/10 new items (copies of seeded random items' text under new ids);
 * 6. `index remove` of N/100 seeded random items (from the grown index);
 * 7. `eval` of the model on a seeded sample of 2,000 test users (beam 20).
 *
 * Every step runs with `--max-old-space-size` at 80 % of the machine's memory: at a million items
 * the dataset alone passes node's default heap limit (≈ 4 GB). `--reuse-data` keeps an existing
 * synthetic dataset of the size (with `--keep DIR`), so a long run can be resumed past synth;
 * `--reuse` also keeps its index and model (their steps then report null).
 *
 * The transition model's size on disk (transition.bin) is reported with the model; train's peak RSS is
 * the node process's (the PyTorch trainer is a child process of its own). Goals (issue 28): decode p50
 * at the largest size ≤ 1.2× at the smallest (the `decodeP50VsSmallest` field), serving RSS ≤ 4
 * GB, index build ≤ 3 minutes at 1M items.
 *
 *   npm run bench:scale                         # 12k and 100k items
 *   npm run bench:scale -- --sizes 12000,100000,1000000 [--max-steps 20] [--requests 200] [--keep DIR [--reuse-data]]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../quantizer/core/index.js';
import { readLines } from '../src/util/io.js';
import { arg } from './fixture.js';

const sizes = arg('sizes', '12000,100000').split(',').map(Number);
const maxSteps = arg('max-steps', '20');
const requests = arg('requests', '200');
const keep = arg('keep', '');
const reuseAll = process.argv.includes('--reuse');
const reuseData = reuseAll || process.argv.includes('--reuse-data');
const heapMb = Math.floor((0.8 * os.totalmem()) / 2 ** 20);
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');

/** Run one step in a fresh node process: its wall seconds, peak RSS (MB) and stdout. */
function step(args: string[]): { seconds: number; peakRssMb: number; out: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMb}`, '-r', path.join(here, 'rss-on-exit.cjs'), '--import', 'tsx', ...args], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`bench/scale: ${args.join(' ')} failed (${r.status}):\n${r.stderr.slice(-3000)}`);
  const m = /SEMREC_MAXRSS_KB (\d+)/.exec(r.stderr);
  return { seconds: +seconds.toFixed(1), peakRssMb: m ? Math.round(Number(m[1]) / 1024) : -1, out: r.stdout };
}

const cli = (...a: string[]) => step(['src/cli.ts', ...a]);
const lastJson = (s: string) => JSON.parse(s.trim().split('\n').filter((l) => l.startsWith('{')).pop()!);
const dirBytes = (d: string): number => readdirSync(d, { withFileTypes: true }).reduce((a, e) => a + (e.isDirectory() ? dirBytes(path.join(d, e.name)) : statSync(path.join(d, e.name)).size), 0);

const root = keep ? path.resolve(keep) : mkdtempSync(path.join(os.tmpdir(), 'semrec-scale-'));
mkdirSync(root, { recursive: true });
let smallestP50 = 0;
try {
  for (const n of sizes) {
    const at = (x: string) => path.join(root, `${x}-${n}`);
    const reuse = reuseData && existsSync(path.join(at('data'), 'dataset.json'));
    if (!reuse) rmSync(at('data'), { recursive: true, force: true });
    const synth = reuse ? { seconds: null, peakRssMb: null, out: '' } : cli('data', 'synth', '--out', at('data'), '--items', String(n), '--users', String(2 * n), '--seed', '1', '--json');
    const counts = reuse ? (JSON.parse(readFileSync(path.join(at('data'), 'dataset.json'), 'utf8')) as { counts: Record<string, number> }).counts : lastJson(synth.out);
    // --reuse: an index and model kept from an earlier run are used as they are (their steps report null)
    const kept = (dir: string) => reuseAll && existsSync(path.join(dir, 'MANIFEST.json'));
    const build = kept(at('index')) ? { seconds: null, peakRssMb: null, out: cli('index', 'stats', at('index')).out } : cli('index', 'build', '--items', at('data'), '--embed', 'text+cf', '--scheme', 'rqkmeans:3x256', '--out', at('index'), '--force');
    const built = build.seconds === null ? JSON.parse(build.out) : lastJson(build.out);
    const train = kept(at('model')) ? { seconds: null, peakRssMb: null, out: '' } : cli('train', '--data', at('data'), '--index', at('index'), '--out', at('model'), '--force', '--epochs', '1', '--max-steps', maxSteps, '--transition-shape', '5:3:0.3', '--fusion-grid', '0.5', '--fusion-users', '50', '--seen', 'exclude');
    const modelFiles = readdirSync(at('model'), { recursive: true }) as string[];
    const transitionFile = modelFiles.find((f) => path.basename(f) === 'transition.bin'); // the transition model's counts
    const serve = step(['bench/scale-serve.ts', '--model', at('model'), '--index', at('index'), '--data', at('data'), '--requests', requests]);
    const served = lastJson(serve.out);
    // index add: N/10 new items, the text of seeded random items under new ids
    // read line by line: a million items' file is past V8's 512 MB string limit
    const items: string[] = [];
    for await (const [, line] of readLines(path.join(at('data'), 'items.jsonl'))) if (line) items.push(line);
    const rng = new Rng(17);
    const fresh = Array.from({ length: Math.round(n / 10) }, (_, i) => JSON.stringify({ ...JSON.parse(items[rng.int(items.length)]), id: `NEW${i + 1}` }));
    writeFileSync(at('new-items.jsonl'), fresh.join('\n') + '\n');
    const add = cli('index', 'add', '--index', at('index'), '--items', at('new-items.jsonl'), '--out', at('index-added'), '--force');
    // index remove: N/100 seeded random items of the grown index
    const ids = items.map((l) => (JSON.parse(l) as { id: string }).id);
    const gone = new Set<string>();
    while (gone.size < Math.round(n / 100)) gone.add(ids[rng.int(ids.length)]);
    writeFileSync(at('remove-ids.txt'), [...gone].join('\n') + '\n');
    const remove = cli('index', 'remove', '--index', at('index-added'), '--ids-file', at('remove-ids.txt'), '--out', at('index-removed'), '--force');
    const evaluated = cli('eval', '--model', at('model'), '--data', at('data'), '--limit', '2000', '--json');
    const ev = lastJson(evaluated.out) as { model: { recall: Record<string, number>; ndcg: Record<string, number> }; invalidRate: number; users: number };
    if (!smallestP50) smallestP50 = served.decodeP50Ms;
    console.log(
      JSON.stringify({
        bench: 'scale',
        items: built.items,
        users: counts.users,
        interactions: counts.interactions,
        cpus: os.cpus().length,
        synth: { seconds: synth.seconds, peakRssMb: synth.peakRssMb },
        indexBuild: { seconds: build.seconds, peakRssMb: build.peakRssMb, indexBytes: dirBytes(at('index')), collisionsResolved: built.collisionsResolved },
        train: { seconds: train.seconds, peakRssMb: train.peakRssMb, maxSteps: Number(maxSteps), modelBytes: dirBytes(at('model')), transitionBytes: transitionFile ? statSync(path.join(at('model'), transitionFile)).size : null },
        serve: { ...served, peakRssMb: serve.peakRssMb },
        decodeP50VsSmallest: +(served.decodeP50Ms / smallestP50).toFixed(3),
        indexAdd: { items: fresh.length, seconds: add.seconds, peakRssMb: add.peakRssMb },
        indexRemove: { items: gone.size, seconds: remove.seconds, peakRssMb: remove.peakRssMb },
        eval: { users: ev.users, recall10: ev.model.recall[10], ndcg10: ev.model.ndcg[10], invalidRate: ev.invalidRate, seconds: evaluated.seconds, peakRssMb: evaluated.peakRssMb },
      }),
    );
    if (!keep) for (const x of ['data', 'index', 'model', 'index-added', 'index-removed', 'new-items.jsonl', 'remove-ids.txt']) rmSync(at(x), { recursive: true, force: true });
  }
} finally {
  if (!keep) rmSync(root, { recursive: true, force: true });
}
