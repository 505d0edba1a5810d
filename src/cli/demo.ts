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
import { MarkovRanker, PopularityRanker, type Ranker } from '../eval/baselines.js';
import { evaluateRankers, recommenderRanker, type RankerReport, type RankersReport } from '../eval/evaluate.js';
import { buildIndexJob } from '../indexing/jobs.js';
import { trainKind, trainModel } from '../training/train.js';
import { tupleTokens } from '../serving/model/tokenizer.js';
import type { FusionChoice } from '../training/fusion.js';
import type { TransitionChoice } from '../training/transition-select.js';
import type { SeenChoice } from '../training/seen-select.js';
import { Recommender } from '../serving/recommender.js';
import { describeDataset, intOpt } from './common.js';
import { InputError } from '../errors.js';
import { stagedProgress, startProgress } from '../util/progress.js';

/** Transformer settings of the demo: small enough to train in about a minute on 2 cores (two single-threaded DDP ranks train faster than one process with two threads; see docs/generator.md). */
const DEMO_TRANSFORMER = { layers: 2, dModel: 64, heads: 2, batchSize: 32, lr: 3e-3, ...(os.cpus().length >= 2 ? { nproc: 2, threads: 1 } : {}) };

/** Fusion-weight selection of the demo: the default grid on 1,000 validation users. */
const DEMO_FUSION = { users: 1000 };

/** One line on the transition model's shape and the validation evidence for it. */
function describeShape(p: unknown): string {
  const sel = (p as { selection?: TransitionChoice } | undefined)?.selection;
  if (!sel) return '  transition model: shape fixed by the caller';
  const first = sel.grid[0];
  const best = sel.grid.find((g) => g.window === sel.window && g.history === sel.history && g.decay === sel.decay)!;
  return `  transition model: window ${sel.window}, last ${sel.history} item(s)${sel.history > 1 ? ` (decay ${sel.decay})` : ''}, chosen on ${sel.users} validation users (R@10 ${first.recall10.toFixed(3)} first order → ${best.recall10.toFixed(3)})`;
}

/** One line on the seen-item policy and the validation evidence for it. */
function describeSeen(p: unknown): string {
  const s = p as SeenChoice | undefined;
  if (!s?.keep) return '';
  return `\n  history items ${s.exclude ? 'excluded' : 'kept'} by default, chosen on ${s.users} validation users (R@10 kept ${s.keep.recall10.toFixed(3)}, excluded ${s.excluded.recall10.toFixed(3)}; ${(100 * s.repeatRate).toFixed(1)} % of targets repeat a history item)`;
}

/** The first-order Markov ranker (not ID-constrained), labelled for the table. */
function markovRanker(ds: { train: ConstructorParameters<typeof MarkovRanker>[0] }): Ranker {
  const m = new MarkovRanker(ds.train);
  return { name: 'Markov (unconstrained)', rank: (h, k) => m.rank(h, k) };
}

