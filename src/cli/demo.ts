/**
 * `semrec demo`: the README's main job on the embedded default data. Today it runs
 * synthetic data → leave-one-out split → reference rankers evaluated on the test split, and shows
 * a few users' histories with recommendations by title. Indexing, training and constrained
 * decoding join this pipeline as they land (see docs/architecture.md).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { synthesize } from '../data/synth.js';
import { prepare } from '../data/split.js';
import { loadDataset, writeDataset } from '../data/store.js';
import { MarkovRanker, PopularityRanker, type Ranker } from '../eval/baselines.js';
import { MetricAccumulator } from '../eval/metrics.js';
import { describeDataset, intOpt } from './common.js';
import { startProgress } from '../util/progress.js';

function evaluate(r: Ranker, examples: { history: string[]; target: string }[], nItems: number) {
  const acc = new MetricAccumulator([5, 10], nItems);
  const p = startProgress(`evaluating ${r.name}`, examples.length);
  for (const e of examples) {
    acc.add(r.rank(e.history, 10), e.target);
    p.tick();
  }
  p.stop();
  return acc.result();
}

/** Register `semrec demo`. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the main job on the embedded synthetic data and print metrics and examples')
    .option('--out <dir>', 'working directory', 'semrec-demo')
    .option('--items <n>', 'number of items (default 2000)')
    .option('--users <n>', 'number of users (default 5000)')
    .option('--seed <n>', 'random seed (default 42)')
    .action(async (flags: { out: string; items?: string; users?: string; seed?: string }) => {
      const t0 = Date.now();
      const params = {
        items: intOpt('--items', flags.items, 10) ?? 2000,
        users: intOpt('--users', flags.users, 1) ?? 5000,
        seed: intOpt('--seed', flags.seed, 0) ?? 42,
        sequential: 0.5,
      };
      const dataDir = path.join(flags.out, 'data');
      console.log(`[1/2] synthetic data (${params.items} items, ${params.users} users, seed ${params.seed}) → ${dataDir}`);
      const raw = synthesize(params);
      await writeDataset(dataDir, prepare(raw), { malformed: raw.malformed, params });
      const ds = await loadDataset(dataDir);
      console.log(describeDataset(dataDir, ds.meta));

      console.log(`\n[2/2] reference rankers on the test split (${ds.test.length} users, full-catalogue ranking)`);
      const rankers: Ranker[] = [new PopularityRanker(ds.train), new MarkovRanker(ds.train)];
      const rows = rankers.map((r) => ({ name: r.name, m: evaluate(r, ds.test, ds.items.length) }));
      console.log('  ranker       R@5     N@5     R@10    N@10    cov@10');
      for (const { name, m } of rows) {
        const f = (x: number) => x.toFixed(4).padEnd(8);
        console.log(`  ${name.padEnd(12)} ${f(m.recall[5])}${f(m.ndcg[5])}${f(m.recall[10])}${f(m.ndcg[10])}${f(m.coverage)}`);
      }

      const title = new Map(ds.items.map((i) => [i.id, i.title]));
      const markov = rankers[1];
      console.log('\nexamples (markov ranker):');
      for (const e of ds.test.slice(0, 3)) {
        console.log(`  user ${e.user}`);
        for (const h of e.history.slice(-4)) console.log(`    bought   ${title.get(h)}`);
        console.log(`    next was ${title.get(e.target)}`);
        for (const [i, r] of markov.rank(e.history, 3).entries()) console.log(`    rec #${i + 1}   ${title.get(r)}${r === e.target ? '   ← hit' : ''}`);
      }
      console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)}s. Semantic-ID indexing, the generator and constrained decoding are being added (see README "Status").`);
    });
}
