import { describe, expect, it } from 'vitest';
import { csrFromRows, randomizedSvd, symmetricEigen, Rng } from '../../../quantizer/core/index.js';

describe('linear algebra', () => {
  it('Jacobi eigen-decomposition reconstructs a symmetric matrix', () => {
    const k = 6;
    const r = new Rng(1);
    const M = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) M[i * k + j] = M[j * k + i] = r.normal();
    const { values, vectors } = symmetricEigen(M, k);
    for (let i = 1; i < k; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += vectors[i * k + p] * values[p] * vectors[j * k + p];
        expect(s).toBeCloseTo(M[i * k + j], 8);
      }
    }
  });

  it('randomised SVD finds the exact singular values of a low-rank sparse matrix', () => {
    // A = sum of 3 rank-one terms with known singular structure, stored sparse
    const rows = 40;
    const cols = 30;
    const r = new Rng(2);
    const dense = new Float64Array(rows * cols);
    for (let t = 0; t < 3; t++) {
      const u = Array.from({ length: rows }, () => r.normal());
      const v = Array.from({ length: cols }, () => r.normal());
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) dense[i * cols + j] += (3 - t) * 2 * u[i] * v[j];
    }
    const A = csrFromRows(
      Array.from({ length: rows }, (_, i) => new Map(Array.from({ length: cols }, (_, j) => [j, dense[i * cols + j]] as [number, number]))),
      cols,
    );
    // reference: eigenvalues of AᵀA
    const AtA = new Float64Array(cols * cols);
    for (let i = 0; i < rows; i++) for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) AtA[a * cols + b] += dense[i * cols + a] * dense[i * cols + b];
    const ref = symmetricEigen(AtA, cols).values;
    const svd = randomizedSvd(A, 3, { seed: 1 });
    for (let j = 0; j < 3; j++) expect(svd.S[j]).toBeCloseTo(Math.sqrt(ref[j]), 3);
    // columns of U are orthonormal
    for (let a = 0; a < 3; a++) {
      for (let b = 0; b < 3; b++) {
        let s = 0;
        for (let i = 0; i < rows; i++) s += svd.U[i * 3 + a] * svd.U[i * 3 + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 6);
      }
    }
  });
});
