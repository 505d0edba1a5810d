/**
 * The research comparison harness: for every indexing scheme × seed, build the index, train the
 * same generator under it, evaluate on the leave-one-out split, and write `results.json`,
 * `results.md` and `report.html` to the report directory.
 *
 * Runs go seed by seed (every scheme at seed 0, then at seed 1, ...). Resumable: each finished
 * run leaves `runs/<scheme>-seed<k>/result.json` (written atomically, with the run's settings); a
 * re-run with the same settings reuses it and only does what is missing. A run interrupted
 * half-way is redone from its start.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { readRegularText, writeFileAtomic } from '../../quantizer/core/index.js';
import { parseFactory } from '../../quantizer/index.js';
import { datasetFingerprint, loadDataset, type Dataset } from '../data/store.js';
import { evaluateRankers, evaluateRecommender } from '../eval/evaluate.js';
import { shardOf, type ShardSpec } from '../eval/shard-spec.js';
import { MarkovRanker, PopularityRanker } from '../eval/baselines.js';
import { InputError, SemrecError } from '../errors.js';
import { Recommender } from '../serving/recommender.js';
import { trainKind, trainModel } from '../training/train.js';
import { DEFAULT_BLOCK } from '../training/train-decoder.js';
import type { DecoderTrainOptions } from '../training/train-decoder.js';
import { writeReports } from './report.js';
import type { BaselineRun, BaselineSettings, CompareResults, RunResult, RunSettings } from './types.js';
import { buildRunIndex, sasrecRun, trainProgress } from './baseline-runs.js';
import type { SasrecOptions } from '../training/sasrec.js';
import { checkSasrecOptions } from '../training/sasrec.js';

export type { BaselineRun, BaselineSettings, CompareResults, RunResult, RunSettings } from './types.js';

/** Options of {@link runCompare}. */
export interface CompareOptions {
  /** Dataset directory (`semrec data prepare` / `data synth`). */
  data: string;
  /**
   * Factory strings, e.g. `rqkmeans:3x256`, `random:3x256`; a suffix `@text`, `@cf` or `@text+cf`
   * sets that scheme's item embeddings (`rqkmeans:3x256@text+cf`; the report labels it so).
   */
  schemes: string[];
  /** Seeds per scheme (seeds 0..seeds−1; default 3). */
  seeds?: number;
  /** Report directory. */
  out: string;
  /** Model kind trained per run: fused (default), transformer or transition (aliases decoder, bigram). */
  arch?: string;
  /**
   * Item embeddings the indexes are built on (schemes that use embeddings): `text` (default,
   * TF-IDF + SVD), `cf` or `text+cf` (collaborative, from the training sequences; as `index build
   * --embed`).
   */
  embed?: 'text' | 'cf' | 'text+cf';
  /**
   * Train SASRec as a baseline, once per seed with this recipe (`{}`: the defaults), scored on the
   * same users as every run; absent: no trained baseline (popularity and Markov are always there).
   */
  sasrec?: Omit<SasrecOptions, 'seed' | 'onEvent'>;
  /** Transformer settings shared by every run (the seed is set per run). */
  train?: Omit<DecoderTrainOptions, 'seed' | 'onEvent'>;
  /** Beam width for evaluation (default 20). */
  beamWidth?: number;
  /** Evaluate a seeded random sample of N users (seed 0: the same users in every run). */
  limit?: number;
  /** Split to evaluate on (default test). */
  split?: 'test' | 'valid';
  /** Progress messages and per-stage progress. */
  onEvent?: (e: CompareEvent) => void;
  /** The command line to record in the report (default: this process's arguments). */
  command?: string;
}

