/**
 * bench/train — training throughput of the default transformer (4 layers, d_model 128, 4 heads,
 * ff 512) on CPU, on the embedded synthetic data (2,000 items, 5,000 users, rqkmeans:3x64 + an
 * extra level). Runs the real trainer (`python3 -m trainer train`) for a fixed number of steps:
 * one process with 2 threads, and, as the same-run reference, a 2-process gloo DDP run with one
 * thread each. Prints one JSON line (tokens/s of each, and their ratio).
 *
 *   npx tsx bench/train.ts [--steps 60] [--batch-size 64]
 */
import path from 'node:path';
import { trainModel } from '../src/train.js';
import { arg, withSyntheticFixture } from './fixture.js';

const steps = Number(arg('steps', '60'));
const batchSize = Number(arg('batch-size', '64'));

await withSyntheticFixture('semrec-bench-train-', async ({ root, dataDir, indexDir, ds }) => {
  /** Tokens/s over the first epoch (the trainer reports it cumulatively within an epoch). */
  async function run(name: string, nproc: number, threads: number) {
    let rate = 0;
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
          if (e.event === 'progress' && e.epoch === 1) rate = e.tokens_per_s as number;
        },
      },
    });
    return { tokensPerSec: Math.round(rate), nproc, threads, wallSeconds: (Date.now() - t0) / 1000 };
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
});
