/**
 * The comparison harness resumes: after a killed process (mid-training) it redoes only unfinished
 * runs; a finished run is reused only when it is intact, made with the same settings and from the
 * same data. The reuse rules are checked on training-free transition runs (they do not depend on
 * the model kind), the kill on transformer runs (a trainer is running when it lands).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CompareResults } from '../../src/compare/harness.js';
import { run } from './cli-helpers.js';
import { COMPARE_TRAIN_ARGS, compareData } from './pipeline.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-compare-resume-'));
const data = path.join(root, 'data');
const trainArgs = COMPARE_TRAIN_ARGS;
// one seed: the process is killed while the second of two runs trains
const args = (out: string) => ['compare', '--data', data, '--schemes', 'rqkmeans:2x16,random:3x16', '--seeds', '1', '--out', out, '--train-args', trainArgs];

beforeAll(async () => {
  await compareData(root);
});

describe('semrec compare resumes', () => {
  it('after the process is killed mid-comparison, without redoing finished runs', async () => {
    const out = path.join(root, 'resume');
    const first = path.join(out, 'runs', 'rqkmeans_2x16-seed0', 'result.json');
    // node itself with tsx's loader, not node_modules/.bin/tsx: that wrapper runs the CLI in a child
    // process, and SIGKILL on the wrapper would leave the comparison running on as an orphan
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args(out)], { stdio: 'ignore', env: { ...process.env, SEMREC_QUIET: '1' } });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (existsSync(first)) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
      }, 50);
      child.on('exit', () => {
        clearInterval(t);
        if (!existsSync(first)) reject(new Error('compare exited before finishing a run'));
        else resolve();
      });
    });
    await exited; // the killed process is gone before the resumed one starts
    const firstDone = readFileSync(first, 'utf8');
    expect(existsSync(path.join(out, 'results.json'))).toBe(false); // it was killed before the end
    const r = await run(args(out));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\[1\/2\] rqkmeans_2x16-seed0: finished earlier, reused/);
    expect(r.err).toMatch(/\[2\/2\] random_3x16-seed0\n/); // redone: it had not finished
    expect(readFileSync(first, 'utf8')).toBe(firstDone); // not redone
    const res = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults;
    expect(res.runs).toHaveLength(2);
    // a second complete invocation redoes nothing
    const again = await run(args(out));
    expect(again.err.match(/finished earlier, reused/g)).toHaveLength(2);
    const manifest = JSON.parse(readFileSync(path.join(out, 'MANIFEST.json'), 'utf8')) as { kind: string; files: Record<string, unknown> };
    expect([manifest.kind, Object.keys(manifest.files).sort()]).toEqual(['semrec-compare', ['report.html', 'results.json', 'results.md']]);
    // changed settings are not reused
    const changed = await run(['compare', '--data', data, '--schemes', 'random:3x16', '--seeds', '1', '--out', out, '--train-args', trainArgs.replace('--epochs 2', '--epochs 1')]);
    expect(changed.code, changed.err).toBe(0);
    expect(changed.err).toMatch(/\[1\/1\] random_3x16-seed0\n/);
    expect(changed.err).not.toMatch(/reused/);
  }, 600_000);

  it('reuses a finished run only when it is intact and made from the same data (a copy elsewhere is the same data)', async () => {
    const out = path.join(root, 'reuse');
    const cmd = (dir: string) => ['compare', '--data', dir, '--schemes', 'rqkmeans:2x16,random:3x16', '--seeds', '2', '--arch', 'transition', '--limit', '100', '--out', out];
    const first = path.join(out, 'runs', 'rqkmeans_2x16-seed0', 'result.json');
    const made = await run(cmd(data));
    expect(made.code, made.err).toBe(0);
    expect(made.err).not.toMatch(/reused/);
    const again = await run(cmd(data));
    expect(again.err.match(/finished earlier, reused/g)).toHaveLength(4);
    // a damaged result is not reused silently: it is reported and the run done again
    writeFileSync(first, readFileSync(first, 'utf8').replace(/"recall"/, '"recal1"'));
    const repaired = await run(cmd(data));
    expect(repaired.code, repaired.err).toBe(0);
    expect(repaired.err).toMatch(/warning: rqkmeans_2x16-seed0\/result.json is damaged \(checksum mismatch\); running it again/);
    expect(repaired.err.match(/finished earlier, reused/g)).toHaveLength(3);
    // a run made from other data (another dataset fingerprint) is not reused, however equal its settings
    const rewrite = (f: (r: Record<string, unknown>) => void) => {
      const j = JSON.parse(readFileSync(first, 'utf8')) as { result: Record<string, unknown>; sha256: string };
      f(j.result);
      j.sha256 = createHash('sha256').update(JSON.stringify(j.result)).digest('hex');
      writeFileSync(first, JSON.stringify(j));
    };
    const own = (JSON.parse(readFileSync(first, 'utf8')) as { result: { dataHash: string } }).result.dataHash;
    expect(own).toMatch(/^[0-9a-f]{64}$/);
    rewrite((r) => (r.dataHash = '0'.repeat(64)));
    const stale = await run(cmd(data));
    expect(stale.code, stale.err).toBe(0);
    expect(stale.err).toMatch(/warning: rqkmeans_2x16-seed0 was made from other data: dataset fingerprint 000000000000, now [0-9a-f]{12}; running it again/);
    expect(stale.err.match(/finished earlier, reused/g)).toHaveLength(3);
    expect((JSON.parse(readFileSync(first, 'utf8')) as { result: { dataHash: string } }).result.dataHash).toBe(own);
    // a run from before fingerprints were recorded is reused, and the terminal and the report say so
    rewrite((r) => delete r.dataHash);
    const legacy = await run(cmd(data));
    expect(legacy.err.match(/finished earlier, reused/g)).toHaveLength(4);
    expect(legacy.err).toMatch(/\*\*\* warning: 1 run\(s\) were made before data fingerprints were recorded \(rqkmeans_2x16-seed0\)/);
    const warnings = (JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as CompareResults).warnings ?? [];
    // (the other warning is the transition model's scheme blindness)
    expect(warnings.filter((w) => /before data fingerprints were recorded/.test(w))).toHaveLength(1);
    // the same data at another path (a copy): the fingerprint matches, the runs are reused
    rewrite((r) => (r.dataHash = own));
    const moved = path.join(root, 'data-copy');
    cpSync(data, moved, { recursive: true });
    const elsewhere = await run(cmd(moved));
    expect(elsewhere.code, elsewhere.err).toBe(0);
    expect(elsewhere.err.match(/finished earlier, reused/g)).toHaveLength(4);
  }, 300_000);

  it('--shard I/N: the shards together are every run, and the comparison over their runs/ reuses them all — the unsharded figures exactly', async () => {
    const out = path.join(root, 'sharded');
    const whole = path.join(root, 'unsharded');
    const cmd = (dir: string, extra: string[] = []) => ['compare', '--data', data, '--schemes', 'rqkmeans:2x16,random:3x16', '--seeds', '2', '--arch', 'transition', '--limit', '100', '--out', dir, ...extra];
    const s1 = await run(cmd(out, ['--shard', '1/3']));
    const s2 = await run(cmd(out, ['--shard', '2/3']));
    expect(s1.code, s1.err).toBe(0);
    expect(JSON.parse(s1.out).runs).toEqual(['rqkmeans_2x16-seed0', 'random_3x16-seed1']); // positions 0 and 3 of the run order (seed by seed)
    expect(JSON.parse(s2.out).runs).toEqual(['random_3x16-seed0']); // position 1
    expect(existsSync(path.join(out, 'results.json'))).toBe(false); // a shard writes no report
    expect((await run(cmd(out, ['--shard', '3/3']))).code).toBe(0);
    const merged = await run(cmd(out));
    expect(merged.code, merged.err).toBe(0);
    expect(merged.err.match(/finished earlier, reused/g)).toHaveLength(4);
    expect((await run(cmd(whole))).code).toBe(0);
    const figures = (dir: string) => (JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as CompareResults).runs.map((x) => [x.run, x.index.hash, x.eval.model, x.eval.ranks]);
    expect(figures(out)).toEqual(figures(whole));
    expect((await run(cmd(out, ['--shard', '4/3']))).err).toMatch(/--shard must be I\/N with 1 ≤ I ≤ N/);
  }, 300_000);
});
