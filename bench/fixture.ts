/** Shared pieces of the benchmarks: command-line flags and the synthetic data + index fixture. */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesize } from '../src/data/synth.js';
import { prepare } from '../src/data/split.js';
import { loadDataset, writeDataset, type Dataset } from '../src/data/store.js';
import { buildIndexJob } from '../src/indexing/jobs.js';

const argv = process.argv.slice(2);

/** Value of `--name` on the command line, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
}

/** The p-th percentile (0-100) of `xs` (nearest rank below), rounded to 0.01. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
}

/** The demo's default synthetic data (2,000 items, 5,000 users, seed 42) and an rqkmeans:3x64 index. */
export interface SyntheticFixture {
  root: string;
  dataDir: string;
  indexDir: string;
  ds: Dataset;
}

/** Build the fixture in a temp directory, run `body`, and remove the directory. */
export async function withSyntheticFixture<T>(prefix: string, body: (f: SyntheticFixture) => Promise<T>): Promise<T> {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    const raw = synthesize({ items: 2000, users: 5000, seed: 42 });
    const dataDir = path.join(root, 'data');
    await writeDataset(dataDir, prepare(raw), { malformed: raw.malformed });
    const ds = await loadDataset(dataDir);
    const indexDir = path.join(root, 'index');
    await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:3x64', seed: 42, out: indexDir });
    return await body({ root, dataDir, indexDir, ds });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
