/**
 * The native pieces the setup step provides: the faiss-node addon built against Debian's faiss,
 * and onnxruntime-node's bundled CPU binaries. If these fail, run `npm run setup`.
 */
import { describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

describe('native dependencies', () => {
  it('faiss-node loads and searches (IndexFlatL2 agrees with brute force)', () => {
    const faiss = require('faiss-node') as typeof import('faiss-node');
    const d = 4;
    const xb = Array.from({ length: 50 * d }, (_, i) => Math.sin(i * 1.7));
    const index = new faiss.IndexFlatL2(d);
    index.add(xb);
    const q = [0.1, -0.2, 0.3, 0.05];
    const res = index.search(q, 3);
    const dist = Array.from({ length: 50 }, (_, j) => {
      let s = 0;
      for (let k = 0; k < d; k++) s += (xb[j * d + k] - q[k]) ** 2;
      return [s, j] as const;
    }).sort((a, b) => a[0] - b[0]);
    expect(res.labels).toEqual(dist.slice(0, 3).map((x) => x[1]));
    expect(res.distances[0]).toBeCloseTo(dist[0][0], 4);
  });

  it('onnxruntime-node loads its CPU backend', async () => {
    const ort = await import('onnxruntime-node');
    const t = new ort.Tensor('float32', new Float32Array([1, 2, 3]), [3]);
    expect(t.dims).toEqual([3]);
    expect(typeof ort.InferenceSession.create).toBe('function');
  });
});
