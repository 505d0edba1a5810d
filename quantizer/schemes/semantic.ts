/**
 * `rqkmeans:LxK` (alias `semantic`) — residual k-means over item content embeddings;
 * `hybrid:LxK` — the same over [content ; collaborative] embeddings, each half L2-normalised.
 * New items are encoded with the stored codebooks; then `extra-level`: the smallest free
 * disambiguation code under their prefix (if full, the next-nearest last semantic code), or
 * `reassign`: the nearest free last-level code. Hybrid: new items have no interactions yet, so
 * their collaborative half is zero.
 */
import { cooccurrenceEmbedding } from '../collab.js';
import { resolveReassign, tupleKey } from '../collisions.js';
import { CollisionError, QuantizerInputError } from '../errors.js';
import { normalizeRows } from '../core/index.js';
import { checkVectors, encodeRQ, trainRQ } from '../rq.js';
import { memoryRows, trainRQSampled, type VectorRows } from '../rows.js';
import { lastLevelUsage } from './common.js';
import type { AssignContext, BuildContext, BuildInput, BuiltCodes, IndexingScheme } from './scheme.js';

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

/**
 * Resolve collisions of residual codes (`codes`: n × L from `codebooks` over `x`), giving
 * `reassign` its hints: each item's distance to its last-level code and its ranking of the
 * last-level codes, both from the residual before the last level.
 */
export function resolveResidual(ctx: BuildContext, codes: Uint16Array, x: Float32Array, n: number, d: number, codebooks: readonly Float32Array[]) {
  const L = codebooks.length;
  const res = Float32Array.from(x);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < L - 1; l++) {
      const cb = codebooks[l];
      const co = codes[i * L + l] * d;
      for (let j = 0; j < d; j++) res[i * d + j] -= cb[co + j];
    }
  }
  const last = codebooks[L - 1];
  const cost = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const co = codes[i * L + L - 1] * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += (res[i * d + j] - last[co + j]) ** 2;
    cost[i] = s;
  }
  return ctx.resolve(codes, { cost, rank: (row) => rankCodes(res, row * d, last, d) });
}

/**
 * rqkmeans with its codebooks trained on a seeded sample and every row assigned in chunks
 * (quantizer/rows.ts): for matrices read from a file in pieces (`input.rows`), or in memory with
 * `trainSample`. Collision hints (`reassign`) re-read the few rows that collide.
 */
function buildSampled(rows: VectorRows, input: BuildInput, ctx: BuildContext): BuiltCodes {
  const n = input.ids.length;
  const { sizes, seed, opts } = ctx;
  if (rows.n !== n) throw new QuantizerInputError(`the embeddings have ${rows.n} rows for ${n} items`, { param: 'embeddings' });
  const d = rows.d;
  const rq = trainRQSampled(rows, {
    sizes,
    seed,
    iterations: opts.iterations,
    balanced: opts.balanced,
    sample: opts.trainSample ?? n,
    chunkRows: opts.chunkRows,
    onProgress: (l, it, tot) => opts.onProgress?.(`level ${l + 1}/${sizes.length} k-means`, it, tot),
    onAssign: (done, total) => opts.onProgress?.('assigning rows', done, total),
  });
  const L = sizes.length;
  const last = rq.codebooks[L - 1];
  const rank = (row: number) => {
    const res = rows.read(row, 1);
    for (let l = 0; l < L - 1; l++) {
      const cb = rq.codebooks[l];
      const co = rq.codes[row * L + l] * d;
      for (let j = 0; j < d; j++) res[j] -= cb[co + j];
    }
    return rankCodes(res, 0, last, d);
  };
  const r = ctx.resolve(rq.codes, { cost: rq.lastCost, rank });
  const params: Record<string, unknown> = { balanced: !!opts.balanced, iterations: opts.iterations ?? 20, trainSample: rq.sample, mseOn: 'the training sample' };
  return { codes: r.codes, sizes: r.sizes, collisions: ctx.mode, dim: d, params, report: r.report, mse: rq.mse, codebooks: rq.codebooks };
}

