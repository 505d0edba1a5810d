/**
 * `semrec demo`: the README's main job on the embedded default data —
 * synthetic data → leave-one-out split → semantic-ID index (TF-IDF item embeddings + RQ-KMeans)
 * → generator (a small transformer trained by the PyTorch trainer, served through onnxruntime)
 * → trie-constrained beam search on the test split, with metrics next to the transition model over
 * the same IDs and the popularity and Markov baselines, and a few users' histories with their
 * recommendations by title.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { synthesize } from '../data/synth.js';
import { prepare } from '../data/split.js';
import { loadDataset, writeDataset } from '../data/store.js';
import { MarkovRanker } from '../eval/baselines.js';
import { MetricAccumulator } from '../eval/metrics.js';
import { evaluateRecommender } from '../eval/evaluate.js';
import { buildIndexJob } from '../indexing.js';
import { trainModel } from '../train.js';
import { Recommender } from '../recommender.js';
import { describeDataset, intOpt } from './common.js';
import { InputError } from '../errors.js';
import { formatReport } from './serve.js';
import { stagedProgress, startProgress } from '../util/progress.js';

/** Transformer settings of the demo: small enough to train in about a minute on 2 cores (two single-threaded DDP ranks train faster than one process with two threads; see docs/generator.md). */
export const DEMO_TRANSFORMER = { layers: 2, dModel: 64, heads: 2, batchSize: 32, lr: 3e-3, ...(os.cpus().length >= 2 ? { nproc: 2, threads: 1 } : {}) };

/** Register `semrec demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job on the embedded synthetic data and print metrics and examples')
    .option('--out <dir>', 'working directory', 'semrec-demo')
    .option('--items <n>', 'number of items (default 2000)')
    .option('--users <n>', 'number of users (default 5000)')
    .option('--seed <n>', 'random seed (default 42)')
    .option('--scheme <factory>', 'indexing scheme (default rqkmeans:3x64)', 'rqkmeans:3x64')
    .option('--epochs <n>', 'transformer training epochs (default 12)')
    .option('--arch <name>', 'generator: decoder (transformer) | bigram (transition model only)', 'decoder')
    .action(async (flags: { out: string; items?: string; users?: string; seed?: string; scheme: string; epochs?: string; arch: string }) => {
      if (flags.arch !== 'decoder' && flags.arch !== 'bigram') throw new InputError(`--arch must be decoder or bigram, got ${JSON.stringify(flags.arch)}`);
      const t0 = Date.now();
      const params = {
        items: intOpt('--items', flags.items, 10) ?? 2000,
        users: intOpt('--users', flags.users, 1) ?? 5000,
        seed: intOpt('--seed', flags.seed, 0) ?? 42,
        sequential: 0.5,
      };
      const dataDir = path.join(flags.out, 'data');
      const indexDir = path.join(flags.out, 'index');
      const modelDir = path.join(flags.out, 'model');

      console.log(`[1/4] synthetic data (${params.items} items, ${params.users} users, seed ${params.seed}) → ${dataDir}`);
      const raw = synthesize(params);
      await writeDataset(dataDir, prepare(raw), { malformed: raw.malformed, params });
      const ds = await loadDataset(dataDir);
      console.log(describeDataset(dataDir, ds.meta));

      console.log(`\n[2/4] semantic IDs: TF-IDF + SVD item embeddings, ${flags.scheme} → ${indexDir}`);
      const progress = stagedProgress('  ');
      const { index } = await buildIndexJob({
        items: ds.items,
        sequences: ds.train.map((s) => s.items),
        scheme: flags.scheme,
        seed: params.seed,
        out: indexDir,
        onProgress: progress.cb,
      });
      progress.stop();
      const st = index.stats();
      console.log(
        `  ${st.items} items → tuples of ${st.levels} codes [${st.codebookSizes.join(', ')}]; ${st.collisionsResolved} collisions resolved (largest group ${st.maxGroup}); ` +
          `utilisation ${st.perLevel.map((l) => l.utilisation.toFixed(2)).join(' / ')}`,
      );

      const bigramDir = path.join(flags.out, 'model-transition');
      const transformer = flags.arch === 'decoder';
      if (transformer) {
        const epochs = intOpt('--epochs', flags.epochs, 1) ?? 12;
        console.log(`\n[3/4] generator: transformer (2 layers, d_model 64, ${epochs} epochs; PyTorch → ONNX) → ${modelDir}`);
        const train = stagedProgress('  ');
        const cfg = await trainModel({
          data: dataDir,
          index: indexDir,
          out: modelDir,
          arch: 'decoder',
          decoder: {
            ...DEMO_TRANSFORMER,
            epochs,
            seed: params.seed,
            onEvent: (e) => {
              if (e.event === 'progress') train.cb(`epoch ${e.epoch as number}/${epochs}`, e.step as number, e.steps as number, `loss ${(e.loss as number).toFixed(3)} · ${Math.round(e.tokens_per_s as number)} tok/s`);
            },
          },
        });
        train.stop();
        console.log(`  best epoch ${String(cfg.params.bestEpoch)}, validation loss ${(cfg.params.validLoss as number).toFixed(3)}, ${(cfg.params.trainSeconds as number).toFixed(0)} s`);
      } else {
        console.log(`\n[3/4] generator: transition model over ID tuples → ${bigramDir}`);
      }
      const bcfg = await trainModel({ data: dataDir, index: indexDir, out: bigramDir, arch: 'bigram' });
      console.log(`  reference: transition model over the same IDs (${String(bcfg.params.transitions)} transitions) → ${bigramDir}`);

      console.log(`\n[4/4] trie-constrained beam search (beam 20) on the test split, full-catalogue ranking`);
      const bigram = await Recommender.load(bigramDir, indexDir);
      const rec = transformer ? await Recommender.load(modelDir, indexDir) : bigram;
      if (transformer) {
        const p = startProgress('  evaluating transformer', ds.test.length);
        const report = await evaluateRecommender(rec, ds, { onProgress: (d) => p.update(d) });
        p.stop();
        console.log(formatReport(report, 'transformer'));
      }
      const bp = startProgress('  evaluating transition model', ds.test.length);
      const breport = await evaluateRecommender(bigram, ds, { onProgress: (d) => bp.update(d) });
      bp.stop();
      console.log(formatReport(breport, 'transition'));
      const markov = new MarkovRanker(ds.train);
      const acc = new MetricAccumulator([5, 10], ds.items.length);
      for (const e of ds.test) acc.add(markov.rank(e.history, 10), e.target);
      const m = acc.result();
      console.log(`  (first-order Markov ranker, not ID-constrained: R@10 ${m.recall[10].toFixed(4)}, N@10 ${m.ndcg[10].toFixed(4)})`);

      const title = new Map(ds.items.map((i) => [i.id, i.title]));
      console.log('\nexamples:');
      for (const e of ds.test.slice(0, 3)) {
        console.log(`  user ${e.user}`);
        for (const h of e.history.slice(-3)) console.log(`    bought   ${title.get(h)}`);
        console.log(`    next was ${title.get(e.target)}`);
        const r = await rec.recommend(e.history, { k: 3 });
        r.items.forEach((it, i) => console.log(`    rec #${i + 1}   ${title.get(it.itemId)}  ${rec.layout.tokens(it.codes).map((t, l) => `<${String.fromCharCode(97 + l)}_${t - rec.layout.offsets[l]}>`).join('')}${it.itemId === e.target ? '  ← hit' : ''}`));
      }
      console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)}s. Outputs in ${flags.out}/ (data, index, ${transformer ? 'model (transformer), ' : ''}model-transition).`);
    });
}