/** The demo's results table: the headline model first, then its parts and the baselines. */
function formatTable(r: RankersReport): string {
  const f = (x: number) => x.toFixed(4).padEnd(8);
  const line = (x: RankerReport, note = '') => `  ${x.name.padEnd(22)} ${f(x.metrics.recall[5])}${f(x.metrics.ndcg[5])}${f(x.metrics.recall[10])}${f(x.metrics.ndcg[10])}${f(x.metrics.coverage)}${note}`;
  return [
    `  ${''.padEnd(22)} R@5     N@5     R@10    N@10    cov@10`,
    ...r.rankers.map((x, i) => line(x, i === 0 ? `  ← ${x.throughput.toFixed(0)} req/s` : '')),
    `  ${r.users} test users, invalid-ID rate ${Math.max(...r.rankers.map((x) => x.invalidRate))} (every recommendation is a real item)`,
  ].join('\n');
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
    .option('--scheme <factory>', 'indexing scheme (default rqkmeans:3x64)', 'rqkmeans:3x64')
    .option('--epochs <n>', 'transformer training epochs (default 12)')
    .option('--embed <source>', 'item embeddings: text | cf | text+cf (default text+cf)', 'text+cf')
    .option('--arch <kind>', 'fused (transformer + transition model) | transition (the transition model only, seconds)', 'fused')
    .action(async (flags: { out: string; items?: string; users?: string; seed?: string; scheme: string; epochs?: string; arch: string; embed: string }) => {
      const kind = trainKind(flags.arch);
      if (kind !== 'fused' && kind !== 'transition') throw new InputError('--arch for the demo is fused or transition (the fused model also reports the transformer alone)');
      flags.arch = kind;
      if (!['text', 'cf', 'text+cf'].includes(flags.embed)) throw new InputError(`--embed must be text, cf or text+cf, got ${JSON.stringify(flags.embed)}`);
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

      const sequences = ds.train.map((s) => s.items);
      const embedName = { text: 'TF-IDF + SVD text', cf: 'collaborative (co-occurrence PPMI + SVD)', 'text+cf': 'TF-IDF + SVD text ++ collaborative (co-occurrence PPMI + SVD)' }[flags.embed];
      console.log(`\n[2/4] semantic IDs: ${embedName} item embeddings, ${flags.scheme} → ${indexDir}`);
      const progress = stagedProgress('  ');
      const { index } = await buildIndexJob({
        items: ds.items,
        sequences,
        embeddings: flags.embed === 'text' ? undefined : { kind: flags.embed as 'cf' | 'text+cf', sequences, seed: params.seed },
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

      const fused = flags.arch === 'fused';
      let rec: Recommender;
      if (fused) {
        const epochs = intOpt('--epochs', flags.epochs, 1) ?? 12;
        console.log(`\n[3/4] generator: transformer (2 layers, d_model 64, up to ${epochs} epochs; PyTorch → ONNX) fused with the transition model → ${modelDir}`);
        const train = stagedProgress('  ');
        const cfg = await trainModel({
          data: dataDir,
          index: indexDir,
          out: modelDir,
          arch: 'fused',
          fusion: DEMO_FUSION,
          onFusionProgress: (d, t) => train.cb('choosing the fusion weight on validation', d, t),
          onTransitionProgress: (d, t) => train.cb('choosing the transition shape on validation', d, t),
          onSeenProgress: (d, t) => train.cb('choosing the seen-item policy on validation', d, t),
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
        const fw = cfg.params.fusion as FusionChoice;
        console.log(`  transformer: best epoch ${String(cfg.params.bestEpoch)} of ${String(cfg.params.epochsRun)}, validation loss ${(cfg.params.validLoss as number).toFixed(3)}, ${(cfg.params.trainSeconds as number).toFixed(0)} s`);
        console.log(describeShape(cfg.params.transition));
        console.log(`  fusion weight of the transition model chosen on ${fw.users} validation users: ${fw.weight}  (R@10 by weight: ${fw.grid.map((g) => `${g.weight} → ${g.recall10.toFixed(3)}`).join(', ')})${describeSeen(cfg.params.seen)}`);
        rec = await Recommender.load(modelDir, indexDir);
      } else {
        console.log(`\n[3/4] generator: transition model over ID tuples → ${modelDir}`);
        const bcfg = await trainModel({ data: dataDir, index: indexDir, out: modelDir, arch: 'transition' });
        console.log(`  ${String(bcfg.params.transitions)} transitions`);
        console.log(describeShape(bcfg.params) + describeSeen(bcfg.params.seen));
        rec = await Recommender.load(modelDir, indexDir);
      }

      console.log(`\n[4/4] trie-constrained beam search (beam 20) on the test split, full-catalogue ranking`);
      // every model and baseline scored by the same code on the same users
      const parts = fused ? await Promise.all((['transformer', 'transition'] as const).map((part) => Recommender.load(modelDir, indexDir, { part }))) : [];
      const rankers: Ranker[] = [
        recommenderRanker(rec, { name: fused ? 'fused' : 'transition' }),
        ...parts.map((r) => recommenderRanker(r, { name: `${r.modelName} alone` })),
        new PopularityRanker(ds.train),
        markovRanker(ds),
      ];
      const p = startProgress('  evaluating', ds.test.length * rankers.length);
      const report = await evaluateRankers(rankers, ds, { onProgress: (d) => p.update(d) });
      p.stop();
      for (const r of parts) await r.close();
      console.log(formatTable(report));

      const title = new Map(ds.items.map((i) => [i.id, i.title]));
      console.log('\nexamples:');
      for (const e of ds.test.slice(0, 3)) {
        console.log(`  user ${e.user}`);
        for (const h of e.history.slice(-3)) console.log(`    bought   ${title.get(h)}`);
        console.log(`    next was ${title.get(e.target)}`);
        const r = await rec.recommend(e.history, { k: 3 });
        r.items.forEach((it, i) => console.log(`    rec #${i + 1}   ${title.get(it.itemId)}  ${tupleTokens(it.codes)}${it.itemId === e.target ? '  ← hit' : ''}`));
      }
      await rec.close();
      console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)}s. Outputs in ${flags.out}/ (data, index, model${fused ? ': the fused transformer + transition model' : ''}).`);
    });
}
