/** `semrec recommend` and `semrec eval`. */
import type { Command } from 'commander';
import path from 'node:path';
import { datasetFingerprint, loadDataset } from '../data/store.js';
import { mergeEvalShards, parseShard, readEvalShard } from '../eval/shard.js';
import { readCatalogue } from '../data/items.js';
import { evaluateRecommender, type EvalReport } from '../eval/evaluate.js';
import { InputError } from '../errors.js';
import { MAX_BEAM, MAX_K, Recommender, type LoadOptions } from '../serving/recommender.js';
import { parsePart } from '../serving/model/kinds.js';
import { startProgress } from '../util/progress.js';
import { MAX_LIST_FILE_BYTES } from '../util/io.js';
import { readRegularText } from '../../quantizer/core/index.js';
import { floatOpt, intOpt, reportMalformed } from './common.js';

/** `--seen exclude|keep` (undefined: the model's policy). */
function seenOpt(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v !== 'exclude' && v !== 'keep') throw new InputError(`--seen must be exclude or keep, got ${JSON.stringify(v)}`, { param: 'seen' });
  return v === 'exclude';
}

/** Help text of `--seen`. */
export const SEEN_HELP = "history items: exclude | keep (default: the model's policy, chosen on validation at training time)";

/** `--part` / `--fusion-weight` / `--threads` / `--seen` as Recommender load options. */
export function loadOptions(flags: { part?: string; fusionWeight?: string; threads?: string; seen?: string }): LoadOptions {
  return { part: parsePart(flags.part), fusionWeight: floatOpt('--fusion-weight', flags.fusionWeight, 0, 1), threads: intOpt('--threads', flags.threads, 1), excludeSeen: seenOpt(flags.seen) };
}

/** id → title from the model's dataset (or an explicit items file / dataset dir), if readable. */
async function titles(rec: Recommender, itemsPath?: string): Promise<Map<string, string>> {
  const src = itemsPath ?? rec.config.dataDir;
  if (!src) return new Map();
  try {
    const cat = await readCatalogue(src);
    if (itemsPath) reportMalformed(itemsPath, cat.malformed, false); // skipped lines are said, not dropped silently
    return new Map(cat.items.map((i) => [i.id, i.title]));
  } catch (err) {
    if (itemsPath) throw err; // asked for: a missing or bad file is an error (E_NOT_FOUND / E_FORMAT)
    return new Map(); // the training dataset is only a default source of titles
  }
}