/** Progress of a comparison. */
export type CompareEvent =
  | { kind: 'run-start'; run: string; index: number; total: number }
  | { kind: 'run-reused'; run: string; index: number; total: number }
  /** Something the user must know before trusting the results. */
  | { kind: 'warning'; message: string }
  /** A finished run's result.json is damaged: the run is done again. */
  | { kind: 'run-damaged'; run: string; reason: string }
  /** A finished run was made from other data (its dataset fingerprint differs): the run is done again. */
  | { kind: 'run-stale'; run: string; reason: string }
  /** `label` names the current bar (`index: level 1/3 k-means`, `train epoch 2`, `evaluate`); `detail` is e.g. the loss. */
  | { kind: 'stage'; run: string; stage: 'index' | 'train' | 'eval'; label: string; done: number; total: number; detail?: string }
  | { kind: 'run-done'; run: string; result: RunResult }
  /** A trained baseline (SASRec) finished for one seed. */
  | { kind: 'baseline-done'; run: string; result: BaselineRun };

/** The version of this package and, in a git checkout, the commit. */
function provenance(): { semrec: string; commit?: string } {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  let semrec = '0.0.0';
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, 'package.json');
    if (existsSync(f)) {
      semrec = (JSON.parse(readFileSync(f, 'utf8')) as { version: string }).version;
      break;
    }
    dir = path.dirname(dir);
  }
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^[0-9a-f]{40}$/.test(commit) ? { semrec, commit } : { semrec };
  } catch {
    return { semrec };
  }
}

/** Why a comparison under this model kind is not a comparison of schemes (or undefined). */
function schemeBlindness(arch: string): string | undefined {
  return arch === 'transition'
    ? 'the transition model alone scores item-to-item transitions and gives every tuple of an item the same probability mass whatever its codes: it cannot tell indexing schemes apart (differences are noise). Compare with --arch fused or transformer.'
    : undefined;
}

