/**
 * bench/train — training throughput of the default transformer (4 layers, d_model 128, 4 heads,
 * ff 512) on CPU, on the embedded synthetic data (2,000 items, 5,000 users, rqkmeans:3x64 + an
 * extra level). Runs the real trainer (`python3 -m trainer train`) for a fixed number of steps:
 * one process with 2 threads, and, as the same-run reference, a 2-process gloo DDP run with one
 * thread each. Prints one JSON line (tokens/s of each, and their ratio).
 *
 *   npx tsx bench/train.ts [--steps 60] [--batch-size 64]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { synthesize } from '../src/data/synth.js';
import { prepare } from '../src/data/split.js';
import { loadDataset, writeDataset } from '../src/data/store.js';
import { buildIndexJob } from '../src/indexing.js';
import { trainModel } from '../src/train.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const steps = Number(arg('steps', '60'));
const batchSize = Number(arg('batch-size', '64'));

const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-bench-train-'));
try {
  const raw = synthesize({ items: 2000, users: 5000, seed: 42 });
  const dataDir = path.join(root, 'data');
  await writeDataset(dataDir, prepare(raw), { malformed: raw.malformed });
  const ds = await loadDataset(dataDir);
  const indexDir = path.join(root, 'index');
  await buildIndexJob({ items: ds.items, scheme: 'rqkmeans:3x64', seed: 42, out: indexDir });

  /** Tokens/s over the first epoch (the trainer reports it cumulatively within an epoch). */
  async function run(name: string, nproc: number, threads: number) {
    const rates: number[] = [];
    const t0 = Date.now();
    await trainModel({
      data: dataDir,
      index: indexDir,
      out: path.join(root, name),
      arch: 'decoder',
      decoder: {
        epochs: 1000,
        maxSteps: steps,
        batchSize,
        nproc,
        threads,
        onEvent: (e) => {
          if (e.event === 'progress' && e.epoch === 1) rates.push(e.tokens_per_s as number);
        },
      },
    });
    const last = rates.at(-1) ?? 0;
    return { tokensPerSec: Math.round(last), nproc, threads, wallSeconds: (Date.now() - t0) / 1000 };
  }

  const single = await run('one', 1, 2);
  const ddp = await run('ddp', 2, 1);
  console.log(
    JSON.stringify({
      bench: 'train',
      model: { layers: 4, dModel: 128, heads: 4, dFF: 512 },
      data: { items: ds.items.length, trainSequences: ds.train.length },
      steps,
      batchSize,
      single,
      ddp2gloo: ddp,
      ddpOverSingle: +(ddp.tokensPerSec / single.tokensPerSec).toFixed(3),
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
