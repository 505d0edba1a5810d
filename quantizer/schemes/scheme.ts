/**
 * The interface every indexing scheme implements (faiss-style: one interface, a family behind
 * it, named by factory strings such as `rqkmeans:3x256`). A scheme turns items into code tuples
 * (`build`) and places items added later (`assign`); the engine around it (buildIndex,
 * ItemIndex.assign) does the rest: checks, collision resolution, the ItemIndex itself. Register
 * one with {@link registerScheme}; adding a scheme is one new file and one line.
 */
import type { CollisionMode, CollisionReport } from '../collisions.js';
import type { IndexInfo } from '../info.js';
import type { VectorRows } from '../rows.js';

/** What a scheme may need: ids always; content embeddings and/or training sequences by scheme. */
export interface BuildInput {
  ids: readonly string[];
  /** n × dim content embeddings (rqkmeans, hybrid). */
  embeddings?: Float32Array;
  dim?: number;
  /**
   * The content embeddings read on demand instead of `embeddings` (rqkmeans): a matrix that need
   * not fit in memory — codebooks trained on `trainSample` rows, every row assigned in chunks.
   */
  rows?: VectorRows;
  /** Training sequences of item ids (sequential, collab, hybrid). */
  sequences?: ReadonlyArray<readonly string[]>;
  /**
   * Codebooks trained outside quantizer/, one K_l × dim array per scheme level, for schemes with
   * {@link IndexingScheme.trainedBy} (rqvae: `embeddings` are then the trained encoder's latents).
   */
  codebooks?: Float32Array[];
}

/** Scheme-relevant options of a build. */
export interface SchemeOptions {
  /** Capacity-balanced k-means assignment at each level (semantic schemes). */
  balanced?: boolean;
  /** Lloyd iterations per level (default 20). */
  iterations?: number;
  /** Dimension of the collaborative (spectral) embedding (default 64). */
  collabDim?: number;
  /**
   * rqkmeans: train the codebooks on a seeded random sample of this many rows and assign every row
   * in chunks (quantizer/rows.ts); the default trains on all rows in memory.
   */
  trainSample?: number;
  /** rqkmeans with a training sample: rows assigned per chunk (default 65,536). */
  chunkRows?: number;
  /** Progress: (stage, done, total). */
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** What buildIndex hands a scheme. */
export interface BuildContext {
  /** Codebook size per level, from the factory string. */
  sizes: number[];
  /** Canonical factory string. */
  factory: string;
  seed: number;
  /** Collision resolution asked for (schemes that can collide call `resolve`). */
  mode: CollisionMode;
  opts: SchemeOptions;
  /** The training sequences, or a typed error saying the scheme needs them. */
  sequences(): ReadonlyArray<readonly string[]>;
  /** Resolve collisions of raw codes with `mode` (hints: per-row cost and last-level code ranking, for `reassign`). */
  resolve(codes: Uint16Array, hints?: { cost: ArrayLike<number>; rank: (row: number) => ArrayLike<number> }): { codes: Uint16Array; sizes: number[]; report: CollisionReport };
}

/** What a codebook trainer is asked (item content embeddings in; `sizes` per scheme level). */
export interface TrainRequest {
  embeddings: Float32Array;
  n: number;
  dim: number;
  sizes: readonly number[];
  seed: number;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * What a codebook trainer returns: the codebooks over a learned latent space, every item's latent
 * (n × latentDim) and the latent encoder (an MLP: `dims` input first, float32 `weights`) that
 * places items added later; `report` is recorded in the index's params.
 */
export interface TrainedCodebooks {
  codebooks: Float32Array[];
  latents: Float32Array;
  latentDim: number;
  encoder: { dims: number[]; weights: Float32Array };
  report: Record<string, unknown>;
}

/**
 * A codebook trainer the engine provides to schemes with {@link IndexingScheme.trainedBy}
 * (quantizer/ itself never runs Python): passed to {@link buildIndexTrained} as `trainers`.
 */
export type CodebookTrainer = (req: TrainRequest) => Promise<TrainedCodebooks>;

/** A scheme's result: final collision-free codes and what the index records about them. */
export interface BuiltCodes {
  codes: Uint16Array;
  /** Final sizes (with an extra level when collisions were resolved that way). */
  sizes: number[];
  collisions: CollisionMode | 'none';
  /** Embedding dimension of the codebooks (0 without). */
  dim: number;
  params: Record<string, unknown>;
  report: CollisionReport;
  mse?: number[];
  codebooks?: Float32Array[];
}

/** The existing index, as a scheme's `assign` sees it (read-only). */
export interface IndexView {
  readonly itemIds: readonly string[];
  readonly codes: Uint16Array;
  readonly codebookSizes: readonly number[];
  readonly info: IndexInfo;
  readonly codebooks: readonly Float32Array[];
  readonly levels: number;
  readonly size: number;
}

/** What ItemIndex.assign hands a scheme for items added later. */
export interface AssignContext {
  index: IndexView;
  /** (n + m) × levels codes: rows < n are the index's (never to change), rows ≥ n to fill. */
  all: Uint16Array;
  newIds: readonly string[];
  /** m × contentDim embeddings of the new items (semantic schemes). */
  embeddings?: Float32Array;
  dim?: number;
  seed: number;
}

/** An indexing scheme. */
export interface IndexingScheme {
  /** Factory name, e.g. `rqkmeans`. */
  readonly name: string;
  /** Other names accepted in factory strings. */
  readonly aliases?: readonly string[];
  /** One line for help and reports. */
  readonly description: string;
  /** The scheme quantises item content embeddings (`BuildInput.embeddings` required). */
  readonly needsEmbeddings?: boolean;
  /**
   * The codebooks are learned by a trainer of this name, which the build context provides
   * (`buildIndexTrained(input, { trainers })`; `semrec index build` provides the PyTorch ones):
   * it returns the codebooks, every item's latent and the latent encoder, and `build` receives the
   * latents as `BuildInput.embeddings` and the codebooks as `BuildInput.codebooks`. New items'
   * latents come from the encoder stored with the index.
   */
  readonly trainedBy?: string;
  build(input: BuildInput, ctx: BuildContext): BuiltCodes;
  /** Fill rows n.. of `ctx.all` for new items; existing rows must not change; collision-free. */
  assign(ctx: AssignContext): void;
}
