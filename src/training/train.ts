/**
 * Training jobs: {@link trainModel} opens a job's dataset and index once, checks what every kind
 * shares, and hands the job to its kind (training/kinds.ts — one object per kind: transition,
 * transformer, llm, fused, sasrec). {@link trainNodeRanks} runs another node's ranks of a
 * multi-node transformer training.
 */
import { TokenLayout } from '../../decoding/index.js';
import { candidateTrie } from '../indexing/jobs.js';
import { loadIndex } from '../../quantizer/index.js';
import { checkWritable } from '../../quantizer/core/index.js';
import { loadDataset } from '../data/store.js';
import { InputError } from '../errors.js';
import type { DecodeContext } from '../eval/decode.js';
import { MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelConfig } from '../serving/model/model-dir.js';
import path from 'node:path';
import { trainDecoderRanks, type NodeRanks } from './train-decoder.js';
import { trainerKind, type TrainerKind } from './kinds.js';
import type { TrainKind, TrainOptions } from './options.js';

export type { FixedSeenPolicy, TrainKind, TrainOptions } from './options.js';

/** Resolve a kind name or alias (`undefined`: `fused`); a typed error names the kinds. */
export function trainKind(arch: string | undefined): TrainKind {
  return trainerKind(arch).name;
}

/** Multi-node settings are for a transformer trained here (kinds transformer and fused). */
function checkNodeKind(kind: TrainerKind, opts: TrainOptions): void {
  if (!opts.decoder?.nodes) return;
  if (!kind.trainsTransformer(opts)) throw new InputError(`multi-node training (--nnodes) trains a transformer: kind transformer, llm or fused without --transformer-from, not ${opts.transformerFrom !== undefined ? 'a reused transformer' : kind.name}`, { param: 'nodes' });
}

/** Train a model on a dataset's train split under an index; returns its config. */
export async function trainModel(opts: TrainOptions): Promise<ModelConfig> {
  const kind = trainerKind(opts.arch);
  if (opts.transformerFrom !== undefined && kind.name !== 'fused') throw new InputError(`transformerFrom is for fused models, not ${kind.name}`, { param: 'transformerFrom' });
  opts = kind.prepare?.(opts) ?? opts;
  checkNodeKind(kind, opts);
  if ((opts.decoder?.nodes?.rank ?? 0) > 0) throw new InputError(`node ${opts.decoder!.nodes!.rank} of a multi-node run trains its ranks only (trainNodeRanks); node 0 writes the model`, { param: 'nodes' });
  opts = { ...opts, inputs: [...(opts.inputs ?? []), opts.data, opts.index] };
  await checkWritable(opts.out, { kind: MODEL_FORMAT, force: opts.force, inputs: opts.inputs }); // refuse before training, not after
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  const maxHistory = opts.maxHistory ?? ds.meta.split.maxHistory;
  const layout = new TokenLayout(index.codebookSizes);
  const base = {
    format: MODEL_FORMAT,
    formatVersion: MODEL_FORMAT_VERSION,
    indexHash: index.hash(),
    tokenLayout: layout.spec(),
    maxHistory,
    dataDir: path.resolve(opts.data),
    indexDir: path.resolve(opts.index),
  } as const;
  if (opts.transitionFit !== undefined && opts.transitionFit !== 'train' && opts.transitionFit !== 'train+valid') throw new InputError(`transitionFit must be train or train+valid, got ${JSON.stringify(opts.transitionFit)}`, { param: 'transitionFit' });
  if (opts.seen !== undefined && !['auto', 'keep', 'exclude'].includes(opts.seen)) throw new InputError(`seen must be auto, keep or exclude, got ${JSON.stringify(opts.seen)}`, { param: 'seen' });
  const trie = candidateTrie(index);
  const ctx: DecodeContext = { index, trie, layout, maxHistory };
  return kind.train({ opts, ds, index, trie, layout, ctx, maxHistory, base });
}

/**
 * A node other than node 0 of a multi-node transformer training (`decoder.nodes.rank > 0`): the
 * same data, index and settings as node 0's {@link trainModel}; runs this node's ranks and writes
 * nothing (node 0 writes the model, its transition part and fusion included).
 */
export async function trainNodeRanks(opts: TrainOptions): Promise<NodeRanks> {
  const kind = trainerKind(opts.arch);
  opts = kind.prepare?.(opts) ?? opts;
  checkNodeKind(kind, opts);
  const nodes = opts.decoder?.nodes;
  if (!nodes) throw new InputError('trainNodeRanks is for a node of a multi-node run (decoder.nodes)', { param: 'nodes' });
  const [ds, index] = await Promise.all([loadDataset(opts.data), loadIndex(opts.index)]);
  const maxHistory = opts.maxHistory ?? ds.meta.split.maxHistory;
  return trainDecoderRanks(ds, index, { indexDir: opts.index, maxHistory }, { ...opts.decoder, nodes });
}
