/**
 * The HTTP server, over real sockets: valid, malformed, oversized and unknown-item requests,
 * overload (503 + Retry-After), reloads under load with zero failed requests, a failed reload that
 * keeps the old model serving, metrics, and a clean shutdown that finishes running requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { addItemsJob, buildIndexJob } from '../../src/indexing/jobs.js';
import { loadIndex } from '../../quantizer/index.js';
import { createServer, type SemrecServer } from '../../src/serving/server.js';
import { tmp } from '../helpers.js';
import { transitionPipeline } from './pipeline.js';

async function fixture(root: string) {
  const { data, ds, index, model } = await transitionPipeline(root, { items: 150, users: 400, seed: 3 });
  const grown = path.join(root, 'grown');
  await addItemsJob({ index, items: [{ id: 'NEW-1', title: 'n', text: ds.items[0].text }], out: grown });
  const other = path.join(root, 'other');
  await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:2x16', seed: 9, out: other });
  return { data, ds, index, model, grown, other };
}

const servers: SemrecServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()!.close();
});

const TOKEN = 'test-token-0123456789abcdef';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function start(model: string, limits = {}, more: Partial<Parameters<typeof createServer>[0]> = {}): Promise<{ server: SemrecServer; url: string }> {
  const server = await createServer({ model, limits, ...more });
  servers.push(server);
  const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
  return { server, url };
}

/** The JSON bodies the server answers with (success or error), loosely. */
interface Answer {
  items: { itemId: string; codes: number[]; score: number }[];
  skipped: string[];
  generation: number;
  error: { code: string; message: string; serving: { generation: number } };
}

