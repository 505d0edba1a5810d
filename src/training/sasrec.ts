/**
 * SASRec, the standard ID-based sequential baseline (trainer/sasrec.py): trained by PyTorch on
 * the train split with full cross-entropy over the catalogue (sampled softmax as an option),
 * early-stopped on validation NDCG@10, exported to ONNX. The model directory (architecture
 * `sasrec`) is served like every other kind: the item distribution is expressed over the index's
 * trie with best-item look-ahead (serving/model/item-scores.ts), so beam search returns exactly
 * the top items of SASRec's own scores and every answer is a real item.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { TokenLayout } from '../../decoding/index.js';
import type { ItemIndex } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import { InputError } from '../errors.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION } from '../serving/model/model-dir.js';
import { makeScratch } from '../util/scratch.js';
import { runTrainer } from './python.js';
import { writeRagged, type TrainedDecoder } from './train-decoder.js';

/** SASRec's recipe (the defaults are the reproductions' Beauty recipe: docs/results.md). */
export interface SasrecOptions {
  /** Embedding width (default 64). */
  dModel?: number;
  /** Self-attention blocks (default 2). */
  layers?: number;
  /** Attention heads (default 2). */
  heads?: number;
  /** Dropout on embeddings, attention and feed-forward (default 0.5). */
  dropout?: number;
  /** Adam learning rate (default 1e-3). */
  lr?: number;
  /** Adam weight decay (default 0). */
  weightDecay?: number;
  /** Training windows per batch (default 128). */
  batchSize?: number;
  /** Epoch cap (default 200). */
  epochs?: number;
  /** Epochs without a better validation NDCG@10 before training stops (default 10). */
  patience?: number;
  /** `ce` (default): full cross-entropy over the catalogue; `sampled`: sampled softmax. */
  loss?: 'ce' | 'sampled';
  /** Uniform negatives per batch for `sampled` (default 256). */
  negatives?: number;
  /**
   * Semantic-ID embeddings (default false): each item's embedding is its own learned vector plus
   * the sum of one learned vector per code of its index tuple, where it is read and where it is
   * scored, so items that share a code prefix share parameters (docs/results.md measures it).
   */
  semanticIds?: boolean;
  /**
   * With `semanticIds` and `loss: 'ce'`: weight of an auxiliary objective, a softmax over each
   * level's codes of the next item's tuple (default 0: none).
   */
  levelLoss?: number;
  /** Validation users scored after each epoch (seeded random sample; default 0 = all). */
  validSample?: number;
  seed?: number;
  /** PyTorch threads (default: every core). */
  threads?: number;
  /** Trainer events (start, progress, epoch, done). */
  onEvent?: (e: Record<string, unknown>) => void;
}

function check(name: string, v: number | undefined, lo: number, hi: number, int = true): void {
  if (v === undefined) return;
  if (!(Number.isFinite(v) && v >= lo && v <= hi && (!int || Number.isInteger(v)))) throw new InputError(`sasrec ${name} must be ${int ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${v}`, { param: name });
}

/** Validate SASRec options (typed errors naming the field). */
export function checkSasrecOptions(o: SasrecOptions): void {
  check('dModel', o.dModel, 2, 4096);
  check('layers', o.layers, 1, 64);
  check('heads', o.heads, 1, 64);
  if (o.dModel !== undefined && o.heads !== undefined && o.dModel % o.heads) throw new InputError(`sasrec dModel (${o.dModel}) must be a multiple of heads (${o.heads})`, { param: 'heads' });
  if (o.dModel === undefined && o.heads !== undefined && 64 % o.heads) throw new InputError(`sasrec heads must divide dModel (64), got ${o.heads}`, { param: 'heads' });
  check('dropout', o.dropout, 0, 0.95, false);
  check('lr', o.lr, 1e-7, 1, false);
  check('weightDecay', o.weightDecay, 0, 1, false);
  check('batchSize', o.batchSize, 1, 1 << 16);
  check('epochs', o.epochs, 1, 100_000);
  check('patience', o.patience, 1, 100_000);
  check('negatives', o.negatives, 1, 1 << 20);
  check('validSample', o.validSample, 0, 1 << 30);
  check('seed', o.seed, 0, 2 ** 31 - 1);
  check('levelLoss', o.levelLoss, 0, 100, false);
  if (o.levelLoss && (!o.semanticIds || o.loss === 'sampled')) throw new InputError('sasrec levelLoss needs semanticIds and the ce loss', { param: 'levelLoss' });
  if (o.semanticIds !== undefined && typeof o.semanticIds !== 'boolean') throw new InputError(`sasrec semanticIds must be true or false, got ${JSON.stringify(o.semanticIds)}`, { param: 'semanticIds' });
  if (o.loss !== undefined && o.loss !== 'ce' && o.loss !== 'sampled') throw new InputError(`sasrec loss must be ce or sampled, got ${JSON.stringify(o.loss)}`, { param: 'loss' });
}

