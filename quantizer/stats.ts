/** Per-level codebook statistics: utilisation and entropy of the code distribution. */

/** Statistics of one level. */
export interface LevelStats {
  /** Codebook size at this level. */
  size: number;
  /** Distinct codes used. */
  used: number;
  /** used / size. */
  utilisation: number;
  /** Shannon entropy of the code distribution, in bits. */
  entropy: number;
  /** entropy / log2(size): 1 means perfectly even use. */
  normalisedEntropy: number;
}

/** Compute {@link LevelStats} for each level of an n×L code matrix. */
export function levelStats(codes: ArrayLike<number>, n: number, sizes: readonly number[]): LevelStats[] {
  const L = sizes.length;
  return sizes.map((size, l) => {
    const counts = new Float64Array(size);
    for (let i = 0; i < n; i++) counts[codes[i * L + l]]++;
    let used = 0;
    let h = 0;
    for (let c = 0; c < size; c++) {
      if (!counts[c]) continue;
      used++;
      const p = counts[c] / n;
      h -= p * Math.log2(p);
    }
    const maxH = Math.log2(size);
    return { size, used, utilisation: used / size, entropy: h, normalisedEntropy: maxH > 0 ? h / maxH : 0 };
  });
}
