/** Two recommenders that must rank alike (an exported model against its source). */
import { expect } from 'vitest';
import type { RecommendOptions, Recommender } from '../../src/serving/recommender.js';

/**
 * For each history, `a` and `b` return the same items in the same order with scores equal to 3
 * decimals; both are closed afterwards.
 */
export async function expectSameRankings(a: Recommender, b: Recommender, histories: readonly (readonly string[])[], opts: RecommendOptions): Promise<void> {
  try {
    for (const h of histories) {
      const [x, y] = await Promise.all([a.recommend(h, opts), b.recommend(h, opts)]);
      expect(x.items.map((i) => i.itemId)).toEqual(y.items.map((i) => i.itemId));
      x.items.forEach((it, i) => expect(it.score).toBeCloseTo(y.items[i].score, 3));
    }
  } finally {
    await a.close();
    await b.close();
  }
}
