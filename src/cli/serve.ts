/** `semrec train`, `semrec recommend`, `semrec eval`. */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../data/store.js';
import { readCatalogue } from '../data/items.js';
import { evaluateRecommender, type EvalReport } from '../eval/evaluate.js';
import { InputError } from '../errors.js';
import { Recommender } from '../recommender.js';
import { trainModel } from '../train.js';
import { exportHfModel } from '../models/hf-export.js';
import { startProgress } from '../util/progress.js';
import { decoderOptions, floatOpt, gridOpt, intOpt } from './common.js';
import { parsePart } from '../models/kinds.js';
import type { LoadOptions } from '../recommender.js';

/** `--part` / `--fusion-weight` / `--threads` as Recommender load options. */
function loadOptions(flags: { part?: string; fusionWeight?: string }): LoadOptions {
  return { part: parsePart(flags.part), fusionWeight: floatOpt('--fusion-weight', flags.fusionWeight, 0, 1) };
}

/** id → title from the model's dataset (or an explicit items file / dataset dir), if readable. */
async function titles(rec: Recommender, itemsPath?: string): Promise<Map<string, string>> {
  const src = itemsPath ?? rec.config.dataDir;
  if (!src) return new Map();
  try {
    await fs.access(src);
    const cat = await readCatalogue(src);
    return new Map(cat.items.map((i) => [i.id, i.title]));
  } catch (err) {
    if (itemsPath) throw err;
    return new Map();
  }
}

/** Human-readable metrics table of an evaluation report. */
export function formatReport(r: EvalReport, label = 'model'): string {
  const f = (x: number) => x.toFixed(4).padEnd(8);
  const w = Math.max(12, label.length + 1);
  const row = (name: string, m: EvalReport['model']) => `  ${name.padEnd(w)} ${f(m.recall[5])}${f(m.ndcg[5])}${f(m.recall[10])}${f(m.ndcg[10])}${f(m.coverage)}`;
  return [
    `  ${''.padEnd(w)} R@5     N@5     R@10    N@10    cov@10`,
    row(label, r.model),
    row('popularity', r.popularity),
    `  ${r.users < r.ofUsers ? `${r.users} of ${r.ofUsers} users (seeded random sample, seed ${r.sampleSeed})` : `${r.users} users`} (${r.split}), invalid-ID rate ${r.invalidRate}, latency p50 ${r.latencyMs.p50.toFixed(1)} ms / p99 ${r.latencyMs.p99.toFixed(1)} ms (batched), ${r.throughput.toFixed(0)} req/s`,
  ].join('\n');
}

