/**
 * `semrec demo`: the README's main job on the embedded default data —
 * synthetic data → leave-one-out split → semantic-ID index (TF-IDF item embeddings + RQ-KMeans)
 * → generator (the transition model over ID tuples in this build) → trie-constrained beam search
 * on the test split, with metrics next to the popularity and Markov baselines, and a few users'
 * histories with their recommendations by title.
 */
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
import { formatReport } from './serve.js';
import { stagedProgress, startProgress } from '../util/progress.js';

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
    .action(async (flags: { out: string; items?: string; users?: string; seed?: string; scheme: string }) => {
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

      console.log(`\n[3/4] generator: transition model over ID tuples → ${modelDir}`);
      const cfg = await trainModel({ data: dataDir, index: indexDir, out: modelDir, arch: 'bigram' });
      console.log(`  ${cfg.params.transitions} transitions from ${cfg.params.trainSequences} training sequences`);

      console.log(`\n[4/4] trie-constrained beam search (beam 20) on the test split, full-catalogue ranking`);
      const rec = await Recommender.load(modelDir, indexDir);
      const p = startProgress('  evaluating', ds.test.length);
      const report = await evaluateRecommender(rec, ds, { onProgress: (d) => p.update(d) });
      p.stop();
      console.log(formatReport(report, 'generator'));
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
      console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)}s. Outputs in ${flags.out}/. (The transformer generator arrives with the trainer; see README "Status".)`);
    });
}
