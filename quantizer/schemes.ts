/**
 * Building an {@link ItemIndex} with any of the indexing schemes named by a factory string.
 * Every scheme ends in the same collision-free ItemIndex, so the generator, the trie and the
 * evaluation treat them alike.
 */
import { collisionReport, resolveExtraLevel, resolveReassign, type CollisionMode, type CollisionReport } from './collisions.js';
import { cooccurrenceEmbedding, hierarchicalCodes } from './collab.js';
import { QuantizerInputError } from './errors.js';
import { parseFactory, type FactorySpec } from './factory.js';
import { ItemIndex, type IndexInfo } from './item-index.js';
import { normalizeRows } from './linalg.js';
import { Rng } from './rng.js';
import { checkVectors, trainRQ } from './rq.js';

/** What a scheme may need: ids always; content embeddings and/or training sequences by scheme. */
export interface BuildInput {
  ids: readonly string[];
  /** n × dim content embeddings (rqkmeans, hybrid). */
  embeddings?: Float32Array;
  dim?: number;
  /** Training sequences of item ids (sequential, collab, hybrid). */
  sequences?: ReadonlyArray<readonly string[]>;
}

/** Options of {@link buildIndex}. */
export interface BuildOptions {
  /** Factory string (e.g. `rqkmeans:3x256`) or parsed spec. */
  scheme: string | FactorySpec;
  /** Collision resolution for schemes that can collide (default `extra-level`). */
  collisions?: CollisionMode;
  seed?: number;
  /** Capacity-balanced k-means assignment at each level (semantic schemes). */
  balanced?: boolean;
  /** Lloyd iterations per level (default 20). */
  iterations?: number;
  /** Size of the extra disambiguation level (default: max(8, next power of two ≥ 2 × largest group)). */
  extraLevelSize?: number;
  /** Dimension of the collaborative (spectral) embedding (default 64). */
  collabDim?: number;
  /** Progress: (stage, done, total). */
  onProgress?: (stage: string, done: number, total: number) => void;
}

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** Squared distances from one residual to all K codewords, as an ascending code ranking. */
function rankCodes(res: Float32Array, ro: number, cb: Float32Array, d: number): Int32Array {
  const k = cb.length / d;
  const dist = new Float64Array(k);
  for (let c = 0; c < k; c++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += (res[ro + j] - cb[c * d + j]) ** 2;
    dist[c] = s;
  }
  return Int32Array.from({ length: k }, (_, i) => i).sort((a, b) => dist[a] - dist[b] || a - b);
}

/** Capacity of a tuple space. */
function capacity(sizes: readonly number[]): number {
  return sizes.reduce((a, b) => a * b, 1);
}

/** Write integer m as digits in the mixed radix `sizes` (most significant first). */
export function toDigits(m: number, sizes: readonly number[], out: Uint16Array, o: number): void {
  for (let l = sizes.length - 1; l >= 0; l--) {
    out[o + l] = m % sizes[l];
    m = Math.floor(m / sizes[l]);
  }
}

/** Training-sequence first-appearance order of `ids` (unseen items after, in input order). */
export function firstAppearanceOrder(ids: readonly string[], sequences: ReadonlyArray<readonly string[]>): number[] {
  const row = new Map(ids.map((id, i) => [id, i]));
  const seen = new Uint8Array(ids.length);
  const order: number[] = [];
  for (const s of sequences) {
    for (const it of s) {
      const r = row.get(it);
      if (r !== undefined && !seen[r]) {
        seen[r] = 1;
        order.push(r);
      }
    }
  }
  for (let r = 0; r < ids.length; r++) if (!seen[r]) order.push(r);
  return order;
}

/** Resolve collisions of scheme codes; returns final codes, sizes and the report. */
function resolve(
  codes: Uint16Array,
  n: number,
  sizes: number[],
  mode: CollisionMode,
  opts: BuildOptions,
  reassignHints?: { cost: ArrayLike<number>; rank: (row: number) => ArrayLike<number> },
): { codes: Uint16Array; sizes: number[]; report: CollisionReport } {
  const L = sizes.length;
  const report = collisionReport(codes, n, L);
  if (mode === 'extra-level') {
    const extra = opts.extraLevelSize ?? Math.max(8, nextPow2(2 * report.maxGroup));
    return { codes: resolveExtraLevel(codes, n, L, extra), sizes: [...sizes, extra], report };
  }
  resolveReassign(codes, n, L, sizes[L - 1], reassignHints ?? {});
  return { codes, sizes, report };
}

