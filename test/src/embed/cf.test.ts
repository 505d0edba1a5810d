/**
 * Collaborative item embeddings: PPMI against a dense brute-force computation, the ridge map
 * against its normal equations, the geometry on planted co-occurrence structure, and `index add`
 * placing new items with the stored text → collaborative map exactly as the build placed items
 * without interactions.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { cfEmbeddings, fitRidge, ppmiMatrix, embedItems, embedWithEncoder, encoderFromFiles } from '../../../src/indexing/embed/index.js';
import { loadIndex, readIndexFile } from '../../../quantizer/index.js';
import { Rng } from '../../../quantizer/core/index.js';
import { addItemsJob, buildIndexJob } from '../../../src/indexing/jobs.js';
import { makeItem } from '../../../src/data/loaders/common.js';
import type { Item } from '../../../src/data/types.js';
import { InputError } from '../../../src/errors.js';
import { tmp } from '../../helpers.js';

/** Dense brute force of the PPMI definition in cf.ts. */
function densePpmi(ids: string[], seqs: string[][], window: number): number[][] {
  const n = ids.length;
  const c = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const row = new Map(ids.map((id, i) => [id, i]));
  for (const s of seqs) {
    for (let a = 0; a < s.length; a++) {
      for (let b = a + 1; b <= a + window && b < s.length; b++) {
        const i = row.get(s[a]);
        const j = row.get(s[b]);
        if (i === undefined || j === undefined || i === j) continue;
        c[i][j] += 1 / (b - a);
        c[j][i] += 1 / (b - a);
      }
    }
  }
  const m = c.map((r) => r.reduce((x, y) => x + y, 0));
  const total = m.reduce((x, y) => x + y, 0);
  return c.map((r, i) => r.map((v, j) => (v > 0 ? Math.max(0, Math.log((v * total) / (m[i] * m[j]))) : 0)));
}

function cos(x: Float32Array, d: number, a: number, b: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += x[a * d + k] * x[b * d + k];
  return s;
}

