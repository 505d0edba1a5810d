/**
 * Index jobs: catalogue → embeddings → ItemIndex → verified directory (build), and
 * index + new items → new index version (add). The CLI and library users call these.
 */
import { buildIndexTrained, getScheme, INDEX_FORMAT, loadIndexWith, parseFactory, saveIndex, type CodebookTrainer, type CollisionMode, type FactorySpec, type IndexingScheme, type IndexManifest, type ItemIndex, type VectorRows } from '../../quantizer/index.js';
import { checkWritable } from '../../quantizer/core/index.js';
import { PrefixTrie } from '../../decoding/index.js';
import { DataError, InputError } from '../errors.js';
import type { Item } from '../data/types.js';
import { embedItems, type EmbeddingSource } from './embed/index.js';
import { ENCODER_FILES, ItemEncoder } from './embed/encoder.js';
import { openEmbeddingRows } from './embed/npy.js';
import { mlpForward } from './embed/latent.js';
import { trainRqvae, type RqvaeOptions } from './rqvae.js';

/** The prefix trie of an index's candidates: every live item (retired ones left out), by row. */
export function candidateTrie(index: ItemIndex): PrefixTrie {
  return PrefixTrie.build(index.codes, index.size, index.codebookSizes, index.retiredRows.length ? { rows: index.liveRows() } : {});
}

/** Options of {@link buildIndexJob}. */
export interface BuildJobOptions {
  items: readonly Item[];
  /** Training sequences (required by sequential, collab, hybrid). */
  sequences?: ReadonlyArray<readonly string[]>;
  /** Factory string, e.g. `rqkmeans:3x256`. */
  scheme: string;
  collisions?: CollisionMode;
  seed?: number;
  balanced?: boolean;
  iterations?: number;
  extraLevelSize?: number;
  /** Embedding source for semantic schemes (default: built-in TF-IDF + SVD, 64 dims). */
  embeddings?: EmbeddingSource;
  /** Output directory (written atomically). */
  out: string;
  /** Replace a semrec artifact of another kind at `out` (never unrelated files). */
  force?: boolean;
  /** The job's inputs (files or directories): a forced replacement never removes a directory holding one. */
  inputs?: readonly string[];
  /** Progress: (stage, done, total). */
  onProgress?: (stage: string, done: number, total: number) => void;
  /** Save an index even when {@link degeneracy} finds it degenerate (default false: refuse). */
  allowDegenerate?: boolean;
  /** RQ-VAE training settings (scheme `rqvae`). */
  rqvae?: Omit<RqvaeOptions, 'seed' | 'onProgress'>;
  /**
   * rqkmeans: train the codebooks on a seeded random sample of this many items and assign every
   * item in chunks (quantizer/rows.ts). With embeddings from a file, the file is then read in
   * pieces, never whole: an index build beyond memory.
   */
  trainSample?: number;
  /** Items assigned per chunk with `trainSample` (default 65,536). */
  chunkRows?: number;
}

/**
 * Why an index is degenerate, or undefined: most items on one tuple before resolution; an extra
 * disambiguation level larger than every codebook of the scheme, carrying a quarter of the catalogue
 * in one group although the scheme has room for every item; or a semantic level whose items all
 * share one code. Such IDs carry little or no information (typically: embeddings that cannot tell
 * the items apart, e.g. a catalogue without item text).
 */
export function degeneracy(index: ItemIndex, scheme: IndexingScheme | undefined = getScheme(index.info.scheme)): string | undefined {
  const st = index.stats();
  const n = st.items;
  if (n < 4) return undefined;
  const L = index.info.schemeLevels;
  if (st.maxGroup > n / 2) return `${st.maxGroup} of ${n} items share one tuple before collision resolution`;
  const sizes = st.codebookSizes.slice(0, L);
  const largest = Math.max(...sizes);
  const capacity = sizes.reduce((a, b) => a * b, 1);
  if (st.levels > L && st.codebookSizes[L] > largest && st.maxGroup > n / 4 && capacity >= n) {
    return `${st.maxGroup} of ${n} items share one tuple and the disambiguation level needs ${st.codebookSizes[L]} codes, more than any level of the scheme (${largest})`;
  }
  if (scheme?.needsEmbeddings) {
    const one = st.perLevel.slice(0, L).findIndex((l) => l.used === 1 && l.size > 1);
    if (one >= 0) return `every item has the same code at level ${one + 1}`;
  }
  return undefined;
}

