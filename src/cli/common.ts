/** Helpers shared by CLI commands. */
import { FormatError, InputError } from '../errors.js';
import type { MalformedReport } from '../data/types.js';
import type { DatasetMeta } from '../data/store.js';
import type { DecoderTrainOptions } from '../training/train-decoder.js';
import type { FineTuneTask } from '../training/finetune.js';
import { checkSasrecOptions, type SasrecOptions } from '../training/sasrec.js';
import { checkNodes } from '../training/python.js';

/** Parse an integer option, with a typed error naming the flag. */
export function intOpt(flag: string, v: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new InputError(max === Number.MAX_SAFE_INTEGER ? `${flag} must be an integer ≥ ${min}, got ${JSON.stringify(v)}` : `${flag} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return n;
}

/** Parse a float option in [lo, hi]. */
export function floatOpt(flag: string, v: string | undefined, lo: number, hi: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi) throw new InputError(`${flag} must be a number in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
  return n;
}

/** Human-readable summary of a written dataset. */
export function describeDataset(dir: string, meta: DatasetMeta): string {
  const c = meta.counts;
  const lines = [
    `dataset ${dir} (${meta.source}, ${meta.core}-core, leave-one-out, history ≤ ${meta.split.maxHistory})`,
    `  users        ${c.users}`,
    `  items        ${c.items}${c.itemsWithoutTitle ? ` (${c.itemsWithoutTitle} without title)` : ''}`,
    `  interactions ${c.interactions}`,
    `  avg history  ${c.avgHistory.toFixed(2)}`,
  ];
  if (meta.malformed.count) {
    lines.push(`  malformed    ${meta.malformed.count} line(s) skipped, e.g.:`);
    for (const m of meta.malformed.examples.slice(0, 10)) lines.push(`    ${m.file}:${m.line}: ${m.reason}`);
  }
  return lines.join('\n');
}

function scheduleOpt(v: string | undefined): 'wsd' | 'cosine' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'wsd' && v !== 'cosine') throw new InputError(`--schedule must be wsd or cosine, got ${JSON.stringify(v)}`);
  return v;
}

