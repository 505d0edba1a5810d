/**
 * Adversarial suite, writers: `--force` never deletes what semrec did not write (the working
 * directory, a directory holding an input, unrelated files, a directory whose CURRENT merely
 * claims a kind), dead writers' leftovers are cleaned by the next writer, a live writer's lock is
 * respected, and three concurrent writers of one directory never make a reader fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trainModel } from '../../../src/training/train.js';
import { loadIndex, saveIndex } from '../../../quantizer/index.js';
import { lockFileOf, resolveArtifact, writeArtifact } from '../../../quantizer/core/index.js';
import { transitionPipeline } from '../pipeline.js';
import { classify, cli, Tally } from './tally.js';

let root: string;
let data: string;
let index: string;
let model: string;
const t = new Tally('writers');

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-advw-'));
  ({ data, index, model } = await transitionPipeline(root, { items: 100, users: 250, seed: 12 }));
}, 120_000);

afterAll(() => {
  console.log(t.line());
  rmSync(root, { recursive: true, force: true });
});

/** What a path holds (a directory's listing, a file's content): a refused write must leave it as it was. */
const listing = (p: string) => (!existsSync(p) ? '' : statSync(p).isDirectory() ? JSON.stringify(readdirSync(p, { recursive: true }).map(String).sort()) : readFileSync(p, 'utf8'));

