/**
 * Adversarial suite, surfaces: the HTTP admin API (closed by default, token in constant time,
 * reload roots, no path in any answer, a reload deadline that never blocks the next reload or a
 * shutdown), the published OpenAPI document, and the "nothing silent" leftovers — config values
 * that pass a schema but cannot serve, hostile ids, duplicates, empty lists, ignored flags,
 * unbounded sizes, file-system errors and output that cannot be written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type SemrecServer } from '../../../src/serving/server.js';
import { RecommenderSlot } from '../../../src/serving/slot.js';
import { Recommender } from '../../../src/serving/recommender.js';
import { trainModel } from '../../../src/training/train.js';
import { readCatalogue } from '../../../src/data/items.js';
import { loadSource } from '../../../src/data/sources.js';
import { resealArtifact, resolveArtifact } from '../../../quantizer/core/index.js';
import { run } from '../cli-helpers.js';
import { transitionPipeline } from '../pipeline.js';
import { classify, cli, Tally } from './tally.js';
import { TRANSITION_FILE, decodeTransition, encodeTransition } from '../../../src/serving/model/transition-file.js';

const TOKEN = 'adversarial-token-0123456789';
let root: string;
let data: string;
let index: string;
let model: string;
let transformer: string;
let history: string[];
const tallies: Tally[] = [];
const servers: SemrecServer[] = [];

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-advs-'));
  let ds;
  ({ data, ds, index, model } = await transitionPipeline(root, { items: 100, users: 250, seed: 13 }));
  history = ds.test[0].history;
  transformer = path.join(root, 'transformer');
  await trainModel({ data, index, out: transformer, arch: 'transformer', decoder: { layers: 1, dModel: 16, heads: 2, epochs: 1, maxSteps: 4, threads: 1, nproc: 1, batchSize: 32 } });
}, 180_000);

afterAll(async () => {
  while (servers.length) await servers.pop()!.close();
  for (const t of tallies) console.log(t.line());
  rmSync(root, { recursive: true, force: true });
});

async function start(more: Partial<Parameters<typeof createServer>[0]> = {}): Promise<{ server: SemrecServer; url: string }> {
  const server = await createServer({ model, load: { warmup: 0, processWarmup: 0 }, ...more });
  servers.push(server);
  return { server, url: await server.app.listen({ port: 0, host: '127.0.0.1' }) };
}

async function reload(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; code?: string; message: string; generation?: number }> {
  const res = await fetch(`${url}/v1/admin/reload`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const j = (await res.json()) as { error?: { code: string; message: string }; generation?: number };
  return { status: res.status, code: j.error?.code, message: j.error?.message ?? '', generation: j.generation };
}

describe('adversarial: HTTP admin surface', () => {
  it('admin is closed by default, token-checked in constant time, rooted, path-free and bounded in time', async () => {
    const t = new Tally('admin HTTP');
    tallies.push(t);
    const check = (label: string, ok: boolean, detail = '') => t.add(ok ? 'refused' : 'silent', label, detail);
    // no token: disabled
    const closed = await start();
    const r0 = await reload(closed.url, {});
    check('no token configured → 403 disabled', r0.status === 403 && r0.code === 'E_UNAUTHORIZED' && closed.server.slot.current.id === 1, JSON.stringify(r0));
    // a short token is refused at start
    const short = await classify(() => createServer({ model, adminToken: 'short', load: { warmup: 0 } }).then(async (s) => (await s.close(), 'started')), { code: 'E_INPUT' });
    t.add(short.outcome, 'a 5-character token', short.detail);
    // token and adminOpen together are refused
    const both = await classify(() => createServer({ model, adminToken: TOKEN, adminOpen: true, load: { warmup: 0 } }).then(async (s) => (await s.close(), 'started')), { code: 'E_INPUT' });
    t.add(both.outcome, 'token and adminOpen together', both.detail);
    // with a token
    const { server, url } = await start({ adminToken: TOKEN });
    for (const [label, headers] of [
      ['no Authorization', {}],
      ['wrong token', { authorization: `Bearer ${TOKEN.slice(0, -1)}x` }],
      ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, 8)}` }],
      ['empty bearer', { authorization: 'Bearer ' }],
      ['basic scheme', { authorization: `Basic ${TOKEN}` }],
    ] as const) {
      const r = await reload(url, {}, headers);
      check(label, r.status === 401 && r.code === 'E_UNAUTHORIZED', JSON.stringify(r));
    }
    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok = await reload(url, {}, auth);
    t.add(ok.status === 200 && ok.generation === 2 ? 'identical' : 'silent', 'the right token reloads', JSON.stringify(ok));
    // outside the roots, missing, traversal: one answer, no path in it
    const outside = mkdtempSync(path.join(os.tmpdir(), 'semrec-outside-'));
    cpSync(model, path.join(outside, 'model'), { recursive: true });
    const answers: string[] = [];
    for (const p of [path.join(outside, 'model'), path.join(root, 'missing'), `${root}/../../etc`, '/etc', '/dev/zero', path.join(root, 'model', '..', '..')]) {
      const r = await reload(url, { model: p }, auth);
      answers.push(`${r.status} ${r.code} ${r.message}`);
      check(`reload of ${p.replace(root, '<root>')}`, r.status === 403 && !r.message.includes('/'), JSON.stringify(r));
    }
    check('missing and outside answer the same', new Set(answers).size === 1, answers.join(' | '));
    rmSync(outside, { recursive: true, force: true });
    // a damaged model under the roots: refused, still serving, and no path in the answer
    const damaged = path.join(root, 'damaged-model');
    cpSync(model, damaged, { recursive: true });
    writeFileSync(path.join(damaged, TRANSITION_FILE), '{}');
    const dr = await reload(url, { model: damaged }, auth);
    check('a damaged model under the roots', dr.status === 422 && dr.code === 'E_MODEL' && !dr.message.includes(root) && !dr.message.includes('/') && server.slot.current.id === 2, JSON.stringify(dr));
    // loopback-open mode: served to loopback connections, warned in the log
    const warned: string[] = [];
    const logger = { warn: (o: unknown, m: string) => warned.push(m), info: () => undefined, error: () => undefined, child: () => logger } as unknown as import('pino').Logger;
    const open = await start({ adminOpen: true, lifecycleLogger: logger });
    const or = await reload(open.url, {});
    t.add(or.status === 200 ? 'identical' : 'silent', 'adminOpen on loopback', JSON.stringify(or));
    check('adminOpen is logged as a warning', warned.some((m) => /ADMIN API OPEN WITHOUT A TOKEN/.test(m)), warned.join('; '));
    const cliOpen = await classify(() => cli(['serve', '--model', model, '--admin-open', '--host', '0.0.0.0', '--port', '0']), { code: 'E_INPUT' });
    t.add(cliOpen.outcome, '--admin-open with a non-loopback --host', cliOpen.detail);
    // a reload that never finishes: abandoned at its deadline; the next reload and close() are not blocked
    const slot = await RecommenderSlot.open(() => Recommender.load(model, undefined, { warmup: 0 }));
    const stuck = await classify(() => slot.reload(() => new Promise<Recommender>(() => undefined), { timeoutMs: 200 }).then(() => 'switched'), { code: 'E_TIMEOUT', ms: 5000 });
    t.add(stuck.outcome, 'a reload that never finishes', stuck.detail);
    const next = await classify(async () => String((await slot.reload(undefined, { timeoutMs: 10_000 })).id), { want: '2' });
    t.add(next.outcome, 'the next reload after an abandoned one', next.detail);
    const hung = slot.reload(() => new Promise<Recommender>(() => undefined));
    const shut = await classify(() => slot.close().then(() => 'closed'), { want: 'closed', ms: 3000 });
    t.add(shut.outcome, 'close() while a reload hangs', shut.detail);
    void hung.catch(() => undefined);
    // the OpenAPI document is served and is the one committed in docs/
    const doc = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    check('GET /openapi.json', doc.openapi.startsWith('3.') && '/v1/recommend' in doc.paths && '/v1/admin/reload' in doc.paths, Object.keys(doc.paths ?? {}).join(','));
    const committed = path.resolve('docs/openapi.json');
    if (process.env.SEMREC_WRITE_OPENAPI) writeFileSync(committed, JSON.stringify(doc, null, 2) + '\n');
    expect(JSON.parse(readFileSync(committed, 'utf8'))).toEqual(doc);
    expect(t.failures).toEqual([]);
  }, 120_000);
});

describe('adversarial: nothing silent', () => {
  it('config values that pass a schema but cannot serve, hostile input and unusable output are refused, typed', async () => {
    const t = new Tally('nothing silent');
    tallies.push(t);
    let n = 0;
    /** A copy of `src` with config.json edited (and resealed, so the checks behind the manifest are reached). */
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a config edited as loose JSON
    const edited = async (src: string, edit: (c: Record<string, any>) => void) => {
      const d = path.join(root, `cfg-${n++}`);
      cpSync(src, d, { recursive: true });
      const dir = await resolveArtifact(d);
      const c = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
      edit(c);
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
      await resealArtifact(dir);
      return d;
    };
    const load = async (d: string) => {
      const rec = await Recommender.load(d, index);
      try {
        return JSON.stringify((await rec.recommend(history, { k: 3 })).items);
      } finally {
        await rec.close();
      }
    };
    const cases: [string, () => Promise<unknown>, (string | RegExp)?][] = [
      ['seen.exclude "yes"', async () => load(await edited(model, (c) => (c.params.seen = { exclude: 'yes' }))), 'E_MODEL'],
      ...['__proto__', 'constructor', 'toString', 'hasOwnProperty'].map((a): [string, () => Promise<unknown>, string | RegExp] => [`architecture ${a}`, async () => load(await edited(model, (c) => (c.architecture = a))), 'E_MODEL']),
      ['maxHistory beyond the learned positions', async () => load(await edited(transformer, (c) => (c.maxHistory = c.params.maxPositions))), 'E_MODEL'],
      ['heads × headDim that pass the schema but not the graph', async () => load(await edited(transformer, (c) => ((c.params.heads = 1), (c.params.headDim = c.params.dModel)))), 'E_MODEL'],
      ['transition counts that overflow to a non-finite score', async () => {
        const d = path.join(root, `big-${n++}`);
        cpSync(model, d, { recursive: true });
        const dir = await resolveArtifact(d);
        const b = decodeTransition(readFileSync(path.join(dir, TRANSITION_FILE)), TRANSITION_FILE);
        writeFileSync(path.join(dir, TRANSITION_FILE), encodeTransition({ ...b, dstCount: b.dstCount.map(() => 1e308) }));
        await resealArtifact(dir);
        return load(d);
      }, 'E_MODEL'],
      ['data synth --users 1e12', () => cli(['data', 'synth', '--out', path.join(root, `syn-${n++}`), '--users', '1000000000000']), 'E_INPUT'],
      ['recommend -k 100000', () => cli(['recommend', '--model', model, '--history', history.join(','), '-k', '100000']), 'E_INPUT'],
      ['--fusion-grid ""', () => cli(['train', '--data', data, '--index', index, '--out', path.join(root, `m-${n++}`), '--fusion-grid', '']), 'E_INPUT'],
      ['--fusion-grid "0.1,,0.2"', () => cli(['train', '--data', data, '--index', index, '--out', path.join(root, `m-${n++}`), '--fusion-grid', '0.1,,0.2']), 'E_INPUT'],
      ['--embeddings with random:', async () => {
        const emb = path.join(root, 'emb.f32');
        const cat = await readCatalogue(path.join(data, 'items.jsonl'));
        const b = Buffer.alloc(8 + cat.items.length * 4 * 4);
        b.writeUInt32LE(cat.items.length, 0);
        b.writeUInt32LE(4, 4);
        writeFileSync(emb, b);
        return cli(['index', 'build', '--items', path.join(data, 'items.jsonl'), '--embeddings', emb, '--scheme', 'random:2x16', '--out', path.join(root, `i-${n++}`)]);
      }, 'E_INPUT'],
      ['a 5,000-character path', () => cli(['index', 'build', '--items', `/tmp/${'x'.repeat(5000)}`, '--out', path.join(root, `i-${n++}`)]), /E_INPUT|E_NOT_FOUND/],
      ['serve --host no.such.host.invalid', () => cli(['serve', '--model', model, '--host', 'no.such.host.invalid', '--port', '0']), 'E_INPUT'],
    ];
    for (const [label, fn, code] of cases) {
      const r = await classify(fn, { code, ms: 30_000 });
      t.add(r.outcome, label, r.detail);
    }
    // hostile ids and duplicates: reported with their lines, never kept silently
    writeFileSync(
      path.join(root, 'hostile-items.jsonl'),
      [
        { item: 'A', title: 'a' },
        { item: 'B', title: 'b' },
        { item: 'A', title: 'second A' },
        { item: 'C\u0000', title: 'nul' },
        { item: 'D,E', title: 'comma' },
        { item: 'x'.repeat(100_000), title: 'long' },
      ].map((o) => JSON.stringify(o)).join('\n'),
    );
    writeFileSync(path.join(root, 'hostile-inter.jsonl'), ['u1 A 1', 'u1 B 2', 'u1 B 2', 'u1 A 3'].map((l) => { const [user, item, timestamp] = l.split(' '); return JSON.stringify({ user, item, timestamp: Number(timestamp) }); }).join('\n'));
    const src = await loadSource('jsonl', { interactions: path.join(root, 'hostile-inter.jsonl'), items: path.join(root, 'hostile-items.jsonl') });
    const reasons = src.malformed.examples.map((e) => e.reason).join(' | ');
    const got = { items: [...src.items.keys()].sort().join(','), firstA: src.items.get('A')?.title, interactions: src.interactions.length, reported: src.malformed.count };
    const want = { items: 'A,B', firstA: 'a', interactions: 3, reported: 5 }; // 1 duplicate item, 1 duplicate interaction, 3 invalid ids
    t.add(JSON.stringify(got) === JSON.stringify(want) && /duplicate item id/.test(reasons) && /duplicate interaction/.test(reasons) ? 'refused' : 'silent', 'hostile ids and duplicates in data prepare', `${JSON.stringify(got)} ${reasons}`);
    // recommend --items with malformed lines: said on stderr
    writeFileSync(path.join(root, 'titles.jsonl'), `${readFileSync(path.join(data, 'items.jsonl'), 'utf8')}\nnot json\n`);
    const r = await run(['recommend', '--model', model, '--history', history.join(','), '--items', path.join(root, 'titles.jsonl')]);
    t.add(r.code === 0 && /skipped 1 malformed line/.test(r.err) ? 'refused' : 'silent', 'recommend --items with a malformed line', r.err.slice(0, 200));
    // output that cannot be written: never exit 0 (a real process, stdout on /dev/full)
    const devFull = openSync('/dev/full', 'w');
    const full = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'recommend', '--model', model, '--history', history.join(','), '--json'], { stdio: ['ignore', devFull, 'pipe'], timeout: 60_000 });
    closeSync(devFull);
    const stderr = String(full.stderr);
    t.add(full.status === 2 && /\[E_IO\].*no space left/.test(stderr) ? 'refused' : full.status === 0 ? 'silent' : 'untyped', 'recommend --json > /dev/full', `${full.status} ${stderr.slice(0, 200)}`);
    expect(t.failures).toEqual([]);
  }, 240_000);
});
