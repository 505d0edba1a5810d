/**
 * Behaviour-identity check for refactors: runs the CLI end to end on seeded synthetic data — data
 * synth, index build for every scheme (text, text+cf, random, sequential, collab, hybrid, rqvae),
 * index add / remove, train (transition and a tiny fused model), eval --json (the fused model's
 * transformer part too), recommend --json —
 * and compares a sha256 of each output (timings removed) with scripts/identity.expected.json.
 *
 *   npx tsx scripts/identity.ts            # check: exit 1 and the differing steps if any
 *   npx tsx scripts/identity.ts --write    # record the current outputs as the expected ones
 *
 * Run it before a refactor (`--write` on the old code) and after (check): index hashes and eval
 * figures must be byte-identical. About 1-2 minutes on 2 cores.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const expectedFile = path.join(repo, 'scripts', 'identity.expected.json');
const work = mkdtempSync(path.join(os.tmpdir(), 'semrec-identity-'));
const TIMING = new Set(['latencyMs', 'throughput', 'seconds', 'elapsedMs', 'trainSeconds', 'durationMs', 'loadedAt']);

/** Run the CLI (from source, as the tests do); its stdout. */
function semrec(...args: string[]): string {
  return execFileSync(process.execPath, ['--max-semi-space-size=2', '--import', 'tsx', path.join(repo, 'src', 'cli.ts'), ...args], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** JSON without timing fields and without this run's temporary paths. */
function normalise(text: string): string {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !TIMING.has(k)).map(([k, x]) => [k, strip(x)]));
    return typeof v === 'string' ? v.split(work).join('<work>') : v;
  };
  const t = text.trim();
  try {
    return JSON.stringify(strip(JSON.parse(t))); // one (pretty-printed) document
  } catch {
    return t
      .split('\n')
      .map((l) => JSON.stringify(strip(JSON.parse(l)))) // JSON lines
      .join('\n');
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const got: Record<string, string> = {};
const step = (name: string, out: string) => {
  got[name] = sha(normalise(out));
  process.stderr.write(`identity: ${name} ${got[name].slice(0, 12)}\n`);
};

try {
  const data = path.join(work, 'data');
  step('data synth', semrec('data', 'synth', '--out', data, '--items', '400', '--users', '1200', '--seed', '7', '--json'));
  const schemes: [string, string[]][] = [
    ['rqkmeans text', ['--scheme', 'rqkmeans:2x16']],
    ['rqkmeans text+cf', ['--scheme', 'rqkmeans:2x16', '--embed', 'text+cf']],
    ['random', ['--scheme', 'random:3x16']],
    ['sequential', ['--scheme', 'sequential:3x16']],
    ['collab', ['--scheme', 'collab:3x16']],
    ['hybrid', ['--scheme', 'hybrid:3x16']],
    ['rqvae', ['--scheme', 'rqvae:2x16', '--rqvae-epochs', '20']],
  ];
  for (const [name, args] of schemes) {
    const out = path.join(work, `index-${name.replace(/\W+/g, '-')}`);
    semrec('index', 'build', '--items', data, ...args, '--seed', '1', '--out', out);
    step(`index build ${name}`, semrec('index', 'stats', out));
  }
  const index = path.join(work, 'index-rqkmeans-text');
  const items = readFileSync(path.join(data, 'items.jsonl'), 'utf8').trim().split('\n').slice(0, 20);
  const fresh = path.join(work, 'new.jsonl');
  writeFileSync(fresh, items.map((l) => JSON.stringify({ ...(JSON.parse(l) as object), id: `NEW-${(JSON.parse(l) as { id: string }).id}` })).join('\n') + '\n');
  semrec('index', 'add', '--index', index, '--items', fresh, '--out', path.join(work, 'grown'));
  step('index add', semrec('index', 'stats', path.join(work, 'grown')));
  semrec('index', 'remove', '--index', path.join(work, 'grown'), '--ids', 'NEW-P00001,NEW-P00002', '--out', path.join(work, 'shrunk'));
  step('index remove', semrec('index', 'stats', path.join(work, 'shrunk')));
  const history = (JSON.parse(readFileSync(path.join(data, 'test.jsonl'), 'utf8').split('\n')[0]) as { history: string[] }).history.join(',');
  for (const [name, args] of [
    ['transition', ['--arch', 'transition']],
    ['fused', ['--layers', '1', '--d-model', '16', '--heads', '2', '--epochs', '2', '--batch-size', '64', '--nproc', '1', '--threads', '1', '--fusion-users', '200', '--transition-users', '200']],
  ] as const) {
    const model = path.join(work, `model-${name}`);
    semrec('train', '--data', data, '--index', index, '--out', model, ...args);
    step(`eval ${name}`, semrec('eval', '--model', model, '--data', data, '--limit', '300', '--json'));
    step(`recommend ${name}`, semrec('recommend', '--model', model, '--history', history, '-k', '5', '--json'));
    // the fused figures can be the transition model's alone (weight 1 on a 2-epoch transformer): the transformer's own
    if (name === 'fused') step('eval fused --part transformer', semrec('eval', '--model', model, '--data', data, '--limit', '300', '--part', 'transformer', '--json'));
  }
  if (process.argv.includes('--write')) {
    writeFileSync(expectedFile, JSON.stringify(got, null, 2) + '\n');
    process.stderr.write(`identity: wrote ${path.relative(repo, expectedFile)} (${Object.keys(got).length} steps)\n`);
  } else {
    const want = JSON.parse(readFileSync(expectedFile, 'utf8')) as Record<string, string>;
    const differ = [...new Set([...Object.keys(want), ...Object.keys(got)])].filter((k) => want[k] !== got[k]);
    if (differ.length) {
      process.stderr.write(`identity: DIFFERENT: ${differ.join(', ')}\n`);
      process.exitCode = 1;
    } else process.stderr.write(`identity: all ${Object.keys(got).length} steps byte-identical\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
