/**
 * A trained latent encoder stored with an index (rqvae): an MLP over the item embeddings, ReLU
 * between layers, none after the last. Weights are one float32 array, layer after layer: W
 * (out × in, row-major) then b (out) — the layout `python3 -m trainer rqvae` writes.
 */
import { FormatError } from '../../errors.js';

/** What encoder.json records about the latent encoder. */
export interface LatentRecord {
  kind: 'mlp';
  /** Layer widths, input first, latent last. */
  dims: number[];
}

/** Number of float32 weights of an MLP with these widths. */
export function mlpWeightCount(dims: readonly number[]): number {
  let s = 0;
  for (let l = 0; l + 1 < dims.length; l++) s += dims[l] * dims[l + 1] + dims[l + 1];
  return s;
}

/** Check weights against the widths (throws FormatError naming `file`). */
export function checkMlp(dims: readonly number[], weights: Float32Array, file: string): void {
  if (dims.length < 2 || dims.some((d) => !Number.isInteger(d) || d < 1)) throw new FormatError(file, `invalid layer widths [${dims.join(', ')}]`);
  const want = mlpWeightCount(dims);
  if (weights.length !== want) throw new FormatError(file, `has ${weights.length} weights, layers [${dims.join(', ')}] need ${want}`);
  for (const w of weights) if (!Number.isFinite(w)) throw new FormatError(file, 'holds a non-finite weight');
}

/** Map n × dims[0] rows through the MLP: n × dims[last]. */
export function mlpForward(dims: readonly number[], weights: Float32Array, x: Float32Array, n: number): Float32Array {
  let h = x;
  let o = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const din = dims[l];
    const dout = dims[l + 1];
    const W = weights.subarray(o, o + din * dout);
    const b = weights.subarray(o + din * dout, o + din * dout + dout);
    o += din * dout + dout;
    const out = new Float32Array(n * dout);
    const relu = l + 2 < dims.length;
    for (let i = 0; i < n; i++) {
      const xi = i * din;
      for (let j = 0; j < dout; j++) {
        let s = b[j];
        const wj = j * din;
        for (let k = 0; k < din; k++) s += W[wj + k] * h[xi + k];
        out[i * dout + j] = relu && s < 0 ? 0 : s;
      }
    }
    h = out;
  }
  return h;
}
