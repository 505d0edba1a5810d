/**
 * Fuzz suite (seeded): over a thousand damaged copies of index, model (transition and a tiny
 * transformer) and dataset directories — byte flips, truncation, deleted and extra files, manifest
 * edits, path traversal, config values out of range (re-checksummed, so that the format checks
 * behind the manifest are reached). Each mutant must be refused with a typed SemrecError or load
 * to results identical to the original: 0 silent changes, 0 untyped crashes, 0 hangs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from '../../src/data/store.js';
import { trainModel } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { transitionPipeline } from './pipeline.js';
import { SemrecError } from '../../src/errors.js';
import { loadIndex } from '../../quantizer/index.js';
import { resealArtifact, Rng } from '../../quantizer/core/index.js';
import { TRANSITION_FILE } from '../../src/serving/model/transition-file.js';

type Outcome = 'refused' | 'identical' | 'silent' | 'untyped' | 'hang';
type Mutate = (dir: string, r: Rng) => void | Promise<void>;

let root: string;
let data: string;
let index: string;
let transition: string;
let transformer: string;
let histories: string[][];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-fuzz-'));
  let ds;
  ({ data, ds, index, model: transition } = await transitionPipeline(root, { items: 100, users: 250, seed: 8 }));
  histories = ds.test.slice(0, 4).map((e) => e.history);
  transformer = path.join(root, 'transformer');
  await trainModel({ data, index, out: transformer, arch: 'transformer', decoder: { layers: 1, dModel: 16, heads: 2, epochs: 1, maxSteps: 4, threads: 1, nproc: 1, batchSize: 32 } });
}, 180_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a load gives, reduced to comparable JSON. */
const probes = {
  index: async (dir: string) => {
    const idx = await loadIndex(dir);
    return JSON.stringify({ h: idx.hash(), s: idx.stats(), i: idx.info, cb: idx.codebooks.map((c) => Array.from(c.slice(0, 8))) });
  },
  model: (indexDir: string) => async (dir: string) => {
    const rec = await Recommender.load(dir, indexDir);
    try {
      const res = await Promise.all(histories.map((h) => rec.recommend(h, { k: 5 })));
      return JSON.stringify([rec.modelName, rec.config.maxHistory, res.map((r) => r.items)]);
    } finally {
      await rec.close();
    }
  },
  dataset: async (dir: string) => {
    const ds = await loadDataset(dir);
    return JSON.stringify([ds.meta.counts, ds.items.length, ds.train, ds.valid, ds.test, ds.items.slice(0, 5)]);
  },
};

async function classify(probe: (dir: string) => Promise<string>, dir: string, want: string): Promise<{ outcome: Outcome; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hang'>((resolve) => (timer = setTimeout(() => resolve('hang'), 8000)));
  try {
    const got = await Promise.race([probe(dir), hang]);
    if (got === 'hang') return { outcome: 'hang', detail: '' };
    return got === want ? { outcome: 'identical', detail: '' } : { outcome: 'silent', detail: got.slice(0, 200) };
  } catch (err) {
    if (err instanceof SemrecError) return { outcome: 'refused', detail: err.code };
    return { outcome: 'untyped', detail: String((err as Error)?.stack ?? err).slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

const files = (dir: string) => readdirSync(dir).filter((f) => statSync(path.join(dir, f)).isFile());
const pick = <T,>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)];

/** Mutations that need no knowledge of the format. */
const generic: Record<string, Mutate> = {
  flip: (d, r) => {
    const f = path.join(d, pick(r, files(d)));
    const b = readFileSync(f);
    if (!b.length) return;
    b[r.int(b.length)] ^= 1 << r.int(8);
    writeFileSync(f, b);
  },
  truncate: (d, r) => {
    const f = path.join(d, pick(r, files(d)));
    truncateSync(f, r.int(statSync(f).size));
  },
  delete: (d, r) => unlinkSync(path.join(d, pick(r, files(d)))),
  extra: (d, r) => writeFileSync(path.join(d, `extra-${r.int(1000)}.bin`), Buffer.alloc(r.int(64), 7)),
  manifestSize: (d, r) => editJson(d, 'MANIFEST.json', (m) => {
    const f = pick(r, Object.keys(m.files));
    m.files[f].bytes += 1 + r.int(5);
  }),
  manifestTraversal: (d, r) => editJson(d, 'MANIFEST.json', (m) => {
    m.files[pick(r, ['../../../../dev/zero', '../index/codes.u16', '/etc/passwd', '.hidden'])] = { bytes: 0, sha256: '0'.repeat(64) };
  }),
  manifestKind: (d) => editJson(d, 'MANIFEST.json', (m) => void (m.kind = 'semrec-other')),
  manifestJunk: (d, r) => writeFileSync(path.join(d, 'MANIFEST.json'), pick(r, ['', '{', 'null', '[]', '{"format":"semrec-manifest"}'])),
};

/** The last JSON edit (reported with a failing mutant). */
let lastEdit = '';

/** Edit a JSON file of the directory (in place). */
function editJson(d: string, name: string, fn: (j: any) => void): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const f = path.join(d, name);
  const before = readFileSync(f, 'utf8');
  const j = JSON.parse(before);
  fn(j);
  const after = JSON.stringify(j);
  writeFileSync(f, after);
  let i = 0;
  while (i < after.length && after[i] === before[i]) i++;
  lastEdit = `${name} @${i}: …${after.slice(Math.max(0, i - 30), i + 30)}…`;
}

