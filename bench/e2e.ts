/**
 * End-to-end serving figures for bench/decoding: the Recommender over the onnxruntime transformer
 * runner and over the transition model (the reference), on the synthetic data.
 */
import path from 'node:path';
import { pct, withSyntheticFixture } from './fixture.js';
import { trainModel } from '../src/training/train.js';
import { Recommender } from '../src/serving/recommender.js';


async function measure(rec: Recommender, histories: string[][], beamWidth: number) {
  await rec.recommend(histories[0], { k: 10, beamWidth }); // warm-up
  const single: number[] = [];
  for (const h of histories) {
    const t0 = performance.now();
    await rec.recommend(h, { k: 10, beamWidth });
    single.push(performance.now() - t0);
  }
  const conc = 16;
  const t0 = performance.now();
  for (let s = 0; s < histories.length; s += conc) await Promise.all(histories.slice(s, s + conc).map((h) => rec.recommend(h, { k: 10, beamWidth })));
  const seconds = (performance.now() - t0) / 1000;
  return { singleP50Ms: pct(single, 50), singleP99Ms: pct(single, 99), concurrent16ReqPerSec: +(histories.length / seconds).toFixed(1) };
}

/** Train both generators on synthetic data and measure serving latency and throughput. */
export async function endToEnd(requests: number): Promise<Record<string, unknown>> {
  return withSyntheticFixture('semrec-bench-e2e-', async ({ root, dataDir: data, indexDir: index, ds }) => {
    await trainModel({ data, index, out: path.join(root, 'decoder'), arch: 'decoder', decoder: { maxSteps: 40, epochs: 1 } });
    await trainModel({ data, index, out: path.join(root, 'bigram'), arch: 'bigram' });
    const histories = ds.test.slice(0, requests).map((e) => e.history);
    const decoder = await measure(await Recommender.load(path.join(root, 'decoder'), index), histories, 20);
    const bigram = await measure(await Recommender.load(path.join(root, 'bigram'), index), histories, 20);
    return {
      requests,
      beamWidth: 20,
      decoder: { layers: 4, dModel: 128, ...decoder },
      bigram,
      decoderOverBigramP50: +(decoder.singleP50Ms / bigram.singleP50Ms).toFixed(1),
    };
  });
}
