/**
 * `rqvae:LxK` — RQ-VAE semantic IDs (TIGER). The PyTorch trainer (`python3 -m trainer rqvae`)
 * learns an MLP encoder, L residual codebooks and a decoder over the item content embeddings;
 * this scheme receives the encoder's latents and the trained codebooks (`BuildInput.codebooks`,
 * passed by src/indexing.ts), encodes every item residually with them and resolves collisions like
 * RQ-KMeans. New items: the index's stored item encoder includes the MLP, so their latents are
 * encoded the same way (assignSemantic).
 */
import { QuantizerInputError } from '../errors.js';
import { checkVectors, encodeRQ } from '../rq.js';
import type { IndexingScheme } from './scheme.js';
import { assignSemantic, rankCodes } from './semantic.js';

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
    if (!cbs) throw new QuantizerInputError('rqvae codebooks are trained by the PyTorch trainer: build rqvae indexes with buildIndexJob / `semrec index build`');
    const d = input.dim;
    checkVectors(input.embeddings, n, d);
    if (cbs.length !== L || cbs.some((c, l) => c.length !== sizes[l] * d)) {
      throw new QuantizerInputError(`rqvae codebooks must be ${sizes.map((k) => `${k}×${d}`).join(', ')}, got ${cbs.map((c) => c.length).join(', ')} values`);
    }
    const enc = encodeRQ(cbs, input.embeddings, n, d, sizes[L - 1]);
    // residual before the last level, for nearest-free-code re-assignment (`reassign`)
    const res = Float32Array.from(input.embeddings);
    for (let i = 0; i < n; i++) {
      for (let l = 0; l < L - 1; l++) {
        const co = enc.codes[i * L + l] * d;
        for (let j = 0; j < d; j++) res[i * d + j] -= cbs[l][co + j];
      }
    }
    const cost = new Float64Array(n);
    const topk = sizes[L - 1];
    for (let i = 0; i < n; i++) cost[i] = enc.lastDistances[i * topk];
    const r = ctx.resolve(enc.codes, { cost, rank: (row) => rankCodes(res, row * d, cbs[L - 1], d) });
    return { codes: r.codes, sizes: r.sizes, collisions: ctx.mode, dim: d, params: { trainedBy: 'python3 -m trainer rqvae' }, report: r.report, codebooks: cbs };
  },
  assign: assignSemantic,
};