/** Edit a JSON file, then re-checksum the directory: only the format's own checks remain. */
const resealed = (name: string, fn: (j: any, r: Rng) => void): Mutate => async (d, r) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  editJson(d, name, (j) => fn(j, r));
  await resealArtifact(d);
};

const oneOf = <T,>(r: Rng, xs: readonly T[]): T => xs[r.int(xs.length)];
// values that are wrong for every field they are put in (re-checksummed mutants must carry an
// invalid value: a valid one is a legitimate edit, which no check can tell from the original)
const junk = ['x', null, 1.5, [], {}, -1];
const notPositive = [...junk, 0];

/**
 * Edit transition.bin (the raw bytes, no format checks): a header field to a wrong value (the
 * arrays moved to the new header's end), or one array entry to a value wrong for it.
 */
function editTransition(d: string, r: Rng): void {
  const f = path.join(d, TRANSITION_FILE);
  const b = readFileSync(f);
  const headLen = b.readUInt32LE(8);
  const head = JSON.parse(b.subarray(12, 12 + headLen).toString('utf8'));
  const at = (12 + headLen + 7) & ~7;
  const { items, nnz } = head as { items: number; nnz: number };
  const k = oneOf(r, ['items', 'beta', 'nnz', 'window', 'srcPtr', 'dst', 'dstCount']);
  if (k === 'items' || k === 'beta' || k === 'nnz' || k === 'window') {
    head[k] = oneOf(r, k === 'beta' ? ['x', null, 0, -1, [], {}] : k === 'window' ? [...notPositive, 1001] : [...junk, head[k] + 1, head[k] - 1]);
    const h = Buffer.from(JSON.stringify(head));
    const start = 12 + h.length;
    const out = Buffer.alloc(start + ((8 - (start % 8)) % 8) + b.length - at);
    b.copy(out, 0, 0, 8);
    out.writeUInt32LE(h.length, 8);
    h.copy(out, 12);
    b.copy(out, out.length - (b.length - at), at);
    writeFileSync(f, out);
    lastEdit = `${TRANSITION_FILE} header ${k} = ${JSON.stringify(head[k])}`;
    return;
  }
  const where = { dstCount: at, srcPtr: at + 8 * nnz + 4 * items, dst: at + 8 * nnz + 4 * (2 * items + 1) }[k as 'dstCount' | 'srcPtr' | 'dst'];
  // (counts are left alone: any u32 is a count, a valid edit that no check can tell from the original)
  const n = k === 'dstCount' ? nnz : k === 'srcPtr' ? items + 1 : nnz;
  if (n === 0) return;
  const i = r.int(n);
  if (k === 'dstCount') b.writeDoubleLE(oneOf(r, [-1, 0, NaN, Infinity]), where + 8 * i);
  else if (k === 'dst') b.writeUInt32LE(oneOf(r, [items, 0xffffffff]), where + 4 * i);
  else b.writeUInt32LE(oneOf(r, [1e9, nnz + 1]), where + 4 * i);
  writeFileSync(f, b);
  lastEdit = `${TRANSITION_FILE} ${k}[${i}]`;
}


const indexMutations: Record<string, Mutate> = {
  ...generic,
  traversal: resealed('index.json', (m, r) => (m.files[oneOf(r, ['../../../../dev/zero', '../transition/transition.bin'])] = { bytes: 5, sha256: 'a'.repeat(64) })),
  dropEntry: resealed('index.json', (m, r) => delete m.files[oneOf(r, Object.keys(m.files))]),
  items: resealed('index.json', (m, r) => (m.items = oneOf(r, [...junk, m.items + 1, m.items - 1]))),
  levels: resealed('index.json', (m, r) => (m.levels = oneOf(r, [...notPositive, m.levels + 1]))),
  sizes: resealed('index.json', (m, r) => (m.codebookSizes[r.int(m.codebookSizes.length)] = oneOf(r, [...notPositive, 2, 70000]))),
  info: resealed('index.json', (m, r) => {
    const f = oneOf(r, ['schemeLevels', 'dim', 'collisions', 'indexVersion', 'seed', 'lineage']);
    m.info[f] = f === 'seed' ? oneOf(r, ['x', null, 1.5]) : f === 'dim' ? oneOf(r, [...junk, 0, m.info.dim + 1]) : f === 'lineage' ? oneOf(r, ['x', ['zz']]) : oneOf(r, notPositive);
  }),
  hash: resealed('index.json', (m) => (m.hash = 'b'.repeat(64))),
};

