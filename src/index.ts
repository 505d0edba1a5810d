/**
 * semrec — generative recommendation with semantic item IDs. The public API: what a service, an
 * index job or a researcher calls. Everything else is internal and may change. The HTTP server is
 * a separate entry point, `semrec/serve` (so that this one does not load fastify). See
 * docs/api.md for the same list with one line per name.
 *
 * @packageDocumentation
 */

// ── errors: one family, stable codes ────────────────────────────────────────────────────────
export { SemrecError, InputError, FormatError, NotFoundError, DataError, EmptyHistoryError, ModelError, UnavailableError } from './errors.js';
export type { SemrecErrorCode } from './errors.js';
export { QuantizerError, IndexFormatError, CollisionError, FaissUnavailableError } from '../quantizer/index.js';
export { DecodingError } from '../decoding/index.js';

// ── serving ──────────────────────────────────────────────────────────────────────────────────
export { Recommender, MAX_K, MAX_BEAM } from './serving/recommender.js';
export type { RecommendOptions, Recommendation, RecommendResult, LoadOptions } from './serving/recommender.js';
export { RecommenderSlot, SlotClosedError } from './serving/slot.js';
export { recommendBatch, datasetRequests, readBatchRequests } from './serving/batch.js';
export type { BatchRequest, BatchOptions, BatchReport } from './serving/batch.js';
export type { Generation, RecommenderLoader } from './serving/slot.js';
export { semiSpaceMb, youngGenerationAdvice } from './util/runtime.js';
export type { ModelKindName, ModelPart } from './serving/model/kinds.js';

// ── data ─────────────────────────────────────────────────────────────────────────────────────
export type { Item, Interaction, RawDataset, MalformedReport } from './data/types.js';
export { loadSource, FORMATS } from './data/sources.js';
export type { SourceFiles, SourceFormat } from './data/sources.js';
export { prepare } from './data/split.js';
export type { UserSequence, EvalExample, PrepareOptions, PreparedDataset, DatasetCounts } from './data/split.js';
export { writeDataset, loadDataset } from './data/store.js';
export type { Dataset, DatasetMeta } from './data/store.js';
export { readCatalogue } from './data/items.js';
export type { Catalogue } from './data/items.js';
export { synthesize } from './data/synth.js';
export type { SynthOptions } from './data/synth.js';

// ── indexes (semantic IDs) ───────────────────────────────────────────────────────────────────
export { buildIndexJob, addItemsJob, removeItemsJob, degeneracy } from './indexing/jobs.js';
export type { BuildJobOptions, AddJobOptions } from './indexing/jobs.js';
export type { EmbeddingSource } from './indexing/embed/index.js';
export { ItemEncoder } from './indexing/embed/encoder.js';
export { ItemIndex, buildIndex, buildIndexTrained, loadIndex, saveIndex, parseFactory, registerScheme, schemeNames } from '../quantizer/index.js';
export type { IndexInfo, IndexStats, CollisionMode, FactorySpec, SchemeName, BuildInput, BuildOptions, NewItems, IndexingScheme, BuildContext, BuiltCodes, AssignContext, CodebookTrainer, TrainRequest, TrainedCodebooks } from '../quantizer/index.js';

// ── artifacts (index, model and dataset directories) ─────────────────────────────────────────
export { resolveArtifact, resealArtifact, MANIFEST_FILE, POINTER_FILE } from '../quantizer/core/index.js';

// ── training and models ──────────────────────────────────────────────────────────────────────
export { trainModel, trainKind, trainNodeRanks } from './training/train.js';
export { TRAIN_KINDS } from './training/kinds.js';
export type { TrainerKind, TrainJob } from './training/kinds.js';
export type { TrainerNodes } from './training/python.js';
export type { NodeRanks } from './training/train-decoder.js';
export type { TrainOptions, TrainKind } from './training/train.js';
export type { DecoderTrainOptions } from './training/train-decoder.js';
export type { SasrecOptions } from './training/sasrec.js';
export { ItemScoreStepModel } from './serving/model/item-scores.js';
export type { ItemScorer } from './serving/model/item-scores.js';
export type { FusionChoice, FusionOptions } from './training/fusion.js';
export type { TransitionChoice, TransitionSelectOptions } from './training/transition-select.js';
export type { SeenChoice } from './training/seen-select.js';
export type { FixedSeenPolicy } from './training/train.js';
export type { TransitionShape } from './serving/model/transition.js';
export type { RqvaeOptions, RqvaeReport } from './indexing/rqvae.js';
export { readModelConfig, MODEL_FORMAT } from './serving/model/model-dir.js';
export type { ModelConfig } from './serving/model/model-dir.js';
export { exportHfModel } from './training/hf-export.js';
export type { HfExportOptions } from './training/hf-export.js';
export type { FineTuneOptions, FineTuneTask } from './training/finetune.js';
export { llmCheck } from './training/llm-check.js';
export type { LlmCheckOptions, LlmCheckReport } from './training/llm-check.js';
export { DEFAULT_PROMPT, renderPrompt } from './serving/model/prompt.js';
export type { PromptSpec } from './serving/model/prompt.js';

// ── decoding core (for custom models: any StepModel decodes under the trie) ───────────────────
export { PrefixTrie, beamSearch, TokenLayout, FusedStepModel } from '../decoding/index.js';
export type { StepModel, StepOutput, CandidateFilter, BeamRequest, BeamSearchOptions, BeamHit, TokenLayoutSpec } from '../decoding/index.js';

// ── evaluation and comparisons ───────────────────────────────────────────────────────────────
export { evaluateRecommender, evaluateRankers, recommenderRanker } from './eval/evaluate.js';
export type { EvalOptions, EvalReport, RankerReport, RankersReport } from './eval/evaluate.js';
export { PopularityRanker, MarkovRanker } from './eval/baselines.js';
export type { Ranker } from './eval/baselines.js';
export { recallAt, ndcgAt } from './eval/metrics.js';
export type { RankingMetrics } from './eval/metrics.js';
export { seededSample } from './eval/sample.js';
export { mergeEvalShards, parseShard, readEvalShard, shardOf } from './eval/shard.js';
export type { EvalShardFile, MergedEval, RankerShard, ShardSpec } from './eval/shard.js';
export { runCompare, runCompareShard } from './compare/harness.js';
export type { CompareShardReport } from './compare/harness.js';
export type { CompareOptions, CompareResults, BaselineRun, BaselineSettings } from './compare/harness.js';
