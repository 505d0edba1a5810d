/**
 * Ranking metrics for next-item prediction with one held-out target per user (leave-one-out):
 * Recall@K (= hit rate) and NDCG@K on de-duplicated ranked lists, plus catalogue coverage.
 */

/**
 * Remove repeated ids from a ranked list, keeping the first (best) occurrence.
 */
export function dedupe(ranked: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of ranked) {
    if (!seen.has(r)) {
      seen.add(r);
      out.push(r);
    }
  }
  return out;
}

/** Recall@K with a single target: 1 if the target is in the top K (after de-duplication). */
export function recallAt(ranked: readonly string[], target: string, k: number): number {
  return dedupe(ranked).slice(0, k).includes(target) ? 1 : 0;
}

/** NDCG@K with a single relevant target: 1 / log2(rank + 2) if it is in the top K, else 0. */
export function ndcgAt(ranked: readonly string[], target: string, k: number): number {
  const r = dedupe(ranked).slice(0, k).indexOf(target);
  return r < 0 ? 0 : 1 / Math.log2(r + 2);
}

/** Mean metrics over many (ranked list, target) pairs. */
export interface RankingMetrics {
  /** Number of evaluated examples. */
  n: number;
  recall: Record<number, number>;
  ndcg: Record<number, number>;
  /** Distinct items in all top-`coverageK` lists ÷ catalogue size. */
  coverage: number;
}

/** Accumulates Recall@K / NDCG@K / coverage over examples. */
export class MetricAccumulator {
  private n = 0;
  private readonly rec: number[];
  private readonly ndcg: number[];
  private readonly covered = new Set<string>();

  /**
   * @param ks cut-offs, e.g. [5, 10]
   * @param catalogueSize number of items, for coverage
   * @param coverageK cut-off used for coverage (default: the largest K)
   */
  constructor(
    readonly ks: readonly number[],
    readonly catalogueSize: number,
    readonly coverageK = Math.max(...ks),
  ) {
    this.rec = ks.map(() => 0);
    this.ndcg = ks.map(() => 0);
  }

  /** Add one example. */
  add(ranked: readonly string[], target: string): void {
    const list = dedupe(ranked);
    this.addRank(list.indexOf(target));
    for (const it of list.slice(0, this.coverageK)) this.covered.add(it);
  }

  /** Add one example by the target's 0-based position in its de-duplicated list (−1: absent); coverage is not counted. */
  addRank(r: number): void {
    this.n++;
    this.ks.forEach((k, i) => {
      if (r >= 0 && r < k) {
        this.rec[i] += 1;
        this.ndcg[i] += 1 / Math.log2(r + 2);
      }
    });
  }

  /** Count items as recommended (coverage), e.g. the top lists of another process's share. */
  cover(items: Iterable<string>): void {
    for (const it of items) this.covered.add(it);
  }

  /** The means so far. */
  result(): RankingMetrics {
    const recall: Record<number, number> = {};
    const ndcg: Record<number, number> = {};
    this.ks.forEach((k, i) => {
      recall[k] = this.n ? this.rec[i] / this.n : 0;
      ndcg[k] = this.n ? this.ndcg[i] / this.n : 0;
    });
    return { n: this.n, recall, ndcg, coverage: this.catalogueSize ? this.covered.size / this.catalogueSize : 0 };
  }
}