async function post(url: string, body: unknown, raw?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Answer; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw ?? JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('semrec serve (HTTP)', () => {
  it('answers valid requests with real items and typed JSON errors for bad ones', async () => {
    const f = await fixture(tmp());
    const { url } = await start(f.model, { bodyBytes: 8192, maxHistory: 50 });
    const idx = await loadIndex(f.index);
    const hist = f.ds.test[0].history;
    const ok = await post(`${url}/v1/recommend`, { history: [...hist, 'NOPE'], k: 5 });
    expect(ok.status).toBe(200);
    expect(ok.json.items).toHaveLength(5);
    for (const it of ok.json.items) expect(idx.codeOf(it.itemId)).toEqual(it.codes);
    expect(ok.json.skipped).toEqual(['NOPE']);
    // candidate filters
    const allowed = idx.itemIds.slice(10, 14);
    const filt = await post(`${url}/v1/recommend`, { history: hist, k: 3, allow: allowed, deny: [allowed[0]], excludeSeen: true });
    expect(filt.status).toBe(200);
    expect(filt.json.items).toHaveLength(3);
    for (const it of filt.json.items) expect(allowed.slice(1)).toContain(it.itemId);

    const cases: [string, unknown, string | undefined, number, string][] = [
      ['malformed JSON', undefined, '{"history": [', 400, 'E_INPUT'],
      ['no history', { k: 3 }, undefined, 400, 'E_INPUT'],
      ['history of numbers', { history: [1, 2] }, undefined, 400, 'E_INPUT'],
      ['unknown field', { history: hist, kk: 3 }, undefined, 400, 'E_INPUT'],
      ['k too large', { history: hist, k: 100000 }, undefined, 400, 'E_INPUT'],
      ['beam below k', { history: hist, k: 10, beamWidth: 3 }, undefined, 400, 'E_INPUT'],
      ['history too long', { history: Array.from({ length: 51 }, () => hist[0]) }, undefined, 400, 'E_INPUT'],
      ['only unknown items', { history: ['X1', 'X2'] }, undefined, 422, 'E_EMPTY_HISTORY'],
      ['oversized body', { history: Array.from({ length: 40 }, (_, i) => 'x'.repeat(250) + i) }, undefined, 413, 'E_TOO_LARGE'],
    ];
    for (const [name, body, raw, status, code] of cases) {
      const r = await post(`${url}/v1/recommend`, body, raw);
      expect([name, r.status, r.json?.error?.code]).toEqual([name, status, code]);
      expect(typeof r.json.error.message).toBe('string');
    }
    const nf = await fetch(`${url}/v2/nothing`);
    expect(nf.status).toBe(404);
    expect(((await nf.json()) as Answer).error.code).toBe('E_NOT_FOUND');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await (await fetch(`${url}/readyz`)).json();
    const seen = (JSON.parse(readFileSync(path.join(f.model, 'config.json'), 'utf8')) as { params: { seen: { exclude: boolean } } }).params.seen.exclude;
    expect(ready).toMatchObject({ ready: true, generation: 1, indexHash: idx.hash(), items: idx.size, excludeSeenByDefault: seen });
  });

  it('overload answers 503 with Retry-After at once; queued requests still complete', async () => {
    const f = await fixture(tmp());
    const { server, url } = await start(f.model, { maxInFlight: 2, maxQueue: 3 });
    // occupy both places, so that requests must queue
    const held = [await server.admission.acquire(1000), await server.admission.acquire(1000)];
    const body = { history: f.ds.test[0].history, k: 3 };
    const queued = Array.from({ length: 3 }, () => post(`${url}/v1/recommend`, body));
    while (server.admission.queued < 3) await new Promise((r) => setTimeout(r, 5));
    const over = await post(`${url}/v1/recommend`, body);
    expect(over.status).toBe(503);
    expect(over.json.error.code).toBe('E_OVERLOADED');
    expect(over.headers.get('retry-after')).toBe('1');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/semrec_recommend_queue_depth 3/);
    expect(metrics).toMatch(/semrec_recommend_in_flight 2/);
    held.forEach((release) => release());
    for (const r of await Promise.all(queued)) expect(r.status).toBe(200);
    // a request that cannot get a place within the time limit is answered 503 E_TIMEOUT, never run
    const t = await start(f.model, { maxInFlight: 1, maxQueue: 5, timeoutMs: 150 });
    const hold = await t.server.admission.acquire(1000);
    const late = await post(`${t.url}/v1/recommend`, body);
    expect([late.status, late.json.error.code]).toEqual([503, 'E_TIMEOUT']);
    hold();
  });

  it('reloads under load with zero failed requests; a failed reload keeps the old model serving', async () => {
    const f = await fixture(tmp());
    const { server, url } = await start(f.model, {}, { adminToken: TOKEN });
    const grown = await loadIndex(f.grown);
    const parentHash = (await loadIndex(f.index)).hash();
    const histories = f.ds.test.map((e) => e.history);
    let stop = false;
    const results: { status: number; json: Answer }[] = [];
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) results.push(await post(`${url}/v1/recommend`, { history: histories[(w * 31 + i) % histories.length], k: 5 }));
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 40));
      const r = await post(`${url}/v1/admin/reload`, { index: i % 2 ? f.index : f.grown }, undefined, AUTH);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.json.generation).toBe(i + 2);
    }
    // no body at all: the same directories again
    const plain = await fetch(`${url}/v1/admin/reload`, { method: 'POST', headers: AUTH });
    expect(plain.status).toBe(200);
    expect(((await plain.json()) as Answer).generation).toBe(8);
    // an index the model was not trained on: refused, the previous generation keeps serving
    const bad = await post(`${url}/v1/admin/reload`, { index: f.other }, undefined, AUTH);
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe('E_MODEL');
    expect(bad.json.error.serving.generation).toBe(8);
    await new Promise((r) => setTimeout(r, 40));
    stop = true;
    await Promise.all(workers);
    expect(results.length).toBeGreaterThan(50);
    const failed = results.filter((r) => r.status !== 200);
    expect(failed).toEqual([]);
    for (const r of results) for (const it of r.json.items) expect(grown.codeOf(it.itemId)).toEqual(it.codes);
    expect(new Set(results.map((r) => r.json.generation)).size).toBeGreaterThan(1);
    expect(server.slot.current.id).toBe(8);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/semrec_reloads_total\{result="ok"\} 7/);
    expect(metrics).toMatch(/semrec_reloads_total\{result="error"\} 1/);
    expect(metrics).toMatch(new RegExp(`semrec_model_info\\{model="transition",model_hash="[0-9a-f]{64}",index_hash="${parentHash}",generation="8"\\} 1`));
    expect(metrics).toMatch(/semrec_http_requests_total\{route="\/v1\/recommend",status="200"\} \d+/);
    expect(metrics).toMatch(/semrec_http_request_duration_seconds_bucket\{le="0.1",route="\/v1\/recommend"\}/);
  });

  it('shuts down cleanly: running requests finish, then the port is closed', async () => {
    const f = await fixture(tmp());
    const server = await createServer({ model: f.model, limits: { maxInFlight: 1 } });
    const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
    const hold = await server.admission.acquire(1000);
    const waiting = post(`${url}/v1/recommend`, { history: f.ds.test[0].history, k: 3 });
    while (server.admission.queued < 1) await new Promise((r) => setTimeout(r, 5));
    const closed = server.close();
    hold();
    // while draining, a new request is answered at once with a typed 503
    const late = await post(`${url}/v1/recommend`, { history: f.ds.test[0].history, k: 3 });
    expect([late.status, late.json.error.code, late.headers.get('retry-after')]).toEqual([503, 'E_CLOSED', '1']);
    expect((await waiting).status).toBe(200);
    await closed;
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('the CLI serves, reloads on SIGHUP and exits 0 on SIGTERM', async () => {
    const f = await fixture(tmp());
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'serve', '--model', f.model, '--port', '0', '--threads', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += String(d)));
    child.stderr.on('data', (d) => (log += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadlineAt = Date.now() + 60_000;
    while (!/"msg":"semrec serving"/.test(log) && Date.now() < deadlineAt) await new Promise((r) => setTimeout(r, 50));
    const line = JSON.parse(log.split('\n').find((l) => l.includes('"semrec serving"'))!);
    const url: string = line.address;
    const r = await post(`${url}/v1/recommend`, { history: f.ds.test[0].history, k: 2 });
    expect(r.status).toBe(200);
    child.kill('SIGHUP');
    while (!/"msg":"reloaded"/.test(log) && Date.now() < deadlineAt) await new Promise((r) => setTimeout(r, 50));
    expect(((await (await fetch(`${url}/readyz`)).json()) as Answer).generation).toBe(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).toMatch(/"msg":"stopped"/);
  }, 90_000);
});