/** Build an index with the scheme named in `opts.scheme`. */
export function buildIndex(input: BuildInput, opts: BuildOptions): ItemIndex {
  const spec = typeof opts.scheme === 'string' ? parseFactory(opts.scheme) : opts.scheme;
  const seed = opts.seed ?? 0;
  const mode = opts.collisions ?? 'extra-level';
  if (mode !== 'extra-level' && mode !== 'reassign') throw new QuantizerInputError(`unknown collision mode ${JSON.stringify(mode)}`);
  const n = input.ids.length;
  if (n === 0) throw new QuantizerInputError('no items to index');
  const sizes = spec.sizes;
  const baseInfo = { scheme: spec.scheme, factory: spec.factory, seed, schemeLevels: sizes.length, indexVersion: 1, addedItems: 0 };
  const needSeqs = () => {
    if (!input.sequences) throw new QuantizerInputError(`scheme ${spec.scheme} needs training sequences`, { param: 'data' });
    return input.sequences;
  };

  switch (spec.scheme) {
    case 'random': {
      if (capacity(sizes) < n) throw new QuantizerInputError(`${spec.factory} has ${capacity(sizes)} tuples, fewer than ${n} items`);
      const rng = new Rng(seed);
      const codes = new Uint16Array(n * sizes.length);
      const used = new Set<string>();
      for (let i = 0; i < n; i++) {
        for (;;) {
          for (let l = 0; l < sizes.length; l++) codes[i * sizes.length + l] = rng.int(sizes[l]);
          const key = codes.subarray(i * sizes.length, (i + 1) * sizes.length).join(',');
          if (!used.has(key)) {
            used.add(key);
            break;
          }
        }
      }
      const info: IndexInfo = { ...baseInfo, collisions: 'none', dim: 0, params: {}, collisionReport: collisionReport(codes, n, sizes.length) };
      return new ItemIndex(input.ids, codes, sizes, info);
    }
    case 'sequential': {
      if (capacity(sizes) < n) throw new QuantizerInputError(`${spec.factory} has ${capacity(sizes)} tuples, fewer than ${n} items`);
      const order = firstAppearanceOrder(input.ids, needSeqs());
      const codes = new Uint16Array(n * sizes.length);
      order.forEach((row, m) => toDigits(m, sizes, codes, row * sizes.length));
      const info: IndexInfo = { ...baseInfo, collisions: 'none', dim: 0, params: {}, collisionReport: collisionReport(codes, n, sizes.length) };
      return new ItemIndex(input.ids, codes, sizes, info);
    }
    case 'collab': {
      opts.onProgress?.('co-occurrence embedding', 0, 1);
      const emb = cooccurrenceEmbedding(input.ids, needSeqs(), { dim: opts.collabDim, seed });
      opts.onProgress?.('hierarchical k-means', 0, 1);
      const raw = hierarchicalCodes(emb.x, n, emb.dim, sizes, seed);
      const r = resolve(raw, n, sizes, mode, opts);
      const info: IndexInfo = { ...baseInfo, collisions: mode, dim: 0, params: { collabDim: emb.dim }, collisionReport: r.report };
      return new ItemIndex(input.ids, r.codes, r.sizes, info);
    }
    case 'rqkmeans':
    case 'hybrid': {
      if (!input.embeddings || !input.dim) throw new QuantizerInputError(`scheme ${spec.scheme} needs item embeddings`);
      checkVectors(input.embeddings, n, input.dim);
      let x = input.embeddings;
      let d = input.dim;
      const params: Record<string, unknown> = { balanced: !!opts.balanced, iterations: opts.iterations ?? 20 };
      if (spec.scheme === 'hybrid') {
        // RQ on [content ; collaborative], each part L2-normalised (equal weight).
        const emb = cooccurrenceEmbedding(input.ids, needSeqs(), { dim: opts.collabDim, seed });
        const content = normalizeRows(Float32Array.from(input.embeddings), n, input.dim);
        d = input.dim + emb.dim;
        x = new Float32Array(n * d);
        for (let i = 0; i < n; i++) {
          x.set(content.subarray(i * input.dim, (i + 1) * input.dim), i * d);
          x.set(emb.x.subarray(i * emb.dim, (i + 1) * emb.dim), i * d + input.dim);
        }
        params.contentDim = input.dim;
        params.collabDim = emb.dim;
      }
      const rq = trainRQ(x, n, d, {
        sizes,
        seed,
        iterations: opts.iterations,
        balanced: opts.balanced,
        onProgress: (l, it, tot) => opts.onProgress?.(`level ${l + 1}/${sizes.length} k-means`, it, tot),
      });
      const L = sizes.length;
      // Residual before the last level, for nearest-free-code re-assignment.
      const res = Float32Array.from(x);
      for (let i = 0; i < n; i++) {
        for (let l = 0; l < L - 1; l++) {
          const cb = rq.codebooks[l];
          const co = rq.codes[i * L + l] * d;
          for (let j = 0; j < d; j++) res[i * d + j] -= cb[co + j];
        }
      }
      const last = rq.codebooks[L - 1];
      const cost = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const co = rq.codes[i * L + L - 1] * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += (res[i * d + j] - last[co + j]) ** 2;
        cost[i] = s;
      }
      const r = resolve(rq.codes, n, sizes, mode, opts, { cost, rank: (row) => rankCodes(res, row * d, last, d) });
      const info: IndexInfo = { ...baseInfo, collisions: mode, dim: d, params, collisionReport: r.report, mse: rq.mse };
      return new ItemIndex(input.ids, r.codes, r.sizes, info, rq.codebooks);
    }
    case 'rqvae':
      throw new QuantizerInputError('rqvae indexes are produced by the trainer (`semrec index build --scheme rqvae:...` is not available yet)');
  }
}