/** Files and directories an embedding source reads (inputs a forced replacement must not remove). */
function embeddingInputs(src: EmbeddingSource | undefined): string[] {
  if (!src || typeof src !== 'object') return [];
  if (src.kind === 'file') return [src.file];
  if (src.kind === 'onnx') return [src.dir];
  return [];
}

/** Build an index for a catalogue and save it (with its item encoder) to `opts.out`. */
export async function buildIndexJob(opts: BuildJobOptions): Promise<{ index: ItemIndex; manifest: IndexManifest }> {
  const spec = parseFactory(opts.scheme); // parsed once: the spec (with its scheme) goes everywhere below
  const scheme = spec.impl!;
  const inputs = [...(opts.inputs ?? []), ...embeddingInputs(opts.embeddings)];
  await checkWritable(opts.out, { kind: INDEX_FORMAT, force: opts.force, inputs });
  if (!scheme.needsEmbeddings && opts.embeddings && opts.embeddings.kind !== 'tfidf' && opts.embeddings.kind !== 'cf' && opts.embeddings.kind !== 'text+cf') {
    throw new InputError(`the ${spec.scheme} scheme does not use item embeddings; drop them (or choose a semantic scheme such as rqkmeans)`, { param: 'embeddings' });
  }
  // embeddings from a file with a training sample: read in pieces (rows), never loaded whole
  const sampled = opts.trainSample !== undefined || opts.chunkRows !== undefined;
  if (sampled && scheme.name !== 'rqkmeans') throw new InputError(`a training sample (--train-sample / --chunk-rows) is for scheme rqkmeans, not ${scheme.name}`, { param: 'trainSample' });
  const embFile = sampled && opts.embeddings?.kind === 'file' ? opts.embeddings.file : undefined;
  const file = embFile !== undefined ? await openEmbeddingRows(embFile) : undefined;
  try {
    if (file && file.rows.n !== opts.items.length) throw new InputError(`${embFile} has ${file.rows.n} rows but there are ${opts.items.length} items (rows must follow the items file)`);
    // the item encoder (semantic schemes): fitted here, stored with the index, used again by index add
    const fitted = file
      ? { encoder: ItemEncoder.precomputed(file.rows.d), dim: file.rows.d, name: `file:${embFile}` }
      : scheme.needsEmbeddings
        ? await ItemEncoder.fit(opts.items, opts.embeddings ?? { kind: 'tfidf', seed: opts.seed }, (d, t) => opts.onProgress?.('embedding items', d, t))
        : undefined;
    return await finishBuild(opts, spec, inputs, fitted, file?.rows);
  } finally {
    await file?.close();
  }
}

/** {@link buildIndexJob} once the item encoder is fitted (or the embeddings file opened for reading in pieces). */
async function finishBuild(
  opts: BuildJobOptions,
  spec: FactorySpec,
  inputs: readonly string[],
  fitted: { encoder: ItemEncoder; x?: Float32Array; dim: number; name: string; cfCovered?: number } | undefined,
  rows: VectorRows | undefined,
): Promise<{ index: ItemIndex; manifest: IndexManifest }> {
  const scheme = spec.impl!;
  const { index, trained } = await buildIndexTrained(
    { ids: opts.items.map((i) => i.id), embeddings: fitted?.x, dim: fitted?.dim, sequences: opts.sequences, rows },
    {
      scheme: spec,
      collisions: opts.collisions,
      seed: opts.seed,
      balanced: opts.balanced,
      iterations: opts.iterations,
      extraLevelSize: opts.extraLevelSize,
      onProgress: opts.onProgress,
      trainers: codebookTrainers(opts),
      trainSample: opts.trainSample,
      chunkRows: opts.chunkRows,
    },
  );
  // a learned latent encoder (rqvae) follows the base encoder for new items
  const encoder = fitted && trained ? fitted.encoder.withLatent(trained.encoder.dims, trained.encoder.weights) : fitted?.encoder;
  if (trained) index.info.params[scheme.trainedBy!] = trained.report;
  const why = degeneracy(index, scheme);
  if (why && !opts.allowDegenerate) {
    throw new DataError(
      `the ${spec.factory} index is degenerate: ${why}. The item embeddings cannot tell the items apart (no or identical item text?). ` +
        `Use collaborative embeddings (--embed cf or text+cf, with the training sequences) or the collab scheme (collab:${spec.factory.split(':')[1] ?? '3x256'}), or pass allowDegenerate (--allow-degenerate) to keep it.`,
    );
  }
  if (fitted) index.info.params.encoder = trained ? `${fitted.name}→${scheme.trainedBy}-mlp:${trained.encoder.dims.join('-')}` : fitted.name;
  if (fitted?.cfCovered !== undefined) index.info.params.cfCovered = fitted.cfCovered;
  const manifest = await saveIndex(index, opts.out, { extraFiles: encoder?.files() ?? {}, force: opts.force, inputs });
  return { index, manifest };
}

