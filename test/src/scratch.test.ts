/**
 * Interrupted jobs clean up after themselves: a trainer dies with the CLI that started it (even
 * on SIGKILL), and the scratch directory it left is swept by the next job.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli-helpers.js';
import { tmp } from '../helpers.js';
import { makeScratch, sweepScratch } from '../../src/util/scratch.js';

/** Whether a process exists and is not a zombie (this container's init does not reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Pids of `pid`'s child processes whose command starts with `name` (read from /proc, no `ps` needed). */
function children(pid: number, name: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSync(`/proc/${d}/stat`, 'utf8'));
      if (m && Number(m[2]) === pid && m[1].startsWith(name)) out.push(Number(d));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

describe('scratch directories and child processes', () => {
  it('sweeps only directories whose owner process is gone', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'semrec-train-999999999-abc')); // no such pid
    mkdirSync(path.join(dir, `semrec-train-${process.pid}-live`));
    mkdirSync(path.join(dir, 'semrec-hf-999999999-x')); // another kind
    const mine = await makeScratch('semrec-train', dir);
    expect(path.basename(mine)).toMatch(new RegExp(`^semrec-train-${process.pid}-`));
    expect(readdirSync(dir).sort()).toEqual([path.basename(mine), 'semrec-hf-999999999-x', `semrec-train-${process.pid}-live`].sort());
    expect(await sweepScratch('semrec-hf', dir)).toBe(1);
  });

  it('a SIGKILLed `semrec train` takes its trainer with it, and the next job sweeps its scratch directory', async () => {
    const root = tmp();
    const data = path.join(root, 'data');
    const index = path.join(root, 'index');
    expect((await run(['data', 'synth', '--out', data, '--items', '150', '--users', '400', '--seed', '3'])).code).toBe(0);
    expect((await run(['index', 'build', '--items', data, '--scheme', 'random:2x16', '--out', index])).code).toBe(0);
    const scratchRoot = path.join(root, 'scratch');
    mkdirSync(scratchRoot);
    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'train', '--data', data, '--index', index, '--out', path.join(root, 'm'), '--arch', 'transformer', '--layers', '1', '--d-model', '16', '--heads', '2', '--epochs', '200', '--patience', '200', '--nproc', '1', '--threads', '1'], {
      stdio: 'ignore',
      env: { ...process.env, TMPDIR: scratchRoot, SEMREC_QUIET: '1' },
    });
    let trainer = 0;
    expect(await until(() => (trainer = children(cli.pid!, 'python')[0] ?? 0) > 0, 60_000)).toBe(true);
    expect(readdirSync(scratchRoot).filter((n) => n.startsWith(`semrec-train-${cli.pid}-`))).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500)); // let the trainer get going
    cli.kill('SIGKILL');
    expect(await until(() => !alive(trainer), 10_000)).toBe(true);
    const left = readdirSync(scratchRoot).filter((n) => n.startsWith('semrec-train-'));
    expect(left).toHaveLength(1); // a killed job cannot clean up: the next one does
    expect(await sweepScratch('semrec-train', scratchRoot)).toBe(1);
    expect(existsSync(path.join(scratchRoot, left[0]))).toBe(false);
  }, 120_000);
});

