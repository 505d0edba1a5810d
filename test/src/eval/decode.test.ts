/**
 * The evaluator of validation choices (eval/decode.ts) decodes exactly what the Recommender
 * serves: the same requests (serving/request.ts) give the same ranks, and its figures equal those
 * of the accumulator `semrec eval` uses on the served lists.
 */
import { describe, expect, it } from 'vitest';
import { Recommender } from '../../../src/serving/recommender.js';
import { decodeRanks, rankFigures, sampleUsers } from '../../../src/eval/decode.js';
import { MetricAccumulator } from '../../../src/eval/metrics.js';
import { tmp } from '../../helpers.js';
import { transitionPipeline } from '../pipeline.js';

describe('eval/decode: one evaluator for validation choices', () => {
  it('ranks and figures equal those of the Recommender serving the same users (kept and excluded history)', async () => {
    const { model, ds } = await transitionPipeline(tmp(), { items: 120, users: 300, seed: 21 });
    const rec = await Recommender.load(model, undefined, { warmup: 0 });
    try {
      const ctx = { index: rec.index, trie: rec.trie, layout: rec.layout, maxHistory: rec.config.maxHistory };
      const sample = sampleUsers(ctx, ds.valid, 80, 3);
      expect(sample.examples).toHaveLength(80);
      for (const excludeSeen of [false, true]) {
        const ranks = await decodeRanks(rec.model, 16, ctx, sample, 20, () => undefined, excludeSeen);
        const acc = new MetricAccumulator([5, 10], rec.index.size);
        const served: number[] = [];
        for (const e of sample.examples) {
          const items = (await rec.recommend(e.history, { k: 10, beamWidth: 20, excludeSeen })).items.map((i) => i.itemId);
          served.push(items.indexOf(e.target) + 1);
          acc.add(items, e.target);
        }
        expect(ranks).toEqual(served);
        const m = acc.result();
        expect(rankFigures(ranks, rec.index.size)).toEqual({ recall5: m.recall[5], ndcg5: m.ndcg[5], recall10: m.recall[10], ndcg10: m.ndcg[10] });
        expect(ranks.some((r) => r > 0)).toBe(true);
      }
    } finally {
      await rec.close();
    }
  });
});
