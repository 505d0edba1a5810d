/**
 * Serving benchmark: `semrec serve` (a child process started as the `semrec` command starts node) driven by autocannon on
 * 127.0.0.1 at concurrency 1, 16 and 64, for the transition model and the transformer, while the
 * server reloads its model every second (SIGHUP). Every answer is checked: errors, non-200s and
 * invalid items (an item whose codes are not its codes in the index) must all be 0.
 * Reference in the same run: the same requests as in-process library calls (Recommender) at the
 * same concurrency; `httpOverLibrary` is the HTTP req/s as a fraction of that.
 *
 *   npm run bench:serve [-- --seconds 5]
 *
 * Prints one JSON line.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { SEMI_SPACE_FLAG } from '../src/util/runtime.js';
import os from 'node:os';
import path from 'node:path';
import { trainModel } from '../src/training/train.js';
import { Recommender } from '../src/serving/recommender.js';
import type { ItemIndex } from '../quantizer/index.js';
import { arg, withSyntheticFixture } from './fixture.js';

const seconds = Number(arg('seconds', '5'));
const CONCURRENCY = [1, 16, 64];

interface ServerProc {
  child: ChildProcess;
  url: string;
}

async function startServer(model: string): Promise<ServerProc> {
  const child = spawn(process.execPath, [SEMI_SPACE_FLAG, '--import', 'tsx', 'src/cli.ts', 'serve', '--model', model, '--port', '0', '--log-level', 'warn', '--max-queue', '4096'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let log = '';
  child.stdout!.on('data', (d) => (log += String(d)));
  // the "semrec serving" line (written at any log level but silent) carries the address
  const started = Date.now();
  for (;;) {
    const m = /"address":"([^"]+)"/.exec(log);
    if (m) return { child, url: m[1] };
    if (Date.now() - started > 120_000) throw new Error(`server did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** In-process reference: `conc` workers calling recommend for `secs` seconds. */
async function libraryRate(rec: Recommender, histories: string[][], conc: number, secs: number): Promise<number> {
  const end = performance.now() + secs * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: conc }, async (_, w) => {
      for (let i = w; performance.now() < end; i += conc) {
        await rec.recommend(histories[i % histories.length], { k: 10 });
        done++;
      }
    }),
  );
  return done / secs;
}

async function drive(url: string, index: ItemIndex, histories: string[][], conc: number) {
  let invalid = 0;
  let next = 0;
  const result = await autocannon({
    url,
    connections: conc,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/v1/recommend',
        headers: { 'content-type': 'application/json' },
        setupRequest: (req) => ({ ...req, body: JSON.stringify({ history: histories[next++ % histories.length], k: 10 }) }),
        onResponse: (status, body) => {
          if (status !== 200) return;
          const items = (JSON.parse(body) as { items: { itemId: string; codes: number[] }[] }).items;
          for (const it of items) if (index.codeOf(it.itemId)?.join() !== it.codes.join()) invalid++;
        },
      },
    ],
  });
  return { reqPerSec: +result.requests.average.toFixed(1), p50Ms: result.latency.p50, p99Ms: result.latency.p99, requests: result.requests.total, errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, invalid };
}

async function main(): Promise<void> {
  const out = await withSyntheticFixture('semrec-bench-serve-', async ({ root, dataDir: data, indexDir: index, ds }) => {
    const models = { transition: path.join(root, 'transition'), transformer: path.join(root, 'transformer') };
    await trainModel({ data, index, out: models.transition, arch: 'transition' });
    await trainModel({ data, index, out: models.transformer, arch: 'transformer', decoder: { maxSteps: 40, epochs: 1 } });
    const histories = ds.test.map((e) => e.history);
    const figures: Record<string, unknown> = {};
    for (const [name, dir] of Object.entries(models)) {
      const rec = await Recommender.load(dir);
      const server = await startServer(dir);
      const reloader = setInterval(() => server.child.kill('SIGHUP'), 1000);
      const byConc: Record<string, unknown> = {};
      try {
        for (const c of CONCURRENCY) {
          const http = await drive(server.url, rec.index, histories, c);
          const lib = await libraryRate(rec, histories, c, Math.min(seconds, 3));
          byConc[`c${c}`] = { ...http, libraryReqPerSec: +lib.toFixed(1), httpOverLibrary: +(http.reqPerSec / lib).toFixed(2) };
        }
      } finally {
        clearInterval(reloader);
      }
      const reloads = { ok: await metric(server.url, 'semrec_reloads_total{result="ok"}'), failed: await metric(server.url, 'semrec_reloads_total{result="error"}') };
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
      await rec.close();
      figures[name] = { ...byConc, reloads };
    }
    return figures;
  });
  console.log(JSON.stringify({ bench: 'serve', seconds, cpus: os.cpus().length, items: 2000, beamWidth: 20, k: 10, ...out }));
}

await main();
