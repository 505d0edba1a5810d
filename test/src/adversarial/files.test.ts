/**
 * Adversarial suite, files (seeded, bounded in count and time): artifact files replaced during a
 * load, special files (FIFOs, directories, devices, symlink loops, sparse giants) in every path
 * position, and writers that must own only what they wrote. Each case must be refused with a typed
 * SemrecError or give results identical to the original: 0 silent, 0 untyped, 0 hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../../src/data/store.js';
import { Recommender } from '../../../src/serving/recommender.js';
import { trainModel } from '../../../src/training/train.js';
import { loadIndex } from '../../../quantizer/index.js';
import { resolveArtifact } from '../../../quantizer/core/index.js';
import { transitionPipeline } from '../pipeline.js';
import { classify, cli, mkfifo, Tally, unblockFifo } from './tally.js';
import { TRANSITION_FILE, decodeTransition, encodeTransition } from '../../../src/serving/model/transition-file.js';

let root: string;
let data: string;
let index: string;
let transition: string;
let transformer: string;
let transformerB: string;
let histories: string[][];
const tallies: Tally[] = [];
const fifos: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-adv-'));
  let ds;
  ({ data, ds, index, model: transition } = await transitionPipeline(root, { items: 100, users: 250, seed: 11 }));
  histories = ds.test.slice(0, 3).map((e) => e.history);
  const small = { layers: 1, dModel: 16, heads: 2, epochs: 1, maxSteps: 4, threads: 1, nproc: 1, batchSize: 32 };
  transformer = path.join(root, 'transformer');
  transformerB = path.join(root, 'transformer-b');
  await trainModel({ data, index, out: transformer, arch: 'transformer', decoder: { ...small, seed: 1 } });
  await trainModel({ data, index, out: transformerB, arch: 'transformer', decoder: { ...small, seed: 2 } });
}, 240_000);

afterAll(() => {
  for (const f of fifos) unblockFifo(f);
  for (const t of tallies) console.log(t.line());
  rmSync(root, { recursive: true, force: true });
});

function tally(name: string): Tally {
  const t = new Tally(name);
  tallies.push(t);
  return t;
}

function expectClean(t: Tally): void {
  expect(t.failures).toEqual([]);
  expect(t.counts.silent + t.counts.untyped + t.counts.hang).toBe(0);
}

/** What a model load gives, as comparable JSON. */
async function recommendations(model: string): Promise<string> {
  const rec = await Recommender.load(model, index, { warmup: 0 });
  try {
    return JSON.stringify(await Promise.all(histories.map(async (h) => (await rec.recommend(h, { k: 5 })).items)));
  } finally {
    await rec.close();
  }
}

/** A child process that renames copies of `a` and `b` over `target`, alternately, until killed. */
function swapper(target: string, a: string, b: string): ChildProcess {
  const script = "const fs=require('fs');const [t,a,b]=process.argv.slice(1);for(let i=0;;i++){const tmp=t+'.swap';fs.copyFileSync(i%2?a:b,tmp);fs.renameSync(tmp,t);}";
  return spawn(process.execPath, ['-e', script, target, a, b], { stdio: 'ignore' });
}

