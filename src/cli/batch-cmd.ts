/** `semrec recommend-batch`: top-k for every user of a dataset or of a JSONL file, as JSONL (src/serving/batch.ts). */
import type { Command } from 'commander';
import path from 'node:path';
import { loadDataset } from '../data/store.js';
import { parseShard } from '../eval/shard.js';
import { InputError } from '../errors.js';
import { datasetRequests, readBatchRequests, recommendBatch } from '../serving/batch.js';
import { MAX_BEAM, MAX_K, Recommender } from '../serving/recommender.js';
import { startProgress } from '../util/progress.js';
import { intOpt } from './common.js';
import { loadOptions, SEEN_HELP } from './recommend-cmd.js';

/** Register `semrec recommend-batch`. */
export function registerBatch(program: Command): void {
  program
    .command('recommend-batch')
    .description('recommendations for every user of a dataset (their whole sequence) or of a JSONL file of histories, written as JSONL or Parquet; sharded like eval, resumable, renamed into place when complete')
    .requiredOption('--model <dir>', 'model directory')
    .option('--index <dir>', 'index directory (default: the one the model was trained on)')
    .option('--data <dir>', 'every user of this dataset, history = their whole sequence (the most recent --max-history items)')
    .option('--histories <file>', 'JSONL: {"user": "...", "history": ["item", ...]} per line (gzip allowed)')
    .requiredOption('--out <file>', 'output JSONL, or Parquet when it ends in .parquet (one row per user: user, items, scores, skipped, error); OUT.partial (JSONL) while running, a rerun resumes it')
    .option('-k <n>', 'items per user', '10')
    .option('--beam <n>', 'beam width (default max(k, 20))')
    .option('--seen <policy>', SEEN_HELP)
    .option('--part <kind>', 'one part of a fused model: transformer | transition')
    .option('--shard <I/N>', 'only every N-th user from the I-th (1-based)')
    .option('--max-history <n>', 'with --data: history items kept (default: the model\'s)')
    .option('--force', 'redo a finished OUT, or start over a partial file of another job')
    .action(async (flags: { model: string; index?: string; data?: string; histories?: string; out: string; k: string; beam?: string; seen?: string; part?: string; shard?: string; maxHistory?: string; force?: boolean }) => {
      if ((flags.data === undefined) === (flags.histories === undefined)) throw new InputError('give exactly one of --data or --histories');
      const shard = parseShard(flags.shard);
      const k = intOpt('-k', flags.k, 1, MAX_K)!;
      const beamWidth = intOpt('--beam', flags.beam, 1, MAX_BEAM);
      if (beamWidth !== undefined && beamWidth < k) throw new InputError(`--beam (${beamWidth}) must be at least -k (${k})`);
      const rec = await Recommender.load(flags.model, flags.index, loadOptions(flags));
      try {
        const requests = flags.data !== undefined ? datasetRequests(await loadDataset(flags.data), intOpt('--max-history', flags.maxHistory, 1) ?? rec.config.maxHistory) : await readBatchRequests(flags.histories!);
        let bar: ReturnType<typeof startProgress> | undefined;
        const report = await recommendBatch(rec, requests, {
          out: flags.out,
          k,
          beamWidth,
          shard,
          force: !!flags.force,
          onProgress: (d, t) => {
            bar ??= startProgress(`recommending${shard ? ` (shard ${shard.index + 1}/${shard.count})` : ''}${d ? `, resumed after ${d} users` : ''}`, t, ' users');
            bar.update(d);
          },
        });
        bar?.stop();
        console.log(JSON.stringify({ ...report, out: path.resolve(report.out) }));
      } finally {
        await rec.close();
      }
    });
}