const modelMutations = (transformerDir: boolean): Record<string, Mutate> => ({
  ...generic,
  maxHistory: resealed('config.json', (c, r) => (c.maxHistory = oneOf(r, notPositive))),
  layout: resealed('config.json', (c, r) => (c.tokenLayout[oneOf(r, ['sizes', 'offsets', 'vocabSize'])] = oneOf(r, [...notPositive, [16], [16, 17, 1]]))),
  arch: resealed('config.json', (c, r) => (c.architecture = oneOf(r, ['gpt', '', 5, transformerDir ? 'bigram' : 'decoder']))),
  indexHash: resealed('config.json', (c, r) => (c.indexHash = oneOf(r, ['0'.repeat(64), 'x', 7]))),
  ...(transformerDir
    ? {
        params: resealed('config.json', (c, r) => {
          const k = oneOf(r, ['heads', 'headDim', 'layers', 'dModel', 'vocabSize']);
          c.params[k] = oneOf(r, [...notPositive, k === 'layers' ? 'x' : c.params[k] + 1]);
        }),
        fusionOnTransformer: resealed('config.json', (c) => (c.architecture = 'fused')), // no fusion weight, no transition.bin
      }
    : {
        transition: async (d, r) => {
          editTransition(d, r);
          await resealArtifact(d);
        },
      }),
});

const datasetMutations: Record<string, Mutate> = {
  ...generic,
  meta: resealed('dataset.json', (m, r) => (m[oneOf(r, ['format', 'formatVersion', 'counts', 'split', 'core', 'malformed'])] = oneOf(r, junk))),
  counts: resealed('dataset.json', (m, r) => {
    const k = oneOf(r, Object.keys(m.counts));
    m.counts[k] = oneOf(r, [...junk, m.counts[k] + 1]);
  }),
};

async function campaign(name: string, pristine: string, probe: (d: string) => Promise<string>, mutations: Record<string, Mutate>, n: number, seed: number) {
  const want = await probe(pristine);
  const r = new Rng(seed);
  const counts: Record<Outcome, number> = { refused: 0, identical: 0, silent: 0, untyped: 0, hang: 0 };
  const bad: string[] = [];
  const kinds = Object.keys(mutations);
  const work = mkdtempSync(path.join(os.tmpdir(), `semrec-fuzz-${name}-`));
  try {
    for (let i = 0; i < n; i++) {
      const kind = kinds[i % kinds.length];
      const dir = path.join(work, `m${i}`);
      cpSync(pristine, dir, { recursive: true });
      lastEdit = '';
      await mutations[kind](dir, r);
      const { outcome, detail } = await classify(probe, dir, want);
      counts[outcome]++;
      if (outcome === 'silent' || outcome === 'untyped' || outcome === 'hang') bad.push(`${kind}: ${outcome} [${lastEdit}] ${detail}`);
      rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log(`fuzz ${name}: ${n} mutants — ${counts.refused} refused, ${counts.identical} identical, ${counts.silent} silent, ${counts.untyped} untyped, ${counts.hang} hangs`);
  return { counts, bad };
}

describe('fuzz: damaged directories are refused with a typed error or load identically', () => {
  const total: Record<string, number> = {};
  afterAll(() => console.log(`fuzz total: ${Object.values(total).reduce((a, b) => a + b, 0)} mutants, 0 silent / untyped / hangs`));

  const cases: [string, () => string, () => (d: string) => Promise<string>, () => Record<string, Mutate>, number][] = [
    ['index', () => index, () => probes.index, () => indexMutations, 420],
    ['transition model', () => transition, () => probes.model(index), () => modelMutations(false), 330],
    ['transformer model', () => transformer, () => probes.model(index), () => modelMutations(true), 130],
    ['dataset', () => data, () => probes.dataset, () => datasetMutations, 180],
  ];
  cases.forEach(([name, dir, probe, muts, n], i) => {
    it(`${name}: ${n} mutants`, async () => {
      const res = await campaign(name.replace(/ /g, '-'), dir(), probe(), muts(), n, 100 + i);
      total[name] = n;
      expect(res.bad).toEqual([]);
      expect(res.counts.refused).toBeGreaterThan(n / 2);
    }, 120_000);
  });
});
