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

export { Recommender, MAX_K, MAX_BEAM, ONNX_MAX_BATCH } from './recommender.js';
export type { RecommendOptions, Recommendation, RecommendResult, LoadOptions } from './recommender.js';
export { MODEL_KINDS, loadModelKind, parsePart, kindName } from './models/kinds.js';
export type { ModelKindName, ModelPart, LoadContext, LoadedModel, FusionParams } from './models/kinds.js';
export { chooseFusionWeight, DEFAULT_FUSION_GRID, DEFAULT_FUSION_USERS } from './fusion.js';
export type { FusionChoice, FusionGridPoint, FusionOptions, FusionContext } from './fusion.js';
export { runCompare } from './compare/harness.js';
export type { CompareOptions, CompareResults } from './compare/harness.js';
export { RecommenderSlot, SlotClosedError, smokeTest } from './serve/slot.js';
export type { Generation, RecommenderLoader } from './serve/slot.js';
export { buildIndexJob, addItemsJob, removeItemsJob, candidateTrie } from './indexing.js';
export type { BuildJobOptions, AddJobOptions } from './indexing.js';
export { trainModel, trainKind } from './train.js';
export type { TrainOptions, TrainKind } from './train.js';
export type { DecoderTrainOptions } from './train-decoder.js';
export { evaluateRecommender, evaluateRankers, recommenderRanker } from './eval/evaluate.js';
export type { EvalOptions, EvalReport, RankerReport, RankersReport, RecommenderRanker } from './eval/evaluate.js';
export { seededSample } from './eval/sample.js';
export { BigramStepModel, fitBigram } from './models/bigram.js';
export type { BigramData, BigramState } from './models/bigram.js';
export { readModelConfig, writeModelDir, modelDirHash, MODEL_FORMAT, MODEL_FORMAT_VERSION } from './models/model-dir.js';
export type { ModelConfig } from './models/model-dir.js';
export { OnnxStepModel } from './models/onnx-runner.js';
export type { OnnxState, OnnxRunnerOptions } from './models/onnx-runner.js';
export { loadHfModel, layoutFromTokenizer, hfDims, promptText, HF_SERVING_FILE, HF_SERVING_FORMAT } from './models/hf-model.js';
export type { HfServingConfig, HfDims, HfModel, TokenizerLayout } from './models/hf-model.js';
export { exportHfModel } from './models/hf-export.js';
export type { HfExportOptions } from './models/hf-export.js';
export { embedItems, TfidfModel, OnnxEncoder, loadEmbeddings, encodeF32, cfEmbeddings, ppmiRows } from './embed/index.js';
export type { EmbeddingSource, ItemEmbeddings, CfEmbeddings, CfOptions } from './embed/index.js';
export { readCatalogue } from './data/items.js';
export type { Catalogue } from './data/items.js';
export * as quantizer from '../quantizer/index.js';
export * as decoding from '../decoding/index.js';
