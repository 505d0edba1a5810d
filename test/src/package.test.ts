/**
 * The installable package: `npm pack` holds dist/ (the build `npm test` ran first), LICENSE and
 * the trainer; installed from the tarball into a fresh project it imports, recommends and serves
 * over HTTP, and its CLI runs. faiss-node is optional: without its addon an index build fails
 * with a clear E_SETUP error, and serving does not need it.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tmp } from '../helpers.js';
import { transitionPipeline } from './pipeline.js';

const ROOT = path.resolve('.');

describe('installable package', () => {
  it('packs dist/, installs from the tarball into a fresh project, imports, serves and runs its CLI', async () => {
    expect(existsSync(path.join(ROOT, 'dist/src/index.js')), 'dist/ is built by the setup that npm test runs first').toBe(true);
    const root = tmp();
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: ROOT, encoding: 'utf8' })) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/serving/index.js', 'dist/src/cli.js', 'dist/quantizer/index.js', 'dist/decoding/index.js', 'trainer/train.py']) expect(files).toContain(f);
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/'))).toEqual([]);

    // a model to serve, made with this checkout
    const { data, ds, model } = await transitionPipeline(root, { items: 120, users: 300, seed: 4 });

    // a fresh project installs the tarball (install scripts off: they download, see docs/serving.md)
    const app = path.join(root, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', type: 'module', private: true }));
    execFileSync('npm', ['install', path.join(root, packed[0].filename), '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    writeFileSync(
      path.join(app, 'main.js'),
      `import { Recommender } from 'semrec';
       import { createServer } from 'semrec/serve';
       const [model, history] = process.argv.slice(2);
       const rec = await Recommender.load(model);
       const direct = await rec.recommend(history.split(','), { k: 3 });
       await rec.close();
       const server = await createServer({ model });
       const url = await server.app.listen({ port: 0, host: '127.0.0.1' });
       const res = await fetch(url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history: history.split(','), k: 3 }) });
       const http = await res.json();
       await server.close();
       console.log(JSON.stringify({ status: res.status, direct: direct.items.map((i) => i.itemId), http: http.items.map((i) => i.itemId) }));`,
    );
    const hist = ds.test[0].history.join(',');
    const out = JSON.parse(execFileSync('node', ['main.js', model, hist], { cwd: app, encoding: 'utf8', timeout: 60_000 })) as { status: number; direct: string[]; http: string[] };
    expect(out.status).toBe(200);
    expect(out.direct).toHaveLength(3);
    expect(out.http).toEqual(out.direct);

    // the CLI of the installed package
    const bin = path.join(app, 'node_modules/.bin/semrec');
    const version = JSON.parse(execFileSync('npm', ['pkg', 'get', 'version'], { cwd: ROOT, encoding: 'utf8' })) as string;
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(version);
    const recd = JSON.parse(execFileSync(bin, ['recommend', '--model', model, '--history', hist, '-k', '3', '--json'], { encoding: 'utf8' })) as { items: { itemId: string }[] };
    expect(recd.items.map((i) => i.itemId)).toEqual(out.direct);
    // faiss-node is installed without its addon here: an index build says what is missing
    const build = spawnSync(bin, ['index', 'build', '--items', path.join(data, 'items.jsonl'), '--scheme', 'rqkmeans:2x16', '--out', path.join(root, 'idx2')], { encoding: 'utf8' });
    expect(build.status).toBe(2);
    expect(build.stderr).toMatch(/E_SETUP.*faiss-node could not be loaded.*serving does not/);
  }, 400_000);
});
