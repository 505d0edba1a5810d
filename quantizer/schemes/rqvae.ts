/**
 * `rqvae:LxK` — RQ-VAE semantic IDs (TIGER). The PyTorch trainer (`python3 -m trainer rqvae`)
 * learns an MLP encoder, L residual codebooks and a decoder over the item content embeddings;
 * this scheme receives the encoder's latents and the trained codebooks (`BuildInput.codebooks`),
 * which buildIndexTrained gets from the `rqvae` trainer of its build context, encodes every item residually with them and resolves collisions like
 * RQ-KMeans. New items: the index's stored item encoder includes the MLP, so their latents are
 * encoded the same way (assignSemantic).
 */
import { QuantizerInputError } from '../errors.js';
import { checkVectors, encodeRQ } from '../rq.js';
import type { IndexingScheme } from './scheme.js';
import { assignSemantic, resolveResidual } from './semantic.js';

export const rqvaeScheme: IndexingScheme = {
  name: 'rqvae',
  description: 'RQ-VAE (TIGER): MLP encoder + residual codebooks trained by the PyTorch trainer',
  needsEmbeddings: true,
  trainedBy: 'rqvae',
  build(input, ctx) {
    const n = input.ids.length;
    const { sizes } = ctx;
    const L = sizes.length;
    if (!input.embeddings || !input.dim) throw new QuantizerInputError('scheme rqvae needs the encoder latents of the items');
    const cbs = input.codebooks;
    if (!cbs) throw new QuantizerInputError('rqvae codebooks are learned by the rqvae trainer: build rqvae indexes with buildIndexTrained (given the trainer), buildIndexJob or `semrec index build`');
    const d = input.dim;
    checkVectors(input.embeddings, n, d);
    if (cbs.length !== L || cbs.some((c, l) => c.length !== sizes[l] * d)) {
      throw new QuantizerInputError(`rqvae codebooks must be ${sizes.map((k) => `${k}×${d}`).join(', ')}, got ${cbs.map((c) => c.length).join(', ')} values`);
    }
    const r = resolveResidual(ctx, encodeRQ(cbs, input.embeddings, n, d).codes, input.embeddings, n, d, cbs);
    return { codes: r.codes, sizes: r.sizes, collisions: ctx.mode, dim: d, params: { trainedBy: 'python3 -m trainer rqvae' }, report: r.report, codebooks: cbs };
  },
  assign: assignSemantic,
};