describe('collaborative embeddings', () => {
  it('PPMI equals the dense brute-force definition (random sequences, windows 1-4)', () => {
    const r = new Rng(3);
    const ids = Array.from({ length: 12 }, (_, i) => `i${i}`);
    for (const window of [1, 2, 3, 4]) {
      const seqs = Array.from({ length: 30 }, () => Array.from({ length: 2 + r.int(8) }, () => (r.int(20) === 0 ? 'unknown' : ids[r.int(12)])));
      const want = densePpmi(ids, seqs, window);
      const got = ppmiMatrix(ids, seqs, window);
      const dense = Array.from({ length: 12 }, () => new Array<number>(12).fill(0));
      for (let i = 0; i < 12; i++) {
        for (let p = got.indptr[i]; p < got.indptr[i + 1]; p++) {
          expect(got.values[p]).toBeGreaterThan(0);
          if (p > got.indptr[i]) expect(got.indices[p]).toBeGreaterThan(got.indices[p - 1]); // sorted columns
          dense[i][got.indices[p]] = got.values[p];
        }
      }
      for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) expect(dense[i][j]).toBeCloseTo(want[i][j], 5); // float32 values
    }
    expect(() => ppmiMatrix(ids, [], 0)).toThrow(InputError);
  });

  it('items of the same co-occurrence cluster end up close, others far; unseen items are flagged', () => {
    const r = new Rng(5);
    const ids = Array.from({ length: 40 }, (_, i) => `i${i}`); // clusters 0-19 and 20-37; 38, 39 never seen
    const seqs = Array.from({ length: 400 }, (_, u) => {
      const base = u % 2 ? 0 : 20;
      const size = u % 2 ? 20 : 18;
      return Array.from({ length: 6 }, () => ids[base + r.int(size)]);
    });
    const e = cfEmbeddings(ids, seqs, { dim: 8, seed: 1 });
    expect(e.covered).toBe(38);
    expect(Array.from(e.has.slice(38))).toEqual([0, 0]);
    let within = 0;
    let across = 0;
    for (let a = 0; a < 10; a++) {
      within += cos(e.x, e.dim, a, (a + 1) % 20) + cos(e.x, e.dim, 20 + a, 20 + ((a + 1) % 18));
      across += cos(e.x, e.dim, a, 20 + a) * 2;
    }
    expect(within / 20).toBeGreaterThan(across / 20 + 0.5);
    // deterministic for a seed
    expect(cfEmbeddings(ids, seqs, { dim: 8, seed: 1 }).x).toEqual(e.x);
  });

  it('the ridge map solves its normal equations (XᵀX + λI) W = XᵀY on the selected rows', () => {
    const r = new Rng(9);
    const n = 50;
    const dx = 5;
    const dy = 3;
    const X = Float32Array.from({ length: n * dx }, () => r.normal());
    const Y = Float32Array.from({ length: n * dy }, () => r.normal());
    const use = Uint8Array.from({ length: n }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const lambda = 0.5;
    const W = fitRidge(X, dx, Y, dy, use, lambda);
    for (let a = 0; a < dx; a++) {
      for (let c = 0; c < dy; c++) {
        // gradient: Σ_i x_ia (x_i·W_c − y_ic) + λ W_ac = 0
        let g = lambda * W[a * dy + c];
        for (let i = 0; i < n; i++) {
          if (!use[i]) continue;
          let pred = 0;
          for (let b = 0; b < dx; b++) pred += X[i * dx + b] * W[b * dy + c];
          g += X[i * dx + a] * (pred - Y[i * dy + c]);
        }
        expect(Math.abs(g)).toBeLessThan(1e-3);
      }
    }
  });

  it('text+cf: unit rows; index add embeds new items exactly as the build embedded items without interactions', async () => {
    const words = ['red', 'blue', 'green', 'lamp', 'chair', 'table', 'soft', 'steel', 'oak', 'mug', 'pen', 'desk'];
    const r = new Rng(2);
    const items: Item[] = Array.from({ length: 60 }, (_, i) => makeItem(`p${i}`, { title: `${words[r.int(12)]} ${words[r.int(12)]} ${words[r.int(12)]} ${words[i % 12]}` }));
    const seqs = Array.from({ length: 200 }, () => Array.from({ length: 5 }, () => `p${r.int(50)}`)); // p50-p59: no interactions
    const e = await embedItems(items, { kind: 'text+cf', sequences: seqs, dim: 6, textDim: 6, seed: 4 });
    expect(e.encoder).toBe('tfidf-svd:6+cf-ppmi-svd:6');
    expect(e.cfCovered).toBe(50);
    for (let i = 0; i < 60; i++) expect(cos(e.x, e.dim, i, i)).toBeCloseTo(1, 5);

    const dir = path.join(tmp(), 'idx');
    await buildIndexJob({ items, sequences: seqs, scheme: 'rqkmeans:2x4', embeddings: { kind: 'text+cf', sequences: seqs, dim: 6, textDim: 6, seed: 4 }, seed: 4, out: dir });
    const enc = encoderFromFiles((await readIndexFile(dir, 'encoder.json')) as Buffer, (await readIndexFile(dir, 'encoder.f32')) as Buffer, (await readIndexFile(dir, 'encoder-cf.f32')) as Buffer)!;
    const again = embedWithEncoder(enc, items.slice(50))!;
    expect(again.dim).toBe(e.dim);
    for (let i = 0; i < 10; i++) for (let k = 0; k < e.dim; k++) expect(again.x[i * e.dim + k]).toBeCloseTo(e.x[(50 + i) * e.dim + k], 4);

    // a new item with the text of an item that had no interactions lands on the same first code
    const parent = await loadIndex(dir);
    const fresh = [makeItem('new-1', { title: items[55].title }), makeItem('new-2', { title: 'oak desk lamp' })];
    const out = path.join(tmp(), 'idx2');
    const res = await addItemsJob({ index: dir, items: fresh, out });
    expect(res.added).toBe(2);
    const child = await loadIndex(out);
    expect(child.codeOf('new-1')![0]).toBe(parent.codeOf('p55')![0]);
    for (const it of items) expect(child.codeOf(it.id)).toEqual(parent.codeOf(it.id)); // parent tuples unchanged
  });

  it('cf without item text: new items cannot be placed — a typed error, not a silent guess', async () => {
    const r = new Rng(4);
    const items = Array.from({ length: 60 }, (_, i) => makeItem(`q${i}`, {})); // text falls back to the id: no shared terms
    const seqs = Array.from({ length: 100 }, () => Array.from({ length: 4 }, () => `q${r.int(60)}`));
    await expect(embedItems(items, { kind: 'text+cf', sequences: seqs })).rejects.toThrow(/text\+cf embeddings need item text/);
    const dir = path.join(tmp(), 'idx');
    await buildIndexJob({ items, sequences: seqs, scheme: 'rqkmeans:2x4', embeddings: { kind: 'cf', sequences: seqs, dim: 4 }, out: dir });
    await expect(addItemsJob({ index: dir, items: [makeItem('q-new', { title: 'x' })], out: path.join(tmp(), 'o') })).rejects.toThrow(/built without item text/);
  });
});