/** Load in a loop (at most `count` times or `ms`) while `target` is swapped between the good bytes and `alt`. */
async function race(t: Tally, label: string, target: string, alt: Buffer, probe: () => Promise<string>, want: string, count = 30, ms = 8000): Promise<void> {
  const good = `${target}.good`;
  const bad = `${target}.alt`;
  writeFileSync(good, readFileSync(target));
  writeFileSync(bad, alt);
  const child = swapper(target, good, bad);
  try {
    await new Promise((r) => setTimeout(r, 100));
    const until = Date.now() + ms;
    for (let i = 0; i < count && Date.now() < until; i++) {
      const r = await classify(probe, { want });
      t.add(r.outcome, `${label} #${i}`, r.detail);
    }
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

describe('adversarial: files', () => {
  it('a file replaced during a load: the verified bytes are the bytes used (never unchecked content)', async () => {
    const t = tally('replaced during load');
    // transition model: transition.bin swapped with a valid table of other counts
    const tm = path.join(root, 'race-transition');
    cpSync(transition, tm, { recursive: true });
    const want = await recommendations(tm);
    const table = path.join(await resolveArtifact(tm), TRANSITION_FILE);
    const counts = decodeTransition(readFileSync(table), TRANSITION_FILE);
    const alt = Buffer.from(encodeTransition({ ...counts, counts: counts.counts.slice().reverse() }));
    expect(alt.equals(readFileSync(table))).toBe(false);
    await race(t, TRANSITION_FILE, table, alt, () => recommendations(tm), want);
    // transformer: model.onnx swapped with another trained model of the same shape
    const xm = path.join(root, 'race-transformer');
    cpSync(transformer, xm, { recursive: true });
    const wantX = await recommendations(xm);
    expect(await recommendations(transformerB)).not.toBe(wantX);
    const onnx = path.join(await resolveArtifact(xm), 'model.onnx');
    await race(t, 'model.onnx', onnx, readFileSync(path.join(await resolveArtifact(transformerB), 'model.onnx')), () => recommendations(xm), wantX, 20);
    // dataset: train.jsonl swapped with its lines in another order
    const dm = path.join(root, 'race-data');
    cpSync(data, dm, { recursive: true });
    const probe = async () => JSON.stringify((await loadDataset(dm)).train);
    const wantD = await probe();
    const train = path.join(await resolveArtifact(dm), 'train.jsonl');
    const lines = readFileSync(train, 'utf8').trimEnd().split('\n');
    await race(t, 'train.jsonl', train, Buffer.from([...lines].reverse().join('\n') + '\n'), probe, wantD);
    expectClean(t);
  }, 120_000);

  it('special files in every path position are refused at once, typed, in bounded memory', async () => {
    const t = tally('special files');
    const rss0 = process.memoryUsage().rss;
    let n = 0;
    const fresh = (src: string) => {
      const d = path.join(root, `sp-${n++}`);
      cpSync(src, d, { recursive: true });
      return d;
    };
    const fifo = (p: string) => {
      rmSync(p, { recursive: true, force: true });
      mkfifo(p);
      fifos.push(p);
    };
    /** Ways to make `p` something other than a regular file. */
    const kinds: Record<string, (p: string) => void> = {
      fifo,
      directory: (p) => {
        rmSync(p, { force: true });
        mkdirSync(p);
      },
      'symlink to /dev/zero': (p) => {
        rmSync(p, { force: true });
        symlinkSync('/dev/zero', p);
      },
      'symlink loop': (p) => {
        rmSync(p, { force: true });
        symlinkSync(`${p}.loop`, p);
        symlinkSync(p, `${p}.loop`);
      },
    };
    const cases: [string, () => Promise<unknown>][] = [];
    for (const [kind, make] of Object.entries(kinds)) {
      for (const file of ['MANIFEST.json', TRANSITION_FILE, 'config.json', 'CURRENT']) {
        cases.push([`model ${file} as ${kind}`, async () => {
          const d = fresh(transition);
          make(path.join(d, file));
          return recommendations(d);
        }]);
      }
      cases.push([`transformer model.onnx as ${kind}`, async () => {
        const d = fresh(transformer);
        make(path.join(await resolveArtifact(d), 'model.onnx'));
        return recommendations(d);
      }]);
      for (const file of ['CURRENT', 'MANIFEST.json', 'codes.u16']) {
        cases.push([`index ${file} as ${kind}`, async () => {
          const d = fresh(index);
          make(path.join(d, file));
          return (await loadIndex(d)).hash();
        }]);
      }
      for (const file of ['CURRENT', 'dataset.json', 'train.jsonl']) {
        cases.push([`dataset ${file} as ${kind}`, async () => {
          const d = fresh(data);
          make(path.join(d, file));
          return (await loadDataset(d)).train.length;
        }]);
      }
      // a FIFO (or worse) as CURRENT of an existing --out: refused before any work, not a hang
      cases.push([`index build --out with CURRENT as ${kind}`, async () => {
        const d = fresh(index);
        make(path.join(d, 'CURRENT'));
        return cli(['index', 'build', '--items', path.join(data, 'items.jsonl'), '--scheme', 'random:2x16', '--out', d]);
      }]);
      // user inputs
      const inputCase = (label: string, args: (p: string) => string[]) =>
        cases.push([`${label} as ${kind}`, async () => {
          const p = path.join(root, `in-${n++}`);
          writeFileSync(p, 'x');
          make(p);
          return cli(args(p));
        }]);
      inputCase('--items', (p) => ['index', 'build', '--items', p, '--scheme', 'random:2x16', '--out', path.join(root, `out-${n++}`)]);
      inputCase('--history-file', (p) => ['recommend', '--model', transition, '--history-file', p]);
      inputCase('--ids-file', (p) => ['index', 'remove', '--index', index, '--ids-file', p, '--out', path.join(root, `out-${n++}`)]);
      inputCase('--embeddings', (p) => ['index', 'build', '--items', path.join(data, 'items.jsonl'), '--embeddings', p, '--out', path.join(root, `out-${n++}`)]);
      inputCase('--model', (p) => ['recommend', '--model', p, '--history', histories[0].join(',')]);
    }
    // sparse giants: refused without being read whole
    cases.push(['--embeddings: a sparse 3 GB file', async () => {
      const p = path.join(root, 'sparse.f32');
      writeFileSync(p, Buffer.from([4, 0, 0, 0, 2, 0, 0, 0]));
      truncateSync(p, 3 * 2 ** 30);
      return cli(['index', 'build', '--items', path.join(data, 'items.jsonl'), '--embeddings', p, '--out', path.join(root, `out-${n++}`)]);
    }]);
    cases.push(['--items: a sparse 1 GB file without newlines', async () => {
      const p = path.join(root, 'sparse.jsonl');
      writeFileSync(p, '');
      truncateSync(p, 2 ** 30);
      return cli(['index', 'build', '--items', p, '--scheme', 'random:2x16', '--out', path.join(root, `out-${n++}`)]);
    }]);
    cases.push(['CURRENT: a sparse 1 GB pointer', async () => {
      const d = fresh(transition);
      writeFileSync(path.join(d, 'CURRENT'), '');
      truncateSync(path.join(d, 'CURRENT'), 2 ** 30);
      return recommendations(d);
    }]);
    for (const [label, fn] of cases) {
      const r = await classify(fn, { ms: 10_000 });
      t.add(r.outcome, label, r.detail);
    }
    for (const f of fifos) unblockFifo(f);
    const grown = (process.memoryUsage().rss - rss0) / 2 ** 20;
    console.log(`adversarial special files: ${cases.length} cases, RSS grew ${grown.toFixed(0)} MB`);
    expect(grown).toBeLessThan(600);
    expectClean(t);
  }, 240_000);
});