/** Register train / recommend / eval. */
export function registerServe(program: Command): void {
  program
    .command('train')
    .description('train the generator on a dataset under an index: the transformer (PyTorch trainer → ONNX) fused with the transition model, the weight chosen on validation')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--index <dir>', 'index directory')
    .requiredOption('--out <dir>', 'output model directory (written atomically)')
    .option('--arch <kind>', 'fused (transformer + transition model, weight chosen on validation) | transformer | transition (aliases: decoder, bigram)', 'fused')
    .option('--layers <n>', 'transformer layers (default 4)')
    .option('--d-model <n>', 'model width (default 128)')
    .option('--heads <n>', 'attention heads (default 4)')
    .option('--d-ff <n>', 'feed-forward width (default 4 × d-model)')
    .option('--dropout <p>', 'dropout (default 0.2)')
    .option('--epochs <n>', 'epoch cap (default 200; the schedule decides when to stop)')
    .option('--patience <n>', 'epochs without validation improvement before the decay starts (wsd) or training stops (cosine) (default 3)')
    .option('--batch-size <n>', 'sequences per batch (default 256; the global batch under DDP)')
    .option('--lr <x>', 'peak learning rate (default 3e-3)')
    .option('--schedule <name>', 'wsd (warmup, peak rate until validation is flat, then linear decay; default) | cosine (over --epochs)')
    .option('--time-budget <minutes>', 'stop training within this wall-clock budget (wsd decays in time)')
    .option('--valid-sample <n>', 'validation examples scored each epoch (seeded random sample; default 5000, 0 = all)')
    .option('--fusion-grid <list>', 'transition weights tried on validation (default 0,0.1,0.2,0.3,0.4,0.5,0.7,1)')
    .option('--fusion-users <n>', 'validation users the weight is chosen on (seeded random sample; default 2000)')
    .option('--seed <n>', 'random seed (default 0)')
    .option('--device <name>', 'cpu | cuda | cuda:N (default cpu)')
    .option('--nproc <n>', 'train with N processes (DDP; gloo on CPU; default: one per core on CPU, 1 on CUDA)')
    .option('--threads <n>', 'PyTorch threads per process (default: cores ÷ processes)')
    .option('--max-history <n>', 'history items kept in prompts (default: the dataset split setting)')
    .action(async (flags: Record<string, string | undefined>) => {
      const t0 = Date.now();
      let bar: ReturnType<typeof startProgress> | undefined;
      let epoch = 0;
      let fbar: ReturnType<typeof startProgress> | undefined;
      const cfg = await trainModel({
        data: flags.data!,
        index: flags.index!,
        out: flags.out!,
        arch: flags.arch,
        maxHistory: intOpt('--max-history', flags.maxHistory, 1),
        fusion: { grid: gridOpt(flags.fusionGrid), users: intOpt('--fusion-users', flags.fusionUsers, 1) },
        onFusionProgress: (d, t) => {
          fbar ??= startProgress('choosing the fusion weight on validation', t, ' requests');
          fbar.update(d);
        },
        decoder: {
          ...decoderOptions(flags),
          onEvent: (e) => {
            if (e.event === 'progress') {
              if (e.epoch !== epoch) {
                bar?.stop();
                epoch = e.epoch as number;
                bar = startProgress(`epoch ${epoch}/${e.epochs}`, e.steps as number, ' steps');
              }
              bar?.update(e.step as number, `loss ${(e.loss as number).toFixed(3)} · ${Math.round(e.tokens_per_s as number)} tok/s`);
            } else if (e.event === 'epoch') {
              bar?.stop();
              bar = undefined;
              epoch = 0;
              process.stderr.write(
                `  epoch ${e.epoch}: train loss ${(e.train_loss as number).toFixed(4)}, valid loss ${(e.valid_loss as number).toFixed(4)}${e.best ? ' (best)' : ''} · ${e.phase} lr ${(e.lr as number).toExponential(2)} · ${Math.round(e.seconds as number)} s, ${Math.round(e.tokens_per_s as number)} real tok/s\n`,
              );
            } else if (e.event === 'decay') {
              process.stderr.write(`  decay starts after epoch ${e.epoch} (${e.reason}): ${e.decay_epochs} more epoch(s)\n`);
            }
          },
        },
      });
      bar?.stop();
      fbar?.stop();
      const fusion = cfg.params.fusion as { weight: number; grid: { weight: number; recall10: number; ndcg10: number }[]; users: number } | undefined;
      if (fusion) {
        process.stderr.write(`  fusion weight on ${fusion.users} validation users (transition weight: R@10 / N@10):\n`);
        for (const g of fusion.grid) process.stderr.write(`    ${g.weight.toFixed(2)}: ${g.recall10.toFixed(4)} / ${g.ndcg10.toFixed(4)}${g.weight === fusion.weight ? '  ← chosen' : ''}\n`);
      }
      console.log(JSON.stringify({ out: flags.out, architecture: cfg.architecture, indexHash: cfg.indexHash, seconds: (Date.now() - t0) / 1000, ...cfg.params }));
    });

  program
    .command('export-hf')
    .description('export a transformer model in the Hugging Face / Optimum layout (GPT-2 names, ID tokens as added tokens, prompt template)')
    .requiredOption('--model <dir>', 'semrec transformer model directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--template <text>', 'prompt template around the history ({history})', '<|endoftext|>{history}')
    .option('--separator <text>', 'text between history items', '')
    .option('--words <list>', 'extra comma-separated words for the text vocabulary')
    .action(async (flags: { model: string; out: string; template: string; separator: string; words?: string }) => {
      const t0 = Date.now();
      const serving = await exportHfModel(flags.model, flags.out, { promptTemplate: flags.template, itemSeparator: flags.separator, words: flags.words?.split(',').filter(Boolean) });
      console.log(JSON.stringify({ out: flags.out, seconds: (Date.now() - t0) / 1000, ...serving }));
    });

  program
    .command('recommend')
    .description('recommend next items for a history (every result is a real item)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--index <dir>', 'index directory (default: the one the model was trained on)')
    .requiredOption('--history <ids>', 'comma-separated item ids, oldest first')
    .option('-k, --k <n>', 'number of results', '10')
    .option('--beam <n>', 'beam width (default max(k, 20))')
    .option('--exclude-seen', 'never recommend history items')
    .option('--items <path>', 'items.jsonl or dataset directory for titles (default: the training dataset)')
    .option('--part <kind>', 'serve one part of a fused model: transformer | transition (default: fused)')
    .option('--fusion-weight <w>', "override a fused model's transition weight (0..1)")
    .option('--json', 'machine-readable output')
    .action(async (flags: { model: string; index?: string; history: string; k: string; beam?: string; excludeSeen?: boolean; items?: string; json?: boolean; part?: string; fusionWeight?: string }) => {
      const rec = await Recommender.load(flags.model, flags.index, loadOptions(flags));
      const history = flags.history.split(',').map((s) => s.trim()).filter(Boolean);
      if (!history.length) throw new InputError('--history is empty');
      const res = await rec.recommend(history, { k: intOpt('-k', flags.k, 1), beamWidth: intOpt('--beam', flags.beam, 1), excludeSeen: !!flags.excludeSeen });
      const t = await titles(rec, flags.items);
      if (flags.json) {
        console.log(JSON.stringify({ ...res, items: res.items.map((i) => ({ ...i, title: t.get(i.itemId) })) }));
        return;
      }
      if (res.skipped.length) console.log(`skipped (not in the index): ${res.skipped.join(', ')}`);
      res.items.forEach((i, n) => console.log(`${String(n + 1).padStart(3)}. ${i.itemId.padEnd(12)} ${i.score.toFixed(3).padStart(8)}  [${i.codes.join(',')}]  ${t.get(i.itemId) ?? ''}`));
    });

  program
    .command('eval')
    .description('evaluate a model on the leave-one-out split: Recall/NDCG@5/10, invalid rate, coverage, latency, vs popularity')
    .requiredOption('--model <dir>', 'model directory')
    .option('--index <dir>', 'index directory (default: the one the model was trained on)')
    .requiredOption('--data <dir>', 'dataset directory')
    .option('--split <name>', 'test | valid', 'test')
    .option('--beam <n>', 'beam width (default 20)')
    .option('--limit <n>', 'evaluate a seeded random sample of N users (printed as such)')
    .option('--sample-seed <n>', 'seed of the --limit sample (default 0)')
    .option('--part <kind>', 'evaluate one part of a fused model: transformer | transition (default: fused)')
    .option('--fusion-weight <w>', "override a fused model's transition weight (0..1)")
    .option('--json', 'print the report as JSON')
    .action(async (flags: { model: string; index?: string; data: string; split: string; beam?: string; limit?: string; sampleSeed?: string; json?: boolean; part?: string; fusionWeight?: string }) => {
      if (flags.split !== 'test' && flags.split !== 'valid') throw new InputError(`--split must be test or valid, got ${JSON.stringify(flags.split)}`);
      const [rec, ds] = await Promise.all([Recommender.load(flags.model, flags.index, loadOptions(flags)), loadDataset(flags.data)]);
      const limit = intOpt('--limit', flags.limit, 1);
      const sampleSeed = intOpt('--sample-seed', flags.sampleSeed, 0) ?? 0;
      const all = (flags.split === 'test' ? ds.test : ds.valid).length;
      const total = Math.min(all, limit ?? Infinity);
      const p = startProgress(total < all ? `evaluating (${flags.split}, seeded random sample of ${total} of ${all} users, seed ${sampleSeed})` : `evaluating (${flags.split})`, total);
      const report = await evaluateRecommender(rec, ds, { split: flags.split, beamWidth: intOpt('--beam', flags.beam, 1), limit, sampleSeed, onProgress: (d) => p.update(d) });
      p.stop();
      await rec.close();
      console.log(flags.json ? JSON.stringify({ modelDir: path.resolve(flags.model), modelName: rec.modelName, ...report }) : formatReport(report, rec.modelName));
    });
}
