/**
 * ItemEncoder: fitted at build time, saved as index files, loaded back at `index add` — new items
 * land in the catalogue's space; a latent encoder (RQ-VAE) applies after the base encoder.
 */
import { describe, expect, it } from 'vitest';
import { ItemEncoder } from '../../../src/indexing/embed/encoder.js';
import { synthesize } from '../../../src/data/synth.js';

describe('ItemEncoder', () => {
  const items = [...synthesize({ items: 60, users: 10, seed: 3 }).items.values()];

  it('fit → files → load: the loaded encoder embeds new items exactly as the fitted one (TF-IDF + SVD)', async () => {
    const fitted = await ItemEncoder.fit(items.slice(0, 50), { kind: 'tfidf', dim: 8, seed: 1 });
    expect(fitted.dim).toBe(8);
    const loaded = ItemEncoder.load(fitted.encoder.files())!;
    expect(loaded.record).toEqual(fitted.encoder.record);
    const fresh = items.slice(50);
    const a = await fitted.encoder.embed(fresh);
    const b = await loaded.embed(fresh);
    expect(b.dim).toBe(8);
    expect(Array.from(b.x)).toEqual(Array.from(a.x));
    // rows are unit vectors (or zero for a text of unknown words only)
    for (let i = 0; i < fresh.length; i++) {
      const norm = Math.hypot(...b.x.subarray(i * 8, (i + 1) * 8));
      expect(norm === 0 || Math.abs(norm - 1) < 1e-5).toBe(true);
    }
  });

  it('a latent encoder maps through its MLP (checked against the closed form), saved and loaded with it', async () => {
    const fitted = await ItemEncoder.fit(items, { kind: 'tfidf', dim: 4, seed: 1 });
    // one layer 4 → 2: W = [[1,0,0,0],[0,0,0,-1]], b = [0.5, 0]
    const weights = Float32Array.from([1, 0, 0, 0, 0, 0, 0, -1, 0.5, 0]);
    const enc = fitted.encoder.withLatent([4, 2], weights);
    const back = ItemEncoder.load(enc.files())!;
    const z = await back.embed(items.slice(0, 5));
    const base = await fitted.encoder.embed(items.slice(0, 5));
    expect(z.dim).toBe(2);
    for (let i = 0; i < 5; i++) {
      expect(z.x[i * 2]).toBeCloseTo(base.x[i * 4] + 0.5, 5);
      expect(z.x[i * 2 + 1]).toBeCloseTo(-base.x[i * 4 + 3], 5);
    }
    expect(() => back.project({ x: new Float32Array(3), dim: 3 }, 1)).toThrow(/3 dimensions/);
  });

  it('precomputed embeddings cannot embed new items by themselves: a typed error', async () => {
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const f = path.join(mkdtempSync(path.join(os.tmpdir(), 'enc-')), 'e.f32');
    const b = Buffer.alloc(8 + items.length * 3 * 4);
    b.writeUInt32LE(items.length, 0);
    b.writeUInt32LE(3, 4);
    for (let i = 0; i < items.length * 3; i++) b.writeFloatLE(i % 7, 8 + i * 4);
    writeFileSync(f, b);
    const fitted = await ItemEncoder.fit(items, { kind: 'file', file: f });
    const loaded = ItemEncoder.load(fitted.encoder.files())!;
    await expect(loaded.embed(items.slice(0, 2))).rejects.toMatchObject({ code: 'E_INPUT' });
  });
});