/** The codebook trainers a build context offers schemes with `trainedBy` (the PyTorch RQ-VAE trainer). */
function codebookTrainers(opts: BuildJobOptions): Record<string, CodebookTrainer> {
  return {
    rqvae: async (req) => {
      const t = await trainRqvae(req.embeddings, req.n, req.dim, req.sizes, { ...opts.rqvae, seed: opts.seed, onProgress: (ep, eps) => req.onProgress?.('training RQ-VAE', ep, eps) });
      return { codebooks: t.codebooks, latents: mlpForward(t.dims, t.weights, req.embeddings, req.n), latentDim: t.dims[t.dims.length - 1], encoder: { dims: t.dims, weights: t.weights }, report: t.report as unknown as Record<string, unknown> };
    },
  };
}

/**
 * Retire items: write a new index version in which they are no longer candidates. They stay
 * rows, so their tuples are never given to another item, rows do not shift, and models trained
 * on the old index serve the new one (lineage). Unknown or already retired ids are refused.
 */
export async function removeItemsJob(opts: { index: string; ids: readonly string[]; out: string; force?: boolean; inputs?: readonly string[] }): Promise<{ index: ItemIndex; manifest: IndexManifest; removed: number }> {
  const { index: old, files: extras } = await loadIndexWith(opts.index, ENCODER_FILES);
  const index = old.retire(opts.ids);
  const manifest = await saveIndex(index, opts.out, { extraFiles: extras, force: opts.force, inputs: [...(opts.inputs ?? []), opts.index] });
  return { index, manifest, removed: opts.ids.length };
}

/** Options of {@link addItemsJob}. */
export interface AddJobOptions {
  /** Existing index directory (left untouched). */
  index: string;
  items: readonly Item[];
  /** Embeddings of the new items; default: the encoder stored with the index. */
  embeddings?: EmbeddingSource;
  /** Output directory for the new version (may equal `index` to replace it atomically). */
  out: string;
  /** Replace a semrec artifact of another kind at `out` (never unrelated files). */
  force?: boolean;
  /** The job's inputs (files or directories): a forced replacement never removes a directory holding one. */
  inputs?: readonly string[];
  seed?: number;
}

/** Give new items IDs with an existing index and write the new index version. */
export async function addItemsJob(opts: AddJobOptions): Promise<{ index: ItemIndex; manifest: IndexManifest; added: number }> {
  const { index: old, files: extras } = await loadIndexWith(opts.index, ENCODER_FILES);
  let embeddings: Float32Array | undefined;
  let dim: number | undefined;
  if (old.codebooks.length) {
    // new items are embedded by the encoder stored with the index (or from the embeddings given)
    const enc = ItemEncoder.load(extras);
    let e: { x: Float32Array; dim: number };
    if (enc) e = await enc.embed(opts.items, opts.embeddings);
    else if (opts.embeddings) e = await embedItems(opts.items, opts.embeddings);
    else throw new InputError(`the index was built from precomputed embeddings; pass the new items' embeddings`, { param: 'embeddings' });
    ({ x: embeddings, dim } = e);
  }
  const index = old.assign({ ids: opts.items.map((i) => i.id), embeddings, dim }, { seed: opts.seed });
  const manifest = await saveIndex(index, opts.out, { extraFiles: extras, force: opts.force, inputs: [...(opts.inputs ?? []), opts.index, ...embeddingInputs(opts.embeddings)] });
  return { index, manifest, added: opts.items.length };
}
