/**
 * bench/train — the cost of a training epoch against the dense bare loop, in the same run.
 *
 * 1. The real trainer with the default recipe and parallelism (on CPU: one single-threaded DDP
 *    rank per core), for `--epochs` epochs: real (non-padding) training tokens per wall-clock
 *    second of each epoch, validation included (the trainer's epoch events).
 * 2. The dense bare loop (`python3 -m trainer bare`): the same model and optimiser on random
 *    fixed-length batches — no padding, no data pipeline, no validation — in one process using
 *    every core, at the data's mean window length.
 *
 * Prints one JSON line with both and their ratio (the goal: ≥ 0.8). Default data: the embedded
 * synthetic catalogue; `--data DIR --index DIR` measures a real dataset (e.g. Beauty).
 *
 * `--block gpt2` measures the GPT-2 block instead of the Llama-family one (trainer/llm.py, the
 * default), at the same sizes.
 *
 *   npx tsx bench/train.ts [--epochs 3] [--block gpt2|llm] [--data DIR --index DIR]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, type Dataset } from '../src/data/store.js';
import { loadIndex } from '../quantizer/index.js';
import { runTrainer } from '../src/training/python.js';
import { trainModel } from '../src/training/train.js';
import { arg, withSyntheticFixture } from './fixture.js';

const epochs = Number(arg('epochs', '3'));
const dataArg = arg('data', '');
const indexArg = arg('index', '');
const block = arg('block', 'llm') as 'gpt2' | 'llm';

async function measure(root: string, dataDir: string, indexDir: string, ds: Dataset) {
  const index = await loadIndex(indexDir);
  const L = index.levels;
  const H = ds.meta.split.maxHistory;
  // mean real tokens per training window (BOS + up to H + 1 items), what the bare loop is given
  let tok = 0;
  let windows = 0;
  for (const s of ds.train) {
    for (let e = s.items.length; e > 1; ) {
      const st = Math.max(0, e - (H + 1));
      tok += (e - st) * L;
      windows++;
      e = st + 1;
    }
  }
  const seqLen = Math.max(2, Math.round(tok / Math.max(1, windows)));
  const perEpoch: { epoch: number; seconds: number; realTokensPerSec: number }[] = [];
  const modelDir = path.join(root, 'model');
  const t0 = Date.now();
  const cfg = await trainModel({
    data: dataDir,
    index: indexDir,
    out: modelDir,
    arch: 'transformer',
    decoder: {
      block,
      epochs,
      onEvent: (e) => {
        if (e.event === 'epoch') perEpoch.push({ epoch: e.epoch as number, seconds: +(e.seconds as number).toFixed(1), realTokensPerSec: Math.round(e.tokens_per_s as number) });
      },
    },
  });
  const wall = (Date.now() - t0) / 1000;
  const trainerCfg = JSON.parse(readFileSync(path.join(modelDir, 'trainer.json'), 'utf8'));
  const bareCfg = path.join(root, 'bare.json');
  const cores = os.availableParallelism();
  writeFileSync(bareCfg, JSON.stringify({ ...trainerCfg, threads: cores }));
  const ev = await runTrainer(['bare', '--config', bareCfg, '--steps', '30', '--seq-len', String(seqLen)], () => {}, { threads: cores });
  const bare = ev.find((e) => e.event === 'bare')!;
  const steady = perEpoch.slice(1).length ? perEpoch.slice(1) : perEpoch;
  const trainerRate = steady.reduce((a, e) => a + e.realTokensPerSec, 0) / steady.length;
  return {
    bench: 'train',
    data: { dir: dataDir, items: ds.items.length, trainSequences: ds.train.length, meanWindowTokens: seqLen },
    model: { block, layers: cfg.params.layers, dModel: cfg.params.dModel, heads: cfg.params.heads, batchSize: (cfg.params.trainer as { batch_size: number }).batch_size },
    trainer: { nproc: cfg.params.nproc, threads: cfg.params.threads, epochs: perEpoch, steadyRealTokensPerSec: Math.round(trainerRate), wallSeconds: wall },
    bareLoop: { processes: 1, threads: cores, tokensPerSec: Math.round(bare.tokens_per_s as number), seqLen },
    trainerOverBare: +(trainerRate / (bare.tokens_per_s as number)).toFixed(3),
  };
}

if (dataArg && indexArg) {
  const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-bench-train-'));
  try {
    console.log(JSON.stringify(await measure(root, dataArg, indexArg, await loadDataset(dataArg))));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
} else {
  await withSyntheticFixture('semrec-bench-train-', async ({ root, dataDir, indexDir, ds }) => {
    console.log(JSON.stringify(await measure(root, dataDir, indexDir, ds)));
  });
}