/**
 * Train SASRec on `ds` (items numbered by their rows of `index`); returns the model directory's
 * config and files (model.onnx, checkpoint.pt, trainer.json).
 */
export async function trainSasrecFiles(ds: Dataset, index: ItemIndex, where: { indexDir: string; maxHistory: number }, opts: SasrecOptions = {}): Promise<TrainedDecoder> {
  checkSasrecOptions(opts);
  const num = (ids: readonly string[]) => ids.map((id) => index.rowOf(id)).filter((r): r is number => r !== undefined).map((r) => r + 1);
  const train = ds.train.map((s) => num(s.items)).filter((s) => s.length > 1);
  const valid: number[][] = [];
  for (const e of ds.valid) {
    const t = index.rowOf(e.target);
    const h = num(e.history);
    if (t !== undefined && h.length) valid.push([...h, t + 1]);
  }
  if (!train.length) throw new InputError(`no training sequence of ${ds.dir} has two items of the index`);
  if (!valid.length) throw new InputError(`no validation example of ${ds.dir} is in the index: SASRec is early-stopped on validation`);
  const work = await makeScratch('semrec-sasrec');
  try {
    await writeRagged(path.join(work, 'train'), train);
    await writeRagged(path.join(work, 'valid'), valid);
    if (opts.semanticIds) await fs.writeFile(path.join(work, 'codes.i32'), new Uint8Array(Int32Array.from(index.codes).buffer));
    const cfg = {
      data: work,
      out: work,
      items: index.itemIds.length,
      max_len: where.maxHistory,
      d: opts.dModel ?? 64,
      layers: opts.layers ?? 2,
      heads: opts.heads ?? 2,
      dropout: opts.dropout ?? 0.5,
      lr: opts.lr ?? 1e-3,
      weight_decay: opts.weightDecay ?? 0,
      batch: opts.batchSize ?? 128,
      epochs: opts.epochs ?? 200,
      patience: opts.patience ?? 10,
      loss: opts.loss ?? 'ce',
      negatives: opts.negatives ?? 256,
      valid_sample: opts.validSample ?? 0,
      ...(opts.semanticIds ? { code_sizes: [...index.codebookSizes], level_loss: opts.levelLoss ?? 0 } : {}),
      seed: opts.seed ?? 0,
      ...(opts.threads ? { threads: opts.threads } : {}),
    };
    const cfgFile = path.join(work, 'trainer.json');
    await fs.writeFile(cfgFile, JSON.stringify(cfg, null, 2));
    const t0 = Date.now();
    const events = await runTrainer(['sasrec', '--config', cfgFile], (e) => opts.onEvent?.(e), { threads: opts.threads });
    const done = events.find((e) => e.event === 'done') ?? {};
    const layout = new TokenLayout(index.codebookSizes);
    const { data: _d, out: _o, ...recipe } = cfg;
    return {
      config: {
        format: MODEL_FORMAT,
        formatVersion: MODEL_FORMAT_VERSION,
        architecture: 'sasrec',
        indexHash: index.hash(),
        tokenLayout: layout.spec(),
        maxHistory: where.maxHistory,
        dataDir: path.resolve(ds.dir),
        indexDir: path.resolve(where.indexDir),
        params: {
          sasrec: recipe,
          items: cfg.items,
          epochsRun: done.epochs,
          bestEpoch: done.best_epoch,
          validRecall10: done.valid_recall10,
          validNdcg10: done.valid_ndcg10,
          validUsers: valid.length,
          trainerSeconds: done.seconds,
          trainSeconds: (Date.now() - t0) / 1000,
          trainSequences: train.length,
        },
      },
      files: {
        'model.onnx': await fs.readFile(path.join(work, 'model.onnx')),
        'checkpoint.pt': await fs.readFile(path.join(work, 'checkpoint.pt')),
        'trainer.json': JSON.stringify({ ...cfg, data: null, out: null }, null, 2),
      },
    };
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