function buildSemantic(hybrid: boolean, input: BuildInput, ctx: BuildContext): BuiltCodes {
  const name = hybrid ? 'hybrid' : 'rqkmeans';
  const n = input.ids.length;
  const { sizes, seed, opts } = ctx;
  if (input.rows || opts.trainSample !== undefined || opts.chunkRows !== undefined) {
    if (input.rows) return buildSampled(input.rows, input, ctx);
    if (!input.embeddings || !input.dim) throw new QuantizerInputError(`scheme ${name} needs item embeddings`);
    checkVectors(input.embeddings, n, input.dim);
    return buildSampled(memoryRows(input.embeddings, n, input.dim), input, ctx);
  }
  if (!input.embeddings || !input.dim) throw new QuantizerInputError(`scheme ${name} needs item embeddings`);
  checkVectors(input.embeddings, n, input.dim);
  let x = input.embeddings;
  let d = input.dim;
  const params: Record<string, unknown> = { balanced: !!opts.balanced, iterations: opts.iterations ?? 20 };
  if (hybrid) {
    const emb = cooccurrenceEmbedding(input.ids, ctx.sequences(), { dim: opts.collabDim, seed });
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
  const r = resolveResidual(ctx, rq.codes, x, n, d, rq.codebooks);
  return { codes: r.codes, sizes: r.sizes, collisions: ctx.mode, dim: d, params, report: r.report, mse: rq.mse, codebooks: rq.codebooks };
}

/** New items of an index with codebooks: residual encoding, then the index's collision resolution. */
export function assignSemantic({ index, all, newIds, embeddings, dim }: AssignContext): void {
  const m = newIds.length;
  const L = index.levels;
  const n = index.size;
  const info = index.info;
  const S = info.schemeLevels;
  const sizes = index.codebookSizes;
  let x = embeddings;
  const d = info.dim;
  if (!x) throw new QuantizerInputError(`scheme ${info.scheme} needs embeddings for new items`);
  const contentDim = typeof info.params.contentDim === 'number' ? info.params.contentDim : d;
  const givenDim = dim ?? x.length / Math.max(1, m);
  if (givenDim !== contentDim || x.length !== m * contentDim) {
    throw new QuantizerInputError(`new item embeddings must be ${m} × ${contentDim}, got ${x.length} values (dim ${givenDim})`);
  }
  if (contentDim !== d) {
    // hybrid: pad the collaborative half with zeros
    const padded = new Float32Array(m * d);
    for (let i = 0; i < m; i++) padded.set(x.subarray(i * contentDim, (i + 1) * contentDim), i * d);
    x = padded;
  }
  const lastK = sizes[S - 1];
  const enc = encodeRQ(index.codebooks as Float32Array[], x, m, d, lastK);
  for (let i = 0; i < m; i++) for (let l = 0; l < S; l++) all[(n + i) * L + l] = enc.codes[i * S + l];
  if (info.collisions === 'reassign') {
    const topk = Math.min(lastK, enc.lastCandidates.length / Math.max(1, m));
    const cost = new Float64Array(n + m);
    for (let i = 0; i < m; i++) cost[n + i] = enc.lastDistances[i * topk];
    resolveReassign(all, n + m, L, sizes[L - 1], {
      cost,
      fixed: (r) => r < n,
      rank: (r) => enc.lastCandidates.subarray((r - n) * topk, (r - n + 1) * topk),
    });
  } else if (info.collisions === 'extra-level') {
    // smallest free disambiguation code under the item's prefix; if that prefix is full, the
    // next-nearest code at the last semantic level (as `reassign` would), and so on
    const topk = enc.lastCandidates.length / Math.max(1, m);
    const usedBy = lastLevelUsage(all, L, n);
    for (let i = 0; i < m; i++) {
      const r = n + i;
      let placed = false;
      for (let t = 0; t < topk && !placed; t++) {
        all[r * L + S - 1] = enc.lastCandidates[i * topk + t];
        const k = tupleKey(all, L, r, L - 1);
        let set = usedBy.get(k);
        if (!set) usedBy.set(k, (set = new Set()));
        let c = 0;
        while (set.has(c)) c++;
        if (c < sizes[L - 1]) {
          set.add(c);
          all[r * L + L - 1] = c;
          placed = true;
        }
      }
      if (!placed) throw new CollisionError(`no free code left for item ${newIds[i]}: every prefix it could take is full; rebuild the index`);
    }
  }
}

export const rqkmeansScheme: IndexingScheme = {
  name: 'rqkmeans',
  aliases: ['semantic'],
  description: 'residual k-means (RQ-KMeans) over item content embeddings',
  needsEmbeddings: true,
  build: (input, ctx) => buildSemantic(false, input, ctx),
  assign: assignSemantic,
};

export const hybridScheme: IndexingScheme = {
  name: 'hybrid',
  description: 'RQ-KMeans over [content ; collaborative] embeddings, each half L2-normalised',
  needsEmbeddings: true,
  build: (input, ctx) => buildSemantic(true, input, ctx),
  assign: assignSemantic,
};
