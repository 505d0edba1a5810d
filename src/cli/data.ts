/** `semrec data synth|prepare|stats`. */
import type { Command } from 'commander';
import { MAX_SYNTH_ITEMS, MAX_SYNTH_USERS, synthesize } from '../data/synth.js';
import { prepare } from '../data/split.js';
import { DATASET_FORMAT, loadDataset, writeDataset } from '../data/store.js';
import { checkWritable } from '../../quantizer/core/index.js';
import { FORMATS, loadSource, type SourceFiles } from '../data/sources.js';
import { describeDataset, floatOpt, intOpt } from './common.js';
import { startProgress } from '../util/progress.js';
import { readProgress } from '../util/io.js';
import path from 'node:path';

/** Options of `semrec data synth`, as strings from the command line. */
interface SynthFlags {
  out: string;
  force?: boolean;
  items?: string;
  users?: string;
  seed?: string;
  sequential?: string;
  json?: boolean;
}

/** Generate the synthetic dataset and write it in normalised, split form. */
async function runSynth(flags: SynthFlags): Promise<void> {
  const params = {
    items: intOpt('--items', flags.items, 10, MAX_SYNTH_ITEMS) ?? 2000,
    users: intOpt('--users', flags.users, 1, MAX_SYNTH_USERS) ?? 5000,
    seed: intOpt('--seed', flags.seed, 0) ?? 42,
    sequential: floatOpt('--sequential', flags.sequential, 0, 1) ?? 0.5,
  };
  const p = startProgress('synthesising', 0);
  const raw = synthesize(params);
  const ds = prepare(raw, { core: 5, maxHistory: 20 });
  const meta = await writeDataset(flags.out, ds, { malformed: raw.malformed, params, force: !!flags.force });
  p.stop();
  console.log(flags.json ? JSON.stringify({ dir: flags.out, ...meta.counts }) : describeDataset(flags.out, meta));
}

/** Register the `data` command group. */
export function registerData(program: Command): void {
  const data = program.command('data').description('create, import and inspect datasets');

  data
    .command('synth')
    .description('generate the deterministic synthetic catalogue + users (the embedded default data)')
    .requiredOption('--out <dir>', 'output dataset directory')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not a dataset directory)')
    .option('--items <n>', 'number of items (default 2000)')
    .option('--users <n>', 'number of users (default 5000)')
    .option('--seed <n>', 'random seed (default 42)')
    .option('--sequential <p>', 'probability that the next item continues a routine (default 0.5)')
    .option('--json', 'print counts as JSON')
    .action(runSynth);

  data
    .command('prepare')
    .description('import a public dataset format: k-core filter, leave-one-out split, normalised output')
    .requiredOption('--format <fmt>', `input format: ${FORMATS.join('|')}`)
    .requiredOption('--out <dir>', 'output dataset directory')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not a dataset directory)')
    .option('--reviews <file>', 'amazon2014: reviews_<Cat>_5.json(.gz)')
    .option('--meta <file>', 'amazon2014: meta_<Cat>.json(.gz) (Python dict literals)')
    .option('--sequences <file>', 'p5 / recbole: sequential_data.txt(.gz)')
    .option('--datamaps <file>', 'p5 / recbole: datamaps.json(.gz)')
    .option('--inter <file>', 'recbole: <name>.inter')
    .option('--items <file>', 'p5 / recbole: RecBole <name>.item; jsonl / parquet: items file (JSONL, CSV/TSV or Parquet)')
    .option('--item <file>', 'alias of --items')
    .option('--dir <dir>', 'movielens: directory with ratings.dat and movies.dat')
    .option('--ratings <file>', 'movielens: ratings.dat')
    .option('--movies <file>', 'movielens: movies.dat')
    .option('--interactions <file>', 'jsonl / parquet: interactions (JSONL {user,item,timestamp}, CSV/TSV with header, or Parquet with those columns)')
    .option('--core <k>', 'k-core filter: minimum interactions per user and item (default 5; 0 disables)')
    .option('--max-history <n>', 'cap on history length in valid/test examples (default 20)')
    .option('--json', 'print counts as JSON')
    .action(async (flags: SourceFiles & { format: string; out: string; force?: boolean; item?: string; core?: string; maxHistory?: string; json?: boolean }) => {
      const files: SourceFiles = { ...flags, items: flags.items ?? flags.item };
      const core = intOpt('--core', flags.core, 0) ?? 5;
      const maxHistory = intOpt('--max-history', flags.maxHistory, 1) ?? 20;
      const inputs = (['reviews', 'meta', 'sequences', 'datamaps', 'inter', 'items', 'dir', 'ratings', 'movies', 'interactions'] as const).map((k) => files[k]).filter((v): v is string => typeof v === 'string');
      await checkWritable(flags.out, { kind: DATASET_FORMAT, force: !!flags.force, inputs }); // before reading gigabytes
      // the progress bar appears with the first lines read (bad flags fail before it)
      let p: ReturnType<typeof startProgress> | undefined;
      let before = 0;
      readProgress.onLines = (file, lines, done) => {
        p ??= startProgress(`reading ${flags.format}`, 0, ' lines');
        p.update(before + lines, path.basename(file));
        if (done) before += lines;
      };
      let raw;
      try {
        raw = await loadSource(flags.format, files);
      } finally {
        readProgress.onLines = undefined;
        p?.stop();
      }
      const ds = prepare(raw, { core, maxHistory });
      const meta = await writeDataset(flags.out, ds, { malformed: raw.malformed, params: { format: flags.format }, force: !!flags.force, inputs });
      console.log(flags.json ? JSON.stringify({ dir: flags.out, ...meta.counts, malformed: meta.malformed.count }) : describeDataset(flags.out, meta));
    });

  data
    .command('stats')
    .description('print the counts of a prepared dataset directory')
    .argument('<dir>', 'dataset directory')
    .option('--json', 'print as JSON')
    .action(async (dir: string, flags: { json?: boolean }) => {
      const ds = await loadDataset(dir);
      console.log(flags.json ? JSON.stringify(ds.meta) : describeDataset(dir, ds.meta));
    });
}
