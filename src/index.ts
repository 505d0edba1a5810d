/**
 * semrec — generative recommendation with semantic item IDs. Public API.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export type { Item, Interaction, RawDataset, MalformedLine, MalformedReport } from './data/types.js';
export { itemText } from './data/types.js';
export { toSequences, kCore, leaveOneOut, prepare } from './data/split.js';
export type { UserSequence, EvalExample, Split, PrepareOptions, PreparedDataset, DatasetCounts } from './data/split.js';
export { writeDataset, loadDataset, DATASET_FORMAT, DATASET_VERSION } from './data/store.js';
export type { Dataset, DatasetMeta } from './data/store.js';
export { loadSource, FORMATS } from './data/sources.js';
export type { SourceFiles, SourceFormat } from './data/sources.js';
export { loadAmazon2014, loadP5, loadRecbole, loadMovieLens, loadGeneric } from './data/loaders/index.js';
export { parsePyLiteral, PyLiteralError } from './data/pyliteral.js';
export type { PyValue } from './data/pyliteral.js';
export { synthesize } from './data/synth.js';
export type { SynthOptions } from './data/synth.js';
export { MetricAccumulator, recallAt, ndcgAt, dedupe } from './eval/metrics.js';
export type { RankingMetrics } from './eval/metrics.js';
export { PopularityRanker, MarkovRanker } from './eval/baselines.js';
export type { Ranker } from './eval/baselines.js';
export { Rng } from '../quantizer/rng.js';
