/**
 * Building an {@link ItemIndex} with any registered indexing scheme named by a factory string
 * (schemes/: one file per scheme behind one interface). Every scheme ends in the same
 * collision-free ItemIndex, so the generator, the trie and the evaluation treat them alike.
 */
import { collisionReport, resolveExtraLevel, resolveReassign, type CollisionMode } from './collisions.js';
import { QuantizerInputError } from './errors.js';
import { parseFactory, type FactorySpec } from './factory.js';
import { ItemIndex, type IndexInfo } from './item-index.js';
import { getScheme, type BuildContext, type BuildInput, type CodebookTrainer, type SchemeOptions, type TrainedCodebooks } from './schemes/index.js';

export type { BuildInput } from './schemes/index.js';
export { firstAppearanceOrder, toDigits } from './schemes/index.js';

/** Options of {@link buildIndex}. */
export interface BuildOptions extends SchemeOptions {
  /** Factory string (e.g. `rqkmeans:3x256`) or parsed spec. */
  scheme: string | FactorySpec;
  /** Collision resolution for schemes that can collide (default `extra-level`). */
  collisions?: CollisionMode;
  seed?: number;
  /** Size of the extra disambiguation level (default: max(8, next power of two ≥ 2 × largest group)). */
  extraLevelSize?: number;
}

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** Build an index with the scheme named in `opts.scheme`. */
export function buildIndex(input: BuildInput, opts: BuildOptions): ItemIndex {
  const spec = typeof opts.scheme === 'string' ? parseFactory(opts.scheme) : opts.scheme;
  const scheme = spec.impl ?? getScheme(spec.scheme);
  if (!scheme) throw new QuantizerInputError(`unknown scheme ${JSON.stringify(spec.scheme)}`);
  const seed = opts.seed ?? 0;
  const mode = opts.collisions ?? 'extra-level';
  if (mode !== 'extra-level' && mode !== 'reassign') throw new QuantizerInputError(`unknown collision mode ${JSON.stringify(mode)}`);
  const n = input.ids.length;
  if (n === 0) throw new QuantizerInputError('no items to index');
  if ((input.rows || opts.trainSample !== undefined || opts.chunkRows !== undefined) && scheme.name !== 'rqkmeans') {
    throw new QuantizerInputError(`a training sample and rows read in chunks are for scheme rqkmeans (its codebooks are trained on the sample), not ${scheme.name}`, { param: 'trainSample' });
  }
  const sizes = spec.sizes;
  const ctx: BuildContext = {
    sizes,
    factory: spec.factory,
    seed,
    mode,
    opts,
    sequences: () => {
      if (!input.sequences) throw new QuantizerInputError(`scheme ${spec.scheme} needs training sequences`, { param: 'data' });
      return input.sequences;
    },
    resolve: (codes, hints) => {
      const L = sizes.length;
      const report = collisionReport(codes, n, L);
      if (mode === 'extra-level') {
        const extra = opts.extraLevelSize ?? Math.max(8, nextPow2(2 * report.maxGroup));
        return { codes: resolveExtraLevel(codes, n, L, extra), sizes: [...sizes, extra], report };
      }
      resolveReassign(codes, n, L, sizes[L - 1], hints ?? {});
      return { codes, sizes, report };
    },
  };
  const built = scheme.build(input, ctx);
  const info: IndexInfo = {
    scheme: scheme.name,
    factory: spec.factory,
    seed,
    collisions: built.collisions,
    schemeLevels: sizes.length,
    dim: built.dim,
    params: built.params,
    indexVersion: 1,
    addedItems: 0,
    collisionReport: built.report,
    ...(built.mse ? { mse: built.mse } : {}),
  };
  return new ItemIndex(input.ids, built.codes, built.sizes, info, built.codebooks ?? []);
}

/**
 * {@link buildIndex} for every scheme, those whose codebooks are learned by a trainer
 * ({@link IndexingScheme.trainedBy}) included: the trainer comes from `trainers` (the build
 * context), is given the items' embeddings, and its latents and codebooks are what the scheme
 * builds from. Returns the index and, for such schemes, what the trainer learned (its latent
 * encoder is stored with the index so that new items are placed the same way).
 */
export async function buildIndexTrained(input: BuildInput, opts: BuildOptions & { trainers?: Readonly<Record<string, CodebookTrainer>> }): Promise<{ index: ItemIndex; trained?: TrainedCodebooks }> {
  const spec = typeof opts.scheme === 'string' ? parseFactory(opts.scheme) : opts.scheme;
  const scheme = spec.impl ?? getScheme(spec.scheme);
  if (!scheme) throw new QuantizerInputError(`unknown scheme ${JSON.stringify(spec.scheme)}`);
  if (!scheme.trainedBy) return { index: buildIndex(input, { ...opts, scheme: { ...spec, impl: scheme } }) };
  const train = opts.trainers?.[scheme.trainedBy];
  if (!train) throw new QuantizerInputError(`scheme ${scheme.name} learns its codebooks with the ${scheme.trainedBy} trainer, which this build was not given (buildIndexJob / \`semrec index build\` provide it)`, { param: 'trainers' });
  if (!input.embeddings || !input.dim) throw new QuantizerInputError(`scheme ${scheme.name} needs the items' content embeddings`);
  const trained = await train({ embeddings: input.embeddings, n: input.ids.length, dim: input.dim, sizes: spec.sizes, seed: opts.seed ?? 0, onProgress: opts.onProgress });
  const index = buildIndex({ ...input, embeddings: trained.latents, dim: trained.latentDim, codebooks: trained.codebooks }, { ...opts, scheme: { ...spec, impl: scheme } });
  return { index, trained };
}
