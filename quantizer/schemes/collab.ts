/** `collab:LxK` — hierarchical k-means on a spectral embedding of item co-occurrence. */
import { cooccurrenceEmbedding, hierarchicalCodes } from '../collab.js';
import { assignRandomFree } from './common.js';
import type { IndexingScheme } from './scheme.js';

export const collabScheme: IndexingScheme = {
  name: 'collab',
  description: 'hierarchical k-means on a spectral embedding of item co-occurrence in the training sequences',
  build(input, ctx) {
    const n = input.ids.length;
    ctx.opts.onProgress?.('co-occurrence embedding', 0, 1);
    const emb = cooccurrenceEmbedding(input.ids, ctx.sequences(), { dim: ctx.opts.collabDim, seed: ctx.seed });
    ctx.opts.onProgress?.('hierarchical k-means', 0, 1);
    const raw = hierarchicalCodes(emb.x, n, emb.dim, ctx.sizes, ctx.seed);
    const r = ctx.resolve(raw);
    return { codes: r.codes, sizes: r.sizes, collisions: ctx.mode, dim: 0, params: { collabDim: emb.dim }, report: r.report };
  },
  // no signal for an item nobody has interacted with yet: a random free tuple (rebuild to place it collaboratively)
  assign: assignRandomFree,
};