describe('adversarial: writers own only what they wrote', () => {
  it('--force never replaces the working directory, a parent of an input, unrelated files, or a claimed kind', async () => {
    const items = path.join(data, 'items.jsonl');
    const build = (out: string, force = true) => cli(['index', 'build', '--items', items, '--scheme', 'random:2x16', '--out', out, ...(force ? ['--force'] : [])]);
    const cases: [string, string, () => Promise<string>][] = [];
    // inside the dataset directory: `--out . --force` (the working directory, which holds the input)
    cases.push(['--out . --force inside a dataset', data, async () => {
      const cwd = process.cwd();
      process.chdir(data);
      try {
        return await build('.');
      } finally {
        process.chdir(cwd);
      }
    }]);
    cases.push(['--out <parent of the input> --force', data, () => build(data)]);
    cases.push(['--out <parent of the working directory> --force', root, async () => {
      const cwd = process.cwd();
      process.chdir(path.join(root, 'index'));
      try {
        return await build(root);
      } finally {
        process.chdir(cwd);
      }
    }]);
    const mine = path.join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
    cases.push(['--out <unrelated files> --force', mine, () => build(mine)]);
    cases.push(['--out <a file> --force', path.join(mine, 'notes.txt'), () => build(path.join(mine, 'notes.txt'))]);
    // a model directory whose CURRENT claims to hold an index: still a model (its manifest says so)
    const claimed = path.join(root, 'claimed');
    cpSync(model, claimed, { recursive: true });
    await trainModel({ data, index, out: claimed, arch: 'transition' }); // now with generations
    const ptr = JSON.parse(readFileSync(path.join(claimed, 'CURRENT'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(claimed, 'CURRENT'), JSON.stringify({ ...ptr, kind: 'semrec-index' }));
    cases.push(['--out <model whose CURRENT claims semrec-index> (no force)', claimed, () => build(claimed, false)]);
    // a damaged artifact (its manifest edited) is not proven ours: not replaced, forced or not
    const damaged = path.join(root, 'damaged');
    cpSync(index, damaged, { recursive: true });
    writeFileSync(path.join(damaged, 'MANIFEST.json'), readFileSync(path.join(damaged, 'MANIFEST.json'), 'utf8').replace('"semrec-index"', '"semrec-indey"'));
    cases.push(['--out <damaged index> --force', damaged, () => build(damaged)]);
    for (const [label, watched, fn] of cases) {
      const before = listing(watched);
      const r = await classify(fn, { code: 'E_EXISTS' });
      const after = listing(watched);
      t.add(r.outcome === 'refused' && before === after ? 'refused' : r.outcome === 'refused' ? 'silent' : r.outcome, label, r.outcome === 'refused' && before !== after ? 'refused but changed the directory' : r.detail);
    }
    expect(t.failures).toEqual([]);
  }, 120_000);

  it("dead writers' temporaries and lock are cleaned by the next writer; a live writer's lock is waited for", async () => {
    const out = path.join(root, 'model-leftovers');
    cpSync(model, out, { recursive: true });
    await trainModel({ data, index, out, arch: 'transition' }); // generations
    const dead = 2 ** 22 + 12345; // above pid_max's default: no such process
    writeFileSync(path.join(out, `.CURRENT.tmp-${dead}-x`), 'half');
    mkdirSync(path.join(out, `.tmp-${dead}-x`));
    mkdirSync(path.join(root, `.model-leftovers.tmp-${dead}-x`));
    writeFileSync(lockFileOf(out), `${dead} dead\n`);
    await trainModel({ data, index, out, arch: 'transition' });
    const left = [...readdirSync(out).filter((f) => f.startsWith('.')), ...readdirSync(root).filter((f) => f.startsWith('.model-leftovers'))];
    t.add(left.length === 0 ? 'identical' : 'silent', 'leftovers of a dead writer', left.join(', '));
    expect(left).toEqual([]);
    // a live writer's lock (this process, another token): the writer waits, then gives up typed
    writeFileSync(lockFileOf(out), `${process.pid} other\n`);
    const r = await classify(() => writeArtifact(out, async (d) => writeFileSync(path.join(d, 'x'), 'x'), undefined, { kind: 'semrec-model', lockWaitMs: 300 }).then(() => 'written'), { code: 'E_LOCKED' });
    t.add(r.outcome, 'a live lock', r.detail);
    expect(r.outcome).toBe('refused');
    expect(readFileSync(lockFileOf(out), 'utf8')).toBe(`${process.pid} other\n`);
    rmSync(lockFileOf(out));
    expect(readdirSync(root).filter((f) => f.startsWith('.model-leftovers.tmp-'))).toEqual([]);
  }, 120_000);

  it('three concurrent writers of one index: readers never fail, CURRENT always names a generation', async () => {
    const dir = path.join(root, 'contended');
    await saveIndex(await loadIndex(index), dir);
    const script = path.join(root, 'writer.mts');
    writeFileSync(
      script,
      `import { loadIndex, saveIndex } from ${JSON.stringify(path.resolve('quantizer/index.ts'))};
       const idx = await loadIndex(${JSON.stringify(index)});
       for (let i = 0; i < 12; i++) await saveIndex(idx, ${JSON.stringify(dir)});`,
    );
    const writers = Array.from({ length: 3 }, () => spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const errs: string[] = [];
    for (const w of writers) w.stderr!.on('data', (d) => errs.push(String(d)));
    const done = Promise.all(writers.map((w) => new Promise<number | null>((r) => w.once('exit', r))));
    let finished = false;
    void done.then(() => (finished = true));
    const want = (await loadIndex(index)).hash();
    let loads = 0;
    const until = Date.now() + 60_000;
    while (!finished && Date.now() < until) {
      const r = await classify(async () => (await loadIndex(dir)).hash(), { want });
      loads++;
      if (r.outcome !== 'identical') t.add(r.outcome === 'refused' ? 'silent' : r.outcome, `reader load #${loads}`, r.detail); // a refusal here is a reader failure
    }
    const codes = await done;
    expect(errs.join('')).toBe('');
    expect(codes).toEqual([0, 0, 0]);
    t.add('identical', `${loads} reader loads during 36 publications`);
    console.log(`adversarial writers: ${loads} loads while 3 writers published 36 generations`);
    expect(existsSync(await resolveArtifact(dir))).toBe(true);
    expect(readdirSync(dir).filter((f) => /^g-/.test(f)).length).toBeLessThanOrEqual(2);
    expect(t.failures).toEqual([]);
  }, 120_000);
});
