import { describe, expect, it } from 'vitest';
import { logSoftmaxAt } from '../../src/serving/model/onnx-tree.js';
import { Rng } from '../../quantizer/core/index.js';

/** Brute force in float64: log(exp(x_v) / Σ exp(x_u)). */
function reference(logits: Float32Array, V: number, rows: number[]): number[] {
  return rows.flatMap((r) => {
    const row = Array.from(logits.subarray(r * V, (r + 1) * V));
    const z = Math.log(row.reduce((a, x) => a + Math.exp(x), 0));
    return row.map((x) => x - z);
  });
}

describe('logSoftmaxAt', () => {
  const rng = new Rng(5);
  const V = 37;
  const make = (n: number) => Float32Array.from({ length: n * V }, () => (rng.next() - 0.5) * 20);
  for (const rows of [[0, 1, 2, 3], [2, 5, 6, 9], [3, 1, 4], [1, 1, 2], [0, 0]]) {
    it(`rows ${rows.join(',')}: the brute-force values, written in place only when rows move towards the front`, () => {
      const logits = make(10);
      const ref = reference(logits, V, rows);
      const out = logSoftmaxAt(logits, V, Int32Array.from(rows));
      expect(out.length).toBe(rows.length * V);
      out.forEach((x, i) => expect(Math.abs(x - ref[i])).toBeLessThan(1e-5));
      const increasing = rows.every((r, i) => r >= i && (i === 0 || r > rows[i - 1]));
      expect(out.buffer === logits.buffer).toBe(increasing);
    });
  }
});
