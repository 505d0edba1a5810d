/**
 * Nearest-centroid search through faiss-node (IndexFlatL2 / IndexFlatIP), chunked so that large
 * query sets stay within memory. The project's setup patches faiss-node to accept Float32Array
 * (one memcpy); with an unpatched addon this falls back to plain arrays, just slower.
 */
import { createRequire } from 'node:module';
import { FaissUnavailableError } from './errors.js';

type FaissIndex = {
  add(x: number[] | Float32Array): void;
  search(x: number[] | Float32Array, k: number): { distances: number[]; labels: number[] };
  ntotal(): number;
};
type FaissModule = {
  IndexFlatL2: new (d: number) => FaissIndex;
  IndexFlatIP: new (d: number) => FaissIndex;
};

let faiss: FaissModule | undefined;
let typedOk: boolean | undefined;

/** Load faiss-node (once). Throws {@link FaissUnavailableError} if the addon is missing. */
export function loadFaiss(): FaissModule {
  if (!faiss) {
    try {
      faiss = createRequire(import.meta.url)('faiss-node') as FaissModule;
    } catch (err) {
      throw new FaissUnavailableError(err);
    }
  }
  return faiss;
}

/** Distance used by nearest-centroid search. */
export type Metric = 'l2' | 'ip';

/** Result of {@link nearest}: per query the best centroid and its (squared L2 or IP) score. */
export interface NearestResult {
  labels: Int32Array;
  distances: Float32Array;
}

const CHUNK_FLOATS = 1 << 24; // 16M floats = 64 MB per faiss call

/** True when the loaded addon takes Float32Array input (the project's patched build). */
export function faissTakesTypedArrays(): boolean {
  if (typedOk === undefined) {
    const probe = new (loadFaiss().IndexFlatL2)(1);
    probe.add([0]);
    try {
      typedOk = probe.search(new Float32Array([0.5]), 1).labels[0] === 0;
    } catch {
      typedOk = false;
    }
  }
  return typedOk;
}

function toInput(_idx: FaissIndex, x: Float32Array): number[] | Float32Array {
  return faissTakesTypedArrays() ? x : Array.from(x);
}

/** A flat faiss index over a fixed set of centroids, for repeated nearest-neighbour queries. */
export class FlatIndex {
  private readonly idx: FaissIndex;
  /** Number of centroids. */
  readonly k: number;

  /**
   * @param centroids k×d row-major
   * @param d dimension
   * @param metric 'l2' (squared distance, smaller is better) or 'ip' (inner product, larger is better)
   */
  constructor(centroids: Float32Array, readonly d: number, readonly metric: Metric = 'l2') {
    const f = loadFaiss();
    this.idx = metric === 'ip' ? new f.IndexFlatIP(d) : new f.IndexFlatL2(d);
    this.k = centroids.length / d;
    if (this.k > 0) this.idx.add(toInput(this.idx, centroids));
  }

  /** The `topk` best centroids for each of the n = x.length/d queries (row-major n×topk). */
  search(x: Float32Array, topk = 1): NearestResult {
    const n = x.length / this.d;
    const labels = new Int32Array(n * topk);
    const distances = new Float32Array(n * topk);
    if (n === 0 || this.k === 0) return { labels: labels.fill(-1), distances };
    const rows = Math.max(1, Math.floor(CHUNK_FLOATS / this.d));
    for (let s = 0; s < n; s += rows) {
      const e = Math.min(n, s + rows);
      const r = this.idx.search(toInput(this.idx, x.subarray(s * this.d, e * this.d)), topk);
      labels.set(r.labels, s * topk);
      distances.set(r.distances, s * topk);
    }
    return { labels, distances };
  }
}

/** One-shot nearest-centroid assignment. */
export function nearest(centroids: Float32Array, d: number, x: Float32Array, metric: Metric = 'l2', topk = 1): NearestResult {
  return new FlatIndex(centroids, d, metric).search(x, topk);
}
