/**
 * Non-generative reference recommenders computed from the training split, reported next to the
 * generative model in every evaluation: most-popular, and a first-order Markov chain
 * (item → next item counts, backed off to popularity).
 */
import type { UserSequence } from '../data/split.js';

/**
 * Anything that ranks items for a history: a model served by a Recommender (see
 * `recommenderRanker`), a baseline, a custom model. Evaluation scores them all the same way.
 */
export interface Ranker {
  readonly name: string;
  /** Top `k` item ids for a history (oldest first). */
  rank(history: readonly string[], k: number): string[] | Promise<string[]>;
  /** Whether an id is a real item (default: the dataset's catalogue). */
  isValid?(id: string): boolean;
}

/** Items by training frequency, ties broken by id for determinism. */
export class PopularityRanker implements Ranker {
  readonly name = 'popularity';
  private readonly order: string[];
  constructor(train: readonly UserSequence[]) {
    const count = new Map<string, number>();
    for (const s of train) for (const it of s.items) count.set(it, (count.get(it) ?? 0) + 1);
    this.order = [...count.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map((e) => e[0]);
  }
  rank(_history: readonly string[], k: number): string[] {
    return this.order.slice(0, k);
  }
}

/** First-order transitions from the last history item; filled up with popular items. */
export class MarkovRanker implements Ranker {
  readonly name = 'markov';
  private readonly next = new Map<string, [string, number][]>();
  private readonly pop: PopularityRanker;
  constructor(train: readonly UserSequence[]) {
    const counts = new Map<string, Map<string, number>>();
    for (const s of train) {
      for (let i = 0; i + 1 < s.items.length; i++) {
        let m = counts.get(s.items[i]);
        if (!m) counts.set(s.items[i], (m = new Map()));
        m.set(s.items[i + 1], (m.get(s.items[i + 1]) ?? 0) + 1);
      }
    }
    for (const [a, m] of counts) this.next.set(a, [...m.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)));
    this.pop = new PopularityRanker(train);
  }
  rank(history: readonly string[], k: number): string[] {
    const out: string[] = [];
    const seen = new Set<string>();
    const last = history[history.length - 1];
    for (const [it] of (last !== undefined && this.next.get(last)) || []) {
      if (out.length >= k) break;
      out.push(it);
      seen.add(it);
    }
    for (const it of this.pop.rank(history, k + out.length)) {
      if (out.length >= k) break;
      if (!seen.has(it)) out.push(it);
    }
    return out;
  }
}