/** Transformer settings from `semrec train`-style flags (camel-cased by commander). */
export function decoderOptions(flags: Record<string, string | undefined>): Omit<DecoderTrainOptions, 'onEvent'> {
  const num = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isFinite(x) || x <= 0) throw new InputError(`${flag} must be a positive number, got ${JSON.stringify(v)}`);
    return x;
  };
  if (flags.block !== undefined && flags.block !== 'gpt2' && flags.block !== 'llm') throw new InputError(`--block must be gpt2 or llm, got ${JSON.stringify(flags.block)}`);
  const o: Omit<DecoderTrainOptions, 'onEvent'> = {
    block: flags.block as 'gpt2' | 'llm' | undefined,
    kvHeads: intOpt('--kv-heads', flags.kvHeads, 1),
    layers: intOpt('--layers', flags.layers, 1),
    dModel: intOpt('--d-model', flags.dModel, 1),
    heads: intOpt('--heads', flags.heads, 1),
    dFF: intOpt('--d-ff', flags.dFf, 1),
    dropout: floatOpt('--dropout', flags.dropout, 0, 0.9),
    epochs: intOpt('--epochs', flags.epochs, 1),
    maxSteps: intOpt('--max-steps', flags.maxSteps, 1),
    schedule: scheduleOpt(flags.schedule),
    timeBudget: flags.timeBudget === undefined ? undefined : num('--time-budget', flags.timeBudget)! * 60,
    validSample: intOpt('--valid-sample', flags.validSample, 0),
    patience: intOpt('--patience', flags.patience, 1),
    batchSize: intOpt('--batch-size', flags.batchSize, 1),
    lr: num('--lr', flags.lr),
    seed: intOpt('--seed', flags.seed, 0),
    device: flags.device,
    nproc: intOpt('--nproc', flags.nproc, 1),
    threads: intOpt('--threads', flags.threads, 1),
  };
  const ftFlags = ['lora', 'loraAlpha', 'prompt', 'itemPrompt', 'promptSeparator', 'titleWords', 'maxPromptTokens', 'tasks'];
  const nodeFlags = ['nodeRank', 'masterAddr', 'masterPort'];
  if (flags.nnodes !== undefined) {
    o.nodes = checkNodes({ count: intOpt('--nnodes', flags.nnodes, 2)!, rank: intOpt('--node-rank', flags.nodeRank ?? '0', 0)!, addr: flags.masterAddr ?? '127.0.0.1', port: intOpt('--master-port', flags.masterPort ?? '29500', 1)! });
  } else {
    const stray = nodeFlags.find((f) => flags[f] !== undefined);
    if (stray) throw new InputError(`--${stray.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is for multi-node training (--nnodes N)`);
  }
  if (flags.base === undefined) {
    const stray = ftFlags.find((f) => flags[f] !== undefined);
    if (stray) throw new InputError(`--${stray.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is for fine-tuning a checkpoint (--base DIR)`);
  } else {
    // the sizes come from the checkpoint's config.json
    const sized = ['layers', 'dModel', 'heads', 'dFf', 'kvHeads'].find((f) => flags[f] !== undefined);
    if (sized) throw new InputError(`--${sized.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} cannot be combined with --base: the checkpoint's config.json gives the sizes`);
    if (flags.block === 'gpt2') throw new InputError('--base fine-tunes a Llama-family checkpoint: the block is llm, not gpt2');
    o.block = 'llm';
    o.finetune = {
      base: flags.base,
      lora: intOpt('--lora', flags.lora, 0),
      loraAlpha: num('--lora-alpha', flags.loraAlpha),
      prompt: { template: flags.prompt, item: flags.itemPrompt, separator: flags.promptSeparator, titleWords: intOpt('--title-words', flags.titleWords, 1) },
      maxPromptTokens: intOpt('--max-prompt-tokens', flags.maxPromptTokens, 1),
      tasks: flags.tasks === undefined ? undefined : (flags.tasks.split(',').map((t) => t.trim()) as FineTuneTask[]),
    };
  }
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Flags accepted inside `--train-args` (those of `semrec train` that shape the transformer). */
const TRAIN_ARG_FLAGS = ['block', 'kv-heads', 'layers', 'd-model', 'heads', 'd-ff', 'dropout', 'epochs', 'patience', 'batch-size', 'lr', 'device', 'nproc', 'threads', 'schedule', 'time-budget', 'valid-sample'];

/** Parse `--fusion-grid 0,0.1,...` (transition weights in [0, 1]). */
export function gridOpt(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const parts = v.split(',').map((x) => x.trim());
  const g = parts.map(Number);
  if (parts.some((x) => x === '') || g.some((w) => !Number.isFinite(w) || w < 0 || w > 1)) throw new InputError(`--fusion-grid must be comma-separated weights in [0, 1], got ${JSON.stringify(v)}`);
  return g;
}

/** Flags accepted inside `--sasrec-args` (those of `semrec train --arch sasrec`). */
const SASREC_ARG_FLAGS = ['layers', 'd-model', 'heads', 'dropout', 'epochs', 'patience', 'batch-size', 'lr', 'weight-decay', 'loss', 'negatives', 'threads', 'valid-sample', 'item-embedding', 'level-loss'];

