/**
 * Schemes whose codebooks a trainer learns (rqvae) get the trainer from the build context
 * (buildIndexTrained's `trainers`): without one, a typed refusal; with one, the index is built
 * from the trainer's latents and codebooks, exactly as a brute-force nearest-codeword encoding.
 */
import { describe, expect, it } from 'vitest';
import { buildIndex, buildIndexTrained, type CodebookTrainer } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';

describe('buildIndexTrained', () => {
  const n = 40;
  const d = 3;
  const r = new Rng(5);
  const x = Float32Array.from({ length: n * d }, () => r.normal());

  it('refuses a trained scheme without its trainer, typed; builds other schemes as buildIndex does', async () => {
    await expect(buildIndexTrained({ ids: Array.from({ length: n }, (_, i) => `i${i}`), embeddings: x, dim: d }, { scheme: 'rqvae:2x8' })).rejects.toMatchObject({ code: 'E_INPUT' });
    const ids = Array.from({ length: n }, (_, i) => `i${i}`);
    const a = await buildIndexTrained({ ids }, { scheme: 'random:2x8', seed: 3 });
    expect(a.trained).toBeUndefined();
    expect(a.index.hash()).toBe(buildIndex({ ids }, { scheme: 'random:2x8', seed: 3 }).hash());
  });

  it('builds from the latents and codebooks the trainer returns (brute-force residual encoding)', async () => {
    const ids = Array.from({ length: n }, (_, i) => `i${i}`);
    // the "trainer": latents = the first two coordinates; codebooks: 8 fixed points per level
    const cb0 = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
    const cb1 = Float32Array.from({ length: 16 }, (_, i) => 0.3 * Math.cos(i + 1));
    const latents = Float32Array.from({ length: n * 2 }, (_, i) => x[Math.floor(i / 2) * d + (i % 2)]);
    let asked: { n: number; dim: number; sizes: readonly number[] } | undefined;
    const trainer: CodebookTrainer = async (req) => {
      asked = { n: req.n, dim: req.dim, sizes: req.sizes };
      return { codebooks: [cb0, cb1], latents, latentDim: 2, encoder: { dims: [3, 2], weights: new Float32Array(8) }, report: { note: 'fake' } };
    };
    const { index, trained } = await buildIndexTrained({ ids, embeddings: x, dim: d }, { scheme: 'rqvae:2x8', trainers: { rqvae: trainer }, collisions: 'extra-level' });
    expect(asked).toEqual({ n, dim: d, sizes: [8, 8] });
    expect(trained?.report).toEqual({ note: 'fake' });
    // brute force: nearest codeword at level 0, then on the residual at level 1
    const near = (cb: Float32Array, v: number[]) => {
      let best = 0;
      let bd = Infinity;
      for (let k = 0; k < 8; k++) {
        const dd = (v[0] - cb[k * 2]) ** 2 + (v[1] - cb[k * 2 + 1]) ** 2;
        if (dd < bd) [bd, best] = [dd, k];
      }
      return best;
    };
    for (let i = 0; i < n; i++) {
      const v = [latents[i * 2], latents[i * 2 + 1]];
      const c0 = near(cb0, v);
      const c1 = near(cb1, [v[0] - cb0[c0 * 2], v[1] - cb0[c0 * 2 + 1]]);
      expect(Array.from(index.codeOf(`i${i}`)!.slice(0, 2))).toEqual([c0, c1]);
    }
  });
});
