import { describe, expect, it } from 'vitest';
import { decodeRQ, encodeRQ, trainRQ, QuantizerInputError } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';

function data(n: number, d: number, seed: number): Float32Array {
  const r = new Rng(seed);
  // a Gaussian mixture: structure at several scales
  const centers = Array.from({ length: 12 }, () => Array.from({ length: d }, () => 3 * r.normal()));
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const c = centers[r.int(12)];
    for (let j = 0; j < d; j++) x[i * d + j] = c[j] + r.normal();
  }
  return x;
}

describe('RQ-KMeans', () => {
  it('reconstruction error decreases with every level', () => {
    const n = 2000;
    const d = 16;
    const x = data(n, d, 1);
    const rq = trainRQ(x, n, d, { sizes: [16, 16, 16, 16], seed: 3 });
    for (let l = 1; l < rq.mse.length; l++) expect(rq.mse[l]).toBeLessThan(rq.mse[l - 1]);
    let total = 0;
    for (let i = 0; i < n * d; i++) total += x[i] * x[i];
    expect(rq.mse[0]).toBeLessThan(total / n);
    // decodeRQ agrees with the reported error at the last level
    const rec = decodeRQ(rq.codebooks, rq.codes, n, d);
    let err = 0;
    for (let i = 0; i < n * d; i++) err += (x[i] - rec[i]) ** 2;
    expect(err / n).toBeCloseTo(rq.mse[3], 3);
  });

  it('encoding the training vectors reproduces their codes; same seed → same codes', () => {
    const n = 800;
    const d = 8;
    const x = data(n, d, 2);
    const a = trainRQ(x, n, d, { sizes: [32, 8], seed: 5 });
    const b = trainRQ(x, n, d, { sizes: [32, 8], seed: 5 });
    expect(Array.from(a.codes)).toEqual(Array.from(b.codes));
    expect(Array.from(encodeRQ(a.codebooks, x, n, d).codes)).toEqual(Array.from(a.codes));
  });

  it('rejects bad shapes and non-finite values', () => {
    expect(() => trainRQ(new Float32Array(10), 3, 3, { sizes: [4] })).toThrow(QuantizerInputError);
    const x = new Float32Array(12);
    x[5] = NaN;
    expect(() => trainRQ(x, 4, 3, { sizes: [2] })).toThrow(/item #1 has a non-finite value/);
    expect(() => trainRQ(new Float32Array(12), 4, 3, { sizes: [1] })).toThrow(/codebook size/);
  });
});