/** `--x-args "--flag value ..."` as camel-cased flags (only `allowed` ones; typed errors naming `option`). */
function flagWords(option: string, s: string, allowed: readonly string[]): Record<string, string> {
  const words = s.trim().split(/\s+/);
  const flags: Record<string, string> = {};
  for (let i = 0; i < words.length; i += 2) {
    const name = words[i].replace(/^--/, '');
    if (!words[i].startsWith('--') || !allowed.includes(name)) throw new InputError(`${option}: unknown flag ${JSON.stringify(words[i])} (allowed: ${allowed.map((f) => '--' + f).join(' ')})`);
    if (words[i + 1] === undefined) throw new InputError(`${option}: ${words[i]} needs a value`);
    flags[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = words[i + 1];
  }
  return flags;
}

/** Parse a `--train-args "--epochs 5 --layers 2"` string into transformer settings. */
export function parseTrainArgs(s: string | undefined): Omit<DecoderTrainOptions, 'onEvent' | 'seed'> {
  if (!s?.trim()) return {};
  return decoderOptions(flagWords('--train-args', s, TRAIN_ARG_FLAGS));
}

/** Parse a `--sasrec-args "--epochs 50 --loss sampled"` string into SASRec's recipe (the seed is set per run). */
export function parseSasrecArgs(s: string | undefined): Omit<SasrecOptions, 'onEvent' | 'seed'> {
  if (!s?.trim()) return {};
  return sasrecOptions(flagWords('--sasrec-args', s, SASREC_ARG_FLAGS));
}

/** Report an input file's malformed (or duplicate) lines on stderr, or refuse the file with `strict`. */
export function reportMalformed(file: string, m: MalformedReport, strict: boolean): void {
  if (!m.count) return;
  const examples = m.examples.slice(0, 5).map((e) => `line ${e.line}: ${e.reason}`).join('; ');
  if (strict) throw new FormatError(file, `${m.count} malformed line(s) (${examples}); fix them or drop --strict to skip them`);
  process.stderr.write(`semrec: warning: ${file}: skipped ${m.count} malformed line(s), e.g. ${examples} (--strict refuses them)\n`);
}

/** SASRec's recipe from `semrec train --arch sasrec` flags (flags of the generator's recipe that SASRec has no use for are refused). */
export function sasrecOptions(flags: Record<string, string | undefined>): Omit<SasrecOptions, 'onEvent'> {
  const foreign = ['maxSteps', 'block', 'kvHeads', 'dFf', 'schedule', 'timeBudget', 'base', 'device', 'nproc', 'transformerFrom', 'transitionShape', 'transitionFit', 'fusionGrid', 'fusionUsers', 'transitionUsers'].find((f) => flags[f] !== undefined);
  if (foreign) throw new InputError(`--${foreign.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is not a SASRec setting (--arch sasrec)`);
  if (flags.loss !== undefined && flags.loss !== 'ce' && flags.loss !== 'sampled') throw new InputError(`--loss must be ce or sampled, got ${JSON.stringify(flags.loss)}`);
  if (flags.itemEmbedding !== undefined && flags.itemEmbedding !== 'id' && flags.itemEmbedding !== 'id+sid') throw new InputError(`--item-embedding must be id or id+sid, got ${JSON.stringify(flags.itemEmbedding)}`);
  const o: Omit<SasrecOptions, 'onEvent'> = {
    semanticIds: flags.itemEmbedding === undefined ? undefined : flags.itemEmbedding === 'id+sid',
    levelLoss: floatOpt('--level-loss', flags.levelLoss, 0, 100),
    layers: intOpt('--layers', flags.layers, 1),
    dModel: intOpt('--d-model', flags.dModel, 2),
    heads: intOpt('--heads', flags.heads, 1),
    dropout: floatOpt('--dropout', flags.dropout, 0, 0.9),
    epochs: intOpt('--epochs', flags.epochs, 1),
    patience: intOpt('--patience', flags.patience, 1),
    batchSize: intOpt('--batch-size', flags.batchSize, 1),
    lr: floatOpt('--lr', flags.lr, 1e-7, 1),
    weightDecay: floatOpt('--weight-decay', flags.weightDecay, 0, 1),
    loss: flags.loss as 'ce' | 'sampled' | undefined,
    negatives: intOpt('--negatives', flags.negatives, 1),
    validSample: intOpt('--valid-sample', flags.validSample, 0),
    seed: intOpt('--seed', flags.seed, 0),
    threads: intOpt('--threads', flags.threads, 1),
  };
  if (o.loss !== 'sampled' && o.negatives !== undefined) throw new InputError('--negatives is for --loss sampled');
  checkSasrecOptions(o);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Omit<SasrecOptions, 'onEvent'>;
}
