/**
 * Safe directory replacement: readers never see a directory missing or mixed while a writer
 * replaces it, `--out` refuses to overwrite another kind of directory, and artifacts with
 * generations stay relocatable.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { trainModel } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { buildIndex, loadIndex, saveIndex } from '../../quantizer/index.js';
import { ArtifactExistsError, Rng } from '../../quantizer/core/index.js';
import { tmp } from '../helpers.js';
import { transitionPipeline } from './pipeline.js';
import { run } from './cli-helpers.js';

function randomIndex(n: number, seed: number) {
  const r = new Rng(seed);
  const x = Float32Array.from({ length: n * 4 }, () => r.normal());
  return buildIndex({ ids: Array.from({ length: n }, (_, i) => `s${seed}-${i}`), embeddings: x, dim: 4 }, { scheme: 'rqkmeans:2x16', seed });
}

describe('safe directory replacement', () => {
  it('a reader in another process sees the old or the new index while a writer replaces it, never a missing or mixed one', async () => {
    const root = tmp();
    const dir = path.join(root, 'idx');
    const a = randomIndex(3000, 1);
    const b = randomIndex(2000, 2);
    await saveIndex(a, dir);
    // the reader: another process loading the index in a loop, reporting every load
    const script = path.join(root, 'reader.mts');
    writeFileSync(
      script,
      `import { loadIndex } from ${JSON.stringify(path.resolve('quantizer/index.ts'))};
       import { existsSync } from 'node:fs';
       const counts = { ok: {}, failed: 0, missing: 0, errors: [] };
       const stopAt = Date.now() + 60000;
       process.stdin.on('data', () => { process.stdout.write(JSON.stringify(counts)); process.exit(0); });
       process.stdout.write('ready\\n');
       while (Date.now() < stopAt) {
         if (!existsSync(${JSON.stringify(dir)})) counts.missing++;
         try { const h = (await loadIndex(${JSON.stringify(dir)})).hash(); counts.ok[h] = (counts.ok[h] ?? 0) + 1; }
         catch (e) { counts.failed++; if (counts.errors.length < 5) counts.errors.push(String(e.message)); }
         await new Promise((r) => setImmediate(r));
       }`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => (out += String(d)));
    while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 8; i++) {
      await saveIndex(i % 2 ? a : b, dir);
      await new Promise((r) => setTimeout(r, 60));
    }
    const done = new Promise((r) => child.once('exit', r));
    child.stdin!.write('stop\n');
    await done;
    const counts = JSON.parse(out.slice(out.indexOf('{'))) as { ok: Record<string, number>; failed: number; missing: number; errors: string[] };
    expect(counts.errors).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.missing).toBe(0);
    expect(Object.keys(counts.ok).sort()).toEqual([a.hash(), b.hash()].sort());
    // generations: the pointer, the current one and the one before; nothing else
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'g-000007', 'g-000008']);
    expect((await loadIndex(dir)).hash()).toBe(a.hash());
  }, 120_000);

  it('a model directory replaced while Recommender.load runs in a loop: every load succeeds', async () => {
    const root = tmp();
    const { data, ds, index, model } = await transitionPipeline(root, { items: 120, users: 300, seed: 4 });
    let stop = false;
    let loads = 0;
    const reader = (async () => {
      while (!stop) {
        const rec = await Recommender.load(model);
        expect((await rec.recommend(ds.test[0].history, { k: 2 })).items).toHaveLength(2);
        loads++;
      }
    })();
    for (let i = 0; i < 5; i++) await trainModel({ data, index, out: model, arch: 'transition', beta: 1 + i });
    stop = true;
    await reader;
    expect(loads).toBeGreaterThan(3);
    // a model with generations still finds its index by the recorded relative path after a move
    const moved = path.join(tmp(), 'moved');
    cpSync(root, moved, { recursive: true });
    rmSync(root, { recursive: true, force: true });
    const rec = await Recommender.load(path.join(moved, 'model'));
    expect(rec.config.indexDir).toBe(path.join(moved, 'index'));
    expect(rec.config.params.beta).toBe(5);
  });

  it('--out refuses another kind of directory unless --force, and an unrelated non-empty one always', async () => {
    const root = tmp();
    const { data, ds, index, model } = await transitionPipeline(root, { items: 120, users: 300, seed: 4 });
    // an index over a model directory: refused before any work, the model untouched
    const items = path.join(data, 'items.jsonl');
    const r = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', model]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/E_EXISTS.*holds a semrec-model; refusing to replace it with a semrec-index \(force replaces it; or choose another output path\) \[--force\]/);
    await Recommender.load(model);
    // a model over an index or a dataset: refused before training
    await expect(trainModel({ data, index, out: index, arch: 'transition' })).rejects.toThrow(ArtifactExistsError);
    const t = await run(['train', '--data', data, '--index', index, '--out', data, '--arch', 'transition']);
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/holds a semrec-dataset/);
    // an unrelated non-empty directory
    const mine = path.join(root, 'my-files');
    mkdirSync(mine);
    writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
    const u = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', mine]);
    expect(u.code).toBe(2);
    expect(u.err).toMatch(/holds files semrec did not write/);
    expect(existsSync(path.join(mine, 'notes.txt'))).toBe(true);
    const uf = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', mine, '--force']);
    expect(uf.code).toBe(2);
    expect(uf.err).toMatch(/E_EXISTS.*with or without force/);
    expect(readdirSync(mine)).toEqual(['notes.txt']);
    // --force never replaces a directory holding the job's input
    const fi = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', data, '--force']);
    expect(fi.code).toBe(2);
    expect(fi.err).toMatch(/holds an input of this job/);
    expect(existsSync(items)).toBe(true);
    // the same kind is replaced; --force replaces another kind of semrec artifact
    expect((await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--seed', '3', '--out', index])).code).toBe(0);
    const f = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', model, '--force']);
    expect(f.code, f.err).toBe(0);
    expect((await loadIndex(model)).size).toBe(ds.items.length);
    await expect(Recommender.load(model)).rejects.toThrow(/not a semrec-model|config.json/);
  });
});
