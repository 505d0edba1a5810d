/**
 * quantizer/ — semantic-ID construction: RQ-KMeans on faiss, the other indexing schemes,
 * collision resolution, the ItemIndex and its on-disk format. Never imports from src/.
 */
export { ItemIndex } from './item-index.js';
export type { IndexInfo, IndexStats, Codes } from './item-index.js';
export { buildIndex, buildIndexTrained, firstAppearanceOrder, toDigits } from './schemes.js';
export type { BuildInput, BuildOptions } from './schemes.js';
export type { NewItems } from './item-index.js';
export { saveIndex, loadIndex, loadIndexWith, readManifest, readIndexFile, INDEX_FORMAT, INDEX_FORMAT_VERSION } from './format.js';
export type { IndexManifest } from './format.js';
export { parseFactory, formatFactory } from './factory.js';
export { registerScheme, getScheme, schemeNames } from './schemes/index.js';
export type { IndexingScheme, BuildContext, BuiltCodes, AssignContext, IndexView, SchemeOptions, CodebookTrainer, TrainRequest, TrainedCodebooks } from './schemes/index.js';
export type { FactorySpec, SchemeName } from './factory.js';
export { collisionReport, resolveExtraLevel, resolveReassign, groupByTuple, tupleKey } from './collisions.js';
export type { CollisionMode, CollisionReport, CodeRanker } from './collisions.js';
export { kmeans, kmeansPlusPlus, balancedAssign } from './kmeans.js';
export type { KMeansOptions, KMeansResult } from './kmeans.js';
export { trainRQ, encodeRQ, decodeRQ, checkVectors } from './rq.js';
export type { RQOptions, RQResult } from './rq.js';
export { memoryRows, sampleRows, trainRQSampled } from './rows.js';
export type { VectorRows, SampledRQOptions, SampledRQResult } from './rows.js';
export { cooccurrence, mapCooccurrence, cooccurrenceEmbedding, hierarchicalCodes, type Cooccurrence } from './collab.js';
export { levelStats } from './stats.js';
export type { LevelStats } from './stats.js';
export { FlatIndex, nearest, loadFaiss, faissTakesTypedArrays } from './faiss.js';
export type { Metric, NearestResult } from './faiss.js';
export * from './errors.js';