/** Directory-safe name of a scheme × seed run. */
function runName(scheme: string, seed: number): string {
  return `${scheme.replace(/[^A-Za-z0-9._+-]+/g, '_')}-seed${seed}`;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** result.json: the run's result and the sha256 of its JSON text, so damage is detected. */
function runFile(result: RunResult | BaselineRun): string {
  const text = JSON.stringify(result);
  return JSON.stringify({ result, sha256: sha256(text) }, null, 2) + '\n';
}

/**
 * A finished run's result: `undefined` when there is none; `damaged` (with why) when the file
 * exists but is unreadable or fails its checksum — the run is then done again, and said so.
 */
async function readRun<T extends RunResult | BaselineRun>(file: string): Promise<T | { damaged: string } | undefined> {
  let text: string;
  try {
    text = await readRegularText(file, { maxBytes: 64 << 20, what: 'run result' });
  } catch (err) {
    if (err instanceof SemrecError && err.code === 'E_NOT_FOUND') return undefined;
    return { damaged: (err as Error).message };
  }
  try {
    const j = JSON.parse(text) as { result?: T; sha256?: string };
    if (!j.result || j.sha256 !== sha256(JSON.stringify(j.result))) return { damaged: 'checksum mismatch' };
    return j.result;
  } catch {
    return { damaged: 'not valid JSON' };
  }
}

type Embed = NonNullable<CompareOptions['embed']>;

function checkEmbed(embed: string, param: string): asserts embed is Embed {
  if (embed !== 'text' && embed !== 'cf' && embed !== 'text+cf') throw new InputError(`${param} must be text, cf or text+cf, got ${JSON.stringify(embed)}`, { param });
}

/**
 * One entry of the scheme list: a factory string with an optional `@embed` suffix
 * (`rqkmeans:3x256@text+cf`) that overrides the comparison's item embeddings for that scheme, so
 * one report can hold the same scheme on two embedding sources. The label is the canonical
 * factory string, plus the suffix when it differs from the comparison's default.
 */
function schemeEntry(spec: string, embed: Embed): { label: string; factory: string; embed: Embed } {
  const at = spec.lastIndexOf('@');
  const own = at >= 0 ? spec.slice(at + 1) : embed;
  checkEmbed(own, `the embeddings of scheme ${JSON.stringify(spec)}`);
  const factory = parseFactory(at >= 0 ? spec.slice(0, at) : spec).factory;
  return { label: own === embed ? factory : `${factory}@${own}`, factory, embed: own };
}

/**
 * The finished run in `file` if it can be reused: same settings (the data path aside when both
 * carry the same data fingerprint) and not made from other data. A damaged or stale file is
 * reported through `onEvent` and means "run again".
 */
async function finishedRun<T extends RunResult | BaselineRun>(file: string, settings: T['settings'], dataHash: string, onEvent: CompareOptions['onEvent']): Promise<T | undefined> {
  const found = await readRun<T>(file);
  if (found && 'damaged' in found) onEvent?.({ kind: 'run-damaged', run: path.basename(path.dirname(file)), reason: found.damaged });
  const prev = found && !('damaged' in found) ? found : undefined;
  // with a fingerprint, the data is known by its content: the same data at another path is the same data
  const byContent = prev?.dataHash === dataHash;
  const key = (x: T['settings']) => JSON.stringify(byContent ? { ...x, data: undefined } : x);
  if (prev === undefined || key(prev.settings) !== key(settings)) return undefined;
  if (prev.dataHash !== undefined && prev.dataHash !== dataHash) {
    onEvent?.({ kind: 'run-stale', run: prev.run, reason: `made from other data: dataset fingerprint ${prev.dataHash.slice(0, 12)}, now ${dataHash.slice(0, 12)}` });
    return undefined;
  }
  return prev;
}

/** One scheme × seed run; `label` is the scheme's name in the report (see {@link schemeEntry}). */
async function oneRun(ds: Dataset, settings: RunSettings, label: string, dir: string, onEvent: CompareOptions['onEvent']): Promise<RunResult> {
  const { seed } = settings;
  const run = path.basename(dir);
  const ev = (stage: 'index' | 'train' | 'eval', label: string, done: number, total: number, detail?: string) => onEvent?.({ kind: 'stage', run, stage, label, done, total, detail });
  const indexDir = path.join(dir, 'index');
  const modelDir = path.join(dir, 'model');
  let t0 = Date.now();
  const index = await buildRunIndex(ds, settings, indexDir, ev);
  const indexSeconds = (Date.now() - t0) / 1000;
  t0 = Date.now();
  const cfg = await trainModel({
    data: ds.dir,
    index: indexDir,
    out: modelDir,
    arch: settings.arch,
    decoder: {
      ...settings.train,
      seed,
      onEvent: trainProgress(ev, 'train epoch'),
    },
  });
  const trainSeconds = (Date.now() - t0) / 1000;
  const evalOpts = { split: settings.split, beamWidth: settings.beamWidth, limit: settings.limit ?? undefined, perUser: true };
  const rec = await Recommender.load(modelDir, indexDir);
  const report = await evaluateRecommender(rec, ds, { ...evalOpts, onProgress: (d, t) => ev('eval', 'evaluate', d, t) });
  await rec.close();
  // a fused model's transformer alone, on the same users: fused and unfused from one training
  let parts: RunResult['parts'];
  if (settings.arch === 'fused') {
    const tf = await Recommender.load(modelDir, indexDir, { part: 'transformer' });
    try {
      parts = { transformer: await evaluateRecommender(tf, ds, { ...evalOpts, onProgress: (d, t) => ev('eval', 'evaluate the transformer part', d, t) }) };
    } finally {
      await tf.close();
    }
  }
  return {
    run,
    scheme: label,
    seed,
    settings,
    index: { seconds: indexSeconds, hash: index.hash(), stats: index.stats() },
    train: { seconds: trainSeconds, params: cfg.params },
    eval: report,
    ...(parts ? { parts } : {}),
    finishedAt: new Date().toISOString(),
  };
}

/**
 * Every run of a comparison (or of one shard of it: the runs at positions index, index + count, …
 * of the run order), reused when finished earlier; the material of the report.
 */
async function runRuns(opts: CompareOptions, shard?: ShardSpec) {
  if (!opts.schemes.length) throw new InputError('schemes is empty', { param: 'schemes' });
  const seeds = opts.seeds ?? 3;
  if (!Number.isInteger(seeds) || seeds < 1) throw new InputError(`seeds must be a positive integer, got ${seeds}`, { param: 'seeds' });
  const embed = opts.embed ?? 'text';
  checkEmbed(embed, 'embed');
  const entries = opts.schemes.map((s) => schemeEntry(s, embed));
  const schemes = entries.map((e) => e.label);
  if (new Set(schemes).size !== schemes.length) throw new InputError(`schemes lists a scheme twice: ${schemes.join(', ')}`, { param: 'schemes' });
  const ds = await loadDataset(opts.data);
  const blind = schemeBlindness(trainKind(opts.arch));
  if (blind) opts.onEvent?.({ kind: 'warning', message: blind });
  const dataHash = datasetFingerprint(ds);
  const unverified: string[] = [];
  const arch = trainKind(opts.arch);
  // the transformer's block is recorded as trained, so a run made under another default (gpt2 before 2026-12-08) is redone, never reused
  const train = arch === 'transition' || arch === 'sasrec' ? opts.train ?? {} : { ...opts.train, block: opts.train?.block ?? (arch === 'llm' ? 'llm' : DEFAULT_BLOCK) };
  const common: Omit<RunSettings, 'scheme' | 'seed'> = { arch, train, beamWidth: opts.beamWidth ?? 20, limit: opts.limit ?? null, split: opts.split ?? 'test', data: path.resolve(ds.dir), counts: ds.meta.counts };
  await fs.mkdir(path.join(opts.out, 'runs'), { recursive: true });
  const runs: RunResult[] = [];
  const baselineRuns: BaselineRun[] = [];
  if (opts.sasrec) checkSasrecOptions(opts.sasrec);
  const total = (schemes.length + (opts.sasrec ? 1 : 0)) * seeds;
  let i = 0;
  const mine = (position: number) => !shard || position % shard.count === shard.index;
  // seed by seed: an interrupted comparison has every scheme at its first seeds, not a few schemes at all seeds
  for (let seed = 0; seed < seeds; seed++) {
    for (const entry of entries) {
      if (!mine(i)) {
        i++;
        continue;
      }
      const dir = path.join(opts.out, 'runs', runName(entry.label, seed));
      const file = path.join(dir, 'result.json');
      const settings: RunSettings = { ...common, scheme: entry.factory, seed, ...(entry.embed !== 'text' ? { embed: entry.embed } : {}) };
      const prev = await finishedRun<RunResult>(file, settings, dataHash, opts.onEvent);
      if (prev) {
        if (prev.dataHash === undefined) unverified.push(prev.run);
        opts.onEvent?.({ kind: 'run-reused', run: prev.run, index: i++, total });
        runs.push(prev);
        continue;
      }
      opts.onEvent?.({ kind: 'run-start', run: path.basename(dir), index: i++, total });
      await fs.mkdir(dir, { recursive: true });
      const result = { ...(await oneRun(ds, settings, entry.label, dir, opts.onEvent)), dataHash };
      await writeFileAtomic(file, runFile(result));
      opts.onEvent?.({ kind: 'run-done', run: result.run, result });
      runs.push(result);
    }
    if (opts.sasrec && !mine(i)) i++;
    else if (opts.sasrec) {
      const dir = path.join(opts.out, 'runs', `sasrec-seed${seed}`);
      const file = path.join(dir, 'result.json');
      const first = entries[0];
      const settings: BaselineSettings = { baseline: 'sasrec', sasrec: opts.sasrec, beamWidth: common.beamWidth, limit: common.limit, split: common.split, data: common.data, counts: common.counts, scheme: first.factory, ...(first.embed !== 'text' ? { embed: first.embed } : {}), seed };
      const prev = await finishedRun<BaselineRun>(file, settings, dataHash, opts.onEvent);
      if (prev) {
        opts.onEvent?.({ kind: 'run-reused', run: prev.run, index: i++, total });
        baselineRuns.push(prev);
        continue;
      }
      const run = path.basename(dir);
      opts.onEvent?.({ kind: 'run-start', run, index: i++, total });
      await fs.mkdir(dir, { recursive: true });
      const result = { ...(await sasrecRun(ds, settings, dir, (stage, label, done, t, detail) => opts.onEvent?.({ kind: 'stage', run, stage, label, done, total: t, detail }))), dataHash };
      await writeFileAtomic(file, runFile(result));
      opts.onEvent?.({ kind: 'baseline-done', run, result });
      baselineRuns.push(result);
    }
  }
  return { ds, schemes, seeds, embed, common, runs, baselineRuns, unverified, total, blind, dataHash };
}

/** Run (or resume) a comparison and write its reports. */
export async function runCompare(opts: CompareOptions): Promise<CompareResults> {
  const t0 = Date.now();
  const { ds, schemes, seeds, embed, common, runs, baselineRuns, unverified, total, blind } = await runRuns(opts);
  const allOld = unverified.length === total;
  const unverifiedNote = unverified.length
    ? `${allOld ? `all ${total} runs were` : `${unverified.length} run(s) were`} made before data fingerprints were recorded${allOld ? '' : ` (${unverified.join(', ')})`}: reused because their settings (data path, counts, training) are equal; that they were made from this very data is not checked`
    : undefined;
  if (unverifiedNote) opts.onEvent?.({ kind: 'warning', message: unverifiedNote });
  runs.sort((a, b) => schemes.indexOf(a.scheme) - schemes.indexOf(b.scheme) || a.seed - b.seed); // reports list runs by scheme
  const results: CompareResults = {
    format: 'semrec-compare',
    formatVersion: 1,
    data: { dir: common.data, users: common.counts.users, items: common.counts.items, interactions: common.counts.interactions },
    config: { schemes, seeds, arch: common.arch, train: common.train as Record<string, unknown>, beamWidth: common.beamWidth, limit: opts.limit, split: common.split, embed, ...(opts.sasrec ? { sasrec: opts.sasrec as Record<string, unknown> } : {}) },
    runs,
    ...(baselineRuns.length ? { baselineRuns } : {}),
    baselines: (await evaluateRankers([new PopularityRanker(ds.train), new MarkovRanker(ds.train)], ds, { split: common.split, limit: opts.limit, sampleSeed: 0, perUser: true })).rankers,
    meta: {
      ...provenance(),
      command: opts.command ?? process.argv.slice(1).join(' '),
      date: new Date().toISOString(),
      node: process.version,
      hardware: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1) },
    },
    warnings: [
      ...(blind ? [blind] : []),
      ...(unverifiedNote ? [unverifiedNote] : []),
    ],
    seconds: (Date.now() - t0) / 1000,
  };
  await writeReports(opts.out, results);
  return results;
}

/** What one shard of a comparison did (`runCompareShard`). */
export interface CompareShardReport {
  shard: ShardSpec;
  /** Runs of this shard, in run order (done now or reused). */
  runs: string[];
  seconds: number;
}

/**
 * One shard of a comparison: the runs at positions `shard.index`, `shard.index + shard.count`, …
 * of the run order (seed by seed, the schemes then SASRec), each left in `runs/` exactly as an
 * unsharded comparison leaves it; no report. Gather every shard's `runs/` into one directory and
 * run the comparison there without a shard: it reuses them all and writes the report — the same
 * figures as an unsharded run (each run depends only on its own settings and seed).
 */
export async function runCompareShard(opts: CompareOptions & { shard: ShardSpec }): Promise<CompareShardReport> {
  const t0 = Date.now();
  shardOf([], opts.shard); // checks the spec
  const r = await runRuns(opts, opts.shard);
  return { shard: opts.shard, runs: [...r.runs.map((x) => x.run), ...r.baselineRuns.map((x) => x.run)], seconds: (Date.now() - t0) / 1000 };
}
