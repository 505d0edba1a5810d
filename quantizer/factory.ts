/**
 * Factory strings name an indexing scheme and its codebook sizes, faiss-style:
 *
 *   rqkmeans:3x256      semantic RQ-KMeans, 3 levels of 256 codes (alias: semantic:3x256)
 *   random:3x256        random collision-free tuples
 *   sequential:3x256    items numbered by first appearance in training sequences, base-256 digits
 *   collab:3x256        hierarchical k-means on a spectral embedding of item co-occurrence
 *   hybrid:3x256        RQ-KMeans on [content ; collaborative] embeddings
 *   rqvae:3x256         codebooks trained by the RQ-VAE trainer (loaded, not built here)
 *
 * Sizes may differ per level: `rqkmeans:2x256+1x64` is [256, 256, 64].
 */
import { QuantizerInputError } from './errors.js';
import { getScheme, schemeNames, type IndexingScheme } from './schemes/index.js';

import type { SchemeName } from './info.js';

export type { SchemeName } from './info.js';

/** A parsed factory string. */
export interface FactorySpec {
  scheme: SchemeName;
  /** Codebook size per level (before any collision-resolution level). */
  sizes: number[];
  /** Canonical string form. */
  factory: string;
  /** The scheme itself, looked up once when the string was parsed (absent in a spec built by hand). */
  impl?: IndexingScheme;
}

/** Parse a factory string such as `rqkmeans:3x256`. */
export function parseFactory(s: string): FactorySpec {
  const m = /^([a-z]+):(.+)$/.exec(s.trim());
  if (!m) throw new QuantizerInputError(`bad scheme ${JSON.stringify(s)}: expected e.g. rqkmeans:3x256`);
  const found = getScheme(m[1]);
  if (!found) throw new QuantizerInputError(`unknown scheme ${JSON.stringify(m[1])}; expected one of ${schemeNames().join(', ')}, semantic`);
  const scheme = found.name;
  const sizes: number[] = [];
  for (const term of m[2].split('+')) {
    const t = /^(\d+)x(\d+)$/.exec(term);
    if (!t) throw new QuantizerInputError(`bad level spec ${JSON.stringify(term)} in ${JSON.stringify(s)}: expected LxK, e.g. 3x256`);
    const L = Number(t[1]);
    const K = Number(t[2]);
    if (L < 1 || L > 16) throw new QuantizerInputError(`level count must be in [1, 16], got ${L}`);
    if (K < 2 || K > 65536) throw new QuantizerInputError(`codebook size must be in [2, 65536], got ${K}`);
    for (let i = 0; i < L; i++) sizes.push(K);
  }
  if (sizes.length > 16) throw new QuantizerInputError(`at most 16 levels, got ${sizes.length}`);
  return { scheme, sizes, factory: formatFactory(scheme, sizes), impl: found };
}

/** Canonical factory string for a scheme and sizes (runs of equal sizes merged). */
export function formatFactory(scheme: SchemeName, sizes: readonly number[]): string {
  const terms: string[] = [];
  for (let i = 0; i < sizes.length; ) {
    let j = i;
    while (j < sizes.length && sizes[j] === sizes[i]) j++;
    terms.push(`${j - i}x${sizes[i]}`);
    i = j;
  }
  return `${scheme}:${terms.join('+')}`;
}
