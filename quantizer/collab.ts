/**
 * Collaborative item embeddings and hierarchical clustering ("How to Index Item IDs for
 * Recommendation Foundation Models", Hua et al. 2023): items that co-occur in training sequences
 * get nearby codes. The co-occurrence graph (window ±`window` positions, weight 1/distance) is
 * normalised (D^-1/2 A D^-1/2) and embedded with a randomised truncated SVD (spectral embedding);
 * items with no co-occurrence get a random direction. Then k-means is applied recursively: K clusters, then K sub-clusters inside each, and so on.
 */
import { csrFromRows, normalizeRows, randomizedSvd, Rng } from './core/index.js';
import { kmeans } from './kmeans.js';

/**
 * Symmetric item co-occurrence in `sequences` (item ids; unknown ids ignored): for every ordered
 * pair of positions a < b ≤ a + `window` holding different items i, j, c(i,j) and c(j,i) grow by
 * 1 / (b − a). One map per item row (column → weight).
 */
export function cooccurrenceCounts(ids: readonly string[], sequences: ReadonlyArray<readonly string[]>, window: number): Map<number, number>[] {
  const row = new Map(ids.map((id, i) => [id, i]));
  const adj: Map<number, number>[] = ids.map(() => new Map());
  for (const seq of sequences) {
    const rows = seq.map((it) => row.get(it) ?? -1);
    for (let a = 0; a < rows.length; a++) {
      if (rows[a] < 0) continue;
      for (let b = a + 1; b < Math.min(rows.length, a + 1 + window); b++) {
        if (rows[b] < 0 || rows[b] === rows[a]) continue;
        const w = 1 / (b - a);
        adj[rows[a]].set(rows[b], (adj[rows[a]].get(rows[b]) ?? 0) + w);
        adj[rows[b]].set(rows[a], (adj[rows[b]].get(rows[a]) ?? 0) + w);
      }
    }
  }
  return adj;
}

/** Spectral embedding (n × dim, rows L2-normalised) of item co-occurrence in `sequences`. */
export function cooccurrenceEmbedding(
  ids: readonly string[],
  sequences: ReadonlyArray<readonly string[]>,
  opts: { dim?: number; window?: number; seed?: number } = {},
): { x: Float32Array; dim: number } {
  const n = ids.length;
  const adj = cooccurrenceCounts(ids, sequences, opts.window ?? 3);
  const deg = adj.map((m) => {
    let s = 0;
    for (const v of m.values()) s += v;
    return s;
  });
  for (let i = 0; i < n; i++) {
    for (const [j, v] of adj[i]) adj[i].set(j, v / Math.sqrt(deg[i] * deg[j]));
  }
  const dim = Math.max(1, Math.min(opts.dim ?? 64, n - 1));
  const { U, S, rank } = randomizedSvd(csrFromRows(adj, n), dim, { seed: opts.seed });
  const x = new Float32Array(n * rank);
  for (let i = 0; i < n; i++) for (let j = 0; j < rank; j++) x[i * rank + j] = U[i * rank + j] * S[j];
  // Items that never co-occur with another have no collaborative signal: a random direction
  // spreads them over the codes instead of piling them into one cluster.
  const rng = new Rng((opts.seed ?? 0) + 17);
  for (let i = 0; i < n; i++) if (deg[i] === 0) for (let j = 0; j < rank; j++) x[i * rank + j] = rng.normal();
  return { x: normalizeRows(x, n, rank), dim: rank };
}

/**
 * Hierarchical k-means codes: level l clusters each level-(l−1) cluster's members into
 * `sizes[l]` sub-clusters. Returns n × L codes (may still contain collisions at the last level
 * when identical points share a leaf).
 */
export function hierarchicalCodes(x: Float32Array, n: number, d: number, sizes: readonly number[], seed = 0): Uint16Array {
  const L = sizes.length;
  const codes = new Uint16Array(n * L);
  const recurse = (members: number[], level: number, salt: number) => {
    if (level >= L || members.length === 0) return;
    const m = members.length;
    const sub = new Float32Array(m * d);
    members.forEach((p, i) => sub.set(x.subarray(p * d, p * d + d), i * d));
    const r = kmeans(sub, m, d, { k: sizes[level], seed: seed * 7919 + salt, iterations: 15 });
    const groups = new Map<number, number[]>();
    members.forEach((p, i) => {
      const a = r.assign[i];
      codes[p * L + level] = a;
      const g = groups.get(a);
      if (g) g.push(p);
      else groups.set(a, [p]);
    });
    for (const [a, g] of groups) if (g.length > 1) recurse(g, level + 1, salt * 31 + a + 1);
    // singletons keep code 0 at deeper levels
  };
  recurse(Array.from({ length: n }, (_, i) => i), 0, 1);
  return codes;
}
