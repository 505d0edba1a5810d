/**
 * The descriptive types of an index, in a module of their own so that the schemes (which build
 * them) and the ItemIndex (which holds them) both import them without importing each other.
 */
import type { CollisionMode, CollisionReport } from './collisions.js';

/** A scheme name (see the registry, quantizer/schemes/index.ts). */
export type SchemeName = string;

/** Descriptive metadata of an index (what index.json records besides file checksums). */
export interface IndexInfo {
  scheme: SchemeName;
  /** Canonical factory string, e.g. `rqkmeans:3x256`. */
  factory: string;
  seed: number;
  /** How collisions were resolved (`none` for schemes that are collision-free by construction). */
  collisions: CollisionMode | 'none';
  /** Levels produced by the scheme, before an `extra-level` disambiguation level. */
  schemeLevels: number;
  /** Embedding dimension of the codebooks (0 when the scheme has none). */
  dim: number;
  /** Scheme parameters (balanced, iterations, encoder, ...). */
  params: Record<string, unknown>;
  /** 1 for a fresh build, +1 for every incremental add. */
  indexVersion: number;
  /** Items added incrementally since the build. */
  addedItems: number;
  /** Collisions before resolution (at build time). */
  collisionReport: CollisionReport;
  /** Mean squared reconstruction error after each codebook level (semantic schemes). */
  mse?: number[];
  /**
   * Content hashes of the indexes this one descends from through `assign` (index add) and
   * `retire` (index remove), oldest first. Every ancestor's rows are rows of this index with the
   * same id and tuple, so a model trained on an ancestor can serve this index.
   */
  lineage?: string[];
}
