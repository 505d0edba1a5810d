/** `semrec compare`: the research comparison harness (see src/compare/harness.ts). */
import type { Command } from 'commander';
import path from 'node:path';
import { runCompare, runCompareShard } from '../compare/harness.js';
import { parseShard } from '../eval/shard.js';
import { InputError } from '../errors.js';
import { stagedProgress } from '../util/progress.js';
import { intOpt, parseSasrecArgs, parseTrainArgs } from './common.js';

/** Register `semrec compare`. */
export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare indexing schemes: build each index, train the same generator, evaluate; results.json, results.md, report.html (resumable)')
    .requiredOption('--data <dir>', 'dataset directory')
    .requiredOption('--schemes <list>', 'comma-separated factory strings, e.g. rqkmeans:3x256,random:3x256,sequential:3x256; a suffix @text, @cf or @text+cf sets one scheme\'s item embeddings (rqkmeans:3x256@text+cf)')
    .option('--seeds <n>', 'seeds per scheme', '3')
    .requiredOption('--out <dir>', 'report directory (finished runs in it are reused)')
    .option('--arch <kind>', 'generator: fused (transformer + transition model, weight chosen on validation) | transformer | transition', 'fused')
    .option('--embed <kind>', 'item embeddings of the indexes: text (default) | cf | text+cf (as index build --embed); a scheme\'s @suffix wins')
    .option('--train-args <flags>', 'transformer flags of `semrec train`, e.g. "--epochs 5 --layers 2"')
    .option('--sasrec', 'also train SASRec (the ID-based baseline) once per seed and report it next to popularity and Markov, paired with the best scheme')
    .option('--sasrec-args <flags>', 'SASRec flags of `semrec train --arch sasrec`, e.g. "--loss sampled --negatives 1024" (implies --sasrec)')
    .option('--beam <n>', 'beam width for evaluation', '20')
    .option('--split <name>', 'test | valid', 'test')
    .option('--limit <n>', 'evaluate a seeded random sample of N users (seed 0)')
    .option('--shard <I/N>', 'only every N-th run from the I-th (1-based), left in OUT/runs, no report: gather every shard\'s runs/ into one OUT and run compare there without --shard to write the report')
    .action(async (flags: { data: string; schemes: string; seeds: string; out: string; arch: string; embed?: string; trainArgs?: string; sasrec?: boolean; sasrecArgs?: string; beam: string; split: string; limit?: string; shard?: string }) => {
      if (flags.split !== 'test' && flags.split !== 'valid') throw new InputError(`--split must be test or valid, got ${JSON.stringify(flags.split)}`);
      const schemes = flags.schemes.split(',').map((s) => s.trim()).filter(Boolean);
      let progress: ReturnType<typeof stagedProgress> | undefined;
      const shard = parseShard(flags.shard);
      const opts: Parameters<typeof runCompare>[0] = {
        data: flags.data,
        schemes,
        seeds: intOpt('--seeds', flags.seeds, 1),
        out: flags.out,
        arch: flags.arch,
        embed: flags.embed as 'text' | 'cf' | 'text+cf' | undefined,
        train: parseTrainArgs(flags.trainArgs),
        sasrec: flags.sasrec || flags.sasrecArgs !== undefined ? parseSasrecArgs(flags.sasrecArgs) : undefined,
        beamWidth: intOpt('--beam', flags.beam, 1),
        split: flags.split,
        limit: intOpt('--limit', flags.limit, 1),
        onEvent: (e) => {
          if (e.kind === 'run-start') {
            process.stderr.write(`[${e.index + 1}/${e.total}] ${e.run}\n`);
            progress = stagedProgress('  ');
          } else if (e.kind === 'warning') {
            process.stderr.write(`\n*** warning: ${e.message}\n\n`);
          } else if (e.kind === 'run-damaged') {
            process.stderr.write(`warning: ${e.run}/result.json is damaged (${e.reason}); running it again\n`);
          } else if (e.kind === 'run-stale') {
            process.stderr.write(`warning: ${e.run} was ${e.reason}; running it again\n`);
          } else if (e.kind === 'run-reused') {
            process.stderr.write(`[${e.index + 1}/${e.total}] ${e.run}: finished earlier, reused\n`);
          } else if (e.kind === 'stage') {
            progress?.cb(e.label, e.done, e.total, e.detail);
          } else if (e.kind === 'baseline-done') {
            progress?.stop();
            const m = e.result.eval.model;
            process.stderr.write(`  sasrec R@10 ${m.recall[10].toFixed(4)}  N@10 ${m.ndcg[10].toFixed(4)}  (train ${e.result.train.seconds.toFixed(1)} s)\n`);
          } else if (e.kind === 'run-done') {
            progress?.stop();
            const m = e.result.eval.model;
            process.stderr.write(`  R@10 ${m.recall[10].toFixed(4)}  N@10 ${m.ndcg[10].toFixed(4)}  (index ${e.result.index.seconds.toFixed(1)} s, train ${e.result.train.seconds.toFixed(1)} s)\n`);
          }
        },
      };
      if (shard) {
        const done = await runCompareShard({ ...opts, shard });
        console.log(JSON.stringify({ out: path.resolve(flags.out), shard: `${shard.index + 1}/${shard.count}`, runs: done.runs, seconds: done.seconds, files: [] }));
        return;
      }
      const results = await runCompare(opts);
      console.log(JSON.stringify({ out: path.resolve(flags.out), runs: results.runs.length, seconds: results.seconds, files: ['results.json', 'results.md', 'report.html'] }));
    });
}