/** Human-readable metrics table of an evaluation report. */
function formatReport(r: EvalReport, label = 'model'): string {
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

/** Item ids from `--history a,b,c`, `--history -` (stdin) or `--history-file FILE`. */
async function readHistory(flags: { history?: string; historyFile?: string }): Promise<string[]> {
  if ((flags.history === undefined) === (flags.historyFile === undefined)) throw new InputError('give exactly one of --history or --history-file');
  let text: string;
  if (flags.historyFile !== undefined) {
    text = await readRegularText(flags.historyFile, { what: 'history file', maxBytes: MAX_LIST_FILE_BYTES });
  } else if (flags.history === '-') {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const c of process.stdin) {
      bytes += (c as Buffer).length;
      if (bytes > MAX_LIST_FILE_BYTES) throw new InputError(`--history - (stdin) is longer than ${MAX_LIST_FILE_BYTES} bytes`);
      chunks.push(c as Buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    // onnxruntime-node crashes (SIGSEGV) creating a session in a process whose command line is
    // ≥ ~32 KB; long histories come through a file or stdin instead
    if (flags.history!.length > 16_000) throw new InputError(`--history is ${flags.history!.length} characters long: pass long histories with --history-file FILE or --history - (stdin)`);
    text = flags.history!;
  }
  const ids = text
    .replace(/^\uFEFF/, '')
    .split(/[,\n\r]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (!ids.length) throw new InputError(flags.historyFile !== undefined ? `${flags.historyFile} holds no item ids` : '--history is empty');
  return ids;
}

/** Register recommend / eval. */
export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description('recommend next items for a history (every result is a real item)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--index <dir>', 'index directory (default: the one the model was trained on)')
    .option('--history <ids>', "comma-separated item ids, oldest first ('-': read them from stdin)")
    .option('--history-file <file>', 'item ids, oldest first, one per line or comma-separated (for long histories)')
    .option('-k, --k <n>', 'number of results', '10')
    .option('--beam <n>', 'beam width (default max(k, 20))')
    .option('--seen <policy>', SEEN_HELP)
    .option('--exclude-seen', 'never recommend history items (= --seen exclude)')
    .option('--items <path>', 'items.jsonl or dataset directory for titles (default: the training dataset)')
    .option('--part <kind>', 'serve one part of a fused model: transformer | transition (default: fused)')
    .option('--fusion-weight <w>', "override a fused model's transition weight (0..1)")
    .option('--json', 'machine-readable output')
    .action(async (flags: { model: string; index?: string; history?: string; historyFile?: string; k: string; beam?: string; excludeSeen?: boolean; seen?: string; items?: string; json?: boolean; part?: string; fusionWeight?: string }) => {
      const history = await readHistory(flags);
      if (flags.excludeSeen && flags.seen === 'keep') throw new InputError('--exclude-seen and --seen keep contradict each other');
      // one request: a warm-up would only delay it (eval and serve keep theirs: they time many)
      const rec = await Recommender.load(flags.model, flags.index, { ...loadOptions({ ...flags, seen: flags.excludeSeen ? 'exclude' : flags.seen }), warmup: 0 });
      const res = await rec.recommend(history, { k: intOpt('-k', flags.k, 1, MAX_K), beamWidth: intOpt('--beam', flags.beam, 1, MAX_BEAM) });
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
    .option('--seen <policy>', SEEN_HELP)
    .option('--shard <I/N>', 'evaluate every N-th user of the sample from the I-th (1-based) and print the shard as JSON, for `semrec eval-merge`')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { model: string; index?: string; data: string; split: string; beam?: string; limit?: string; sampleSeed?: string; json?: boolean; part?: string; fusionWeight?: string; seen?: string; shard?: string }) => {
      if (flags.split !== 'test' && flags.split !== 'valid') throw new InputError(`--split must be test or valid, got ${JSON.stringify(flags.split)}`);
      const shard = parseShard(flags.shard);
      const [rec, ds] = await Promise.all([Recommender.load(flags.model, flags.index, loadOptions(flags)), loadDataset(flags.data)]);
      const limit = intOpt('--limit', flags.limit, 1);
      const sampleSeed = intOpt('--sample-seed', flags.sampleSeed, 0) ?? 0;
      const beamWidth = intOpt('--beam', flags.beam, 1, MAX_BEAM);
      const all = (flags.split === 'test' ? ds.test : ds.valid).length;
      const total = Math.min(all, limit ?? Infinity);
      const p = startProgress(`${total < all ? `evaluating (${flags.split}, seeded random sample of ${total} of ${all} users, seed ${sampleSeed})` : `evaluating (${flags.split})`}${shard ? `, shard ${shard.index + 1}/${shard.count}` : ''}`, total);
      const report = await evaluateRecommender(rec, ds, { split: flags.split, beamWidth, limit, sampleSeed, shard, onProgress: (d) => p.update(d) });
      p.stop();
      await rec.close();
      const id = { modelDir: path.resolve(flags.model), modelName: rec.modelName, excludeSeen: rec.excludeSeenByDefault };
      // a shard carries what a merge checks: the same model bytes, data, sample and beam
      if (shard) console.log(JSON.stringify({ ...id, modelHash: rec.modelHash, dataHash: datasetFingerprint(ds), beamWidth: beamWidth ?? 20, ...report }));
      else console.log(flags.json ? JSON.stringify({ ...id, ...report }) : formatReport(report, rec.modelName) + `\n  history items ${rec.excludeSeenByDefault ? 'excluded' : 'kept'} (${flags.seen ? '--seen' : "the model's policy"})`);
    });

  program
    .command('eval-merge')
    .description('merge the shards of one evaluation (`semrec eval --shard I/N` outputs) into exactly the unsharded report')
    .argument('<files...>', 'the shards\' JSON outputs, one file each')
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], flags: { json?: boolean }) => {
      const merged = mergeEvalShards(await Promise.all(files.map((f) => readEvalShard(f))));
      console.log(flags.json ? JSON.stringify(merged) : formatReport(merged, merged.modelName) + `\n  merged from ${merged.shards} shard(s)`);
    });
}
