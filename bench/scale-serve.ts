/**
 * bench/scale-serve — the serving half of bench/scale.ts, in its own process so that its resident
 * set is the serving process's: the trie build over the index, `Recommender.load`, then single
 * requests at beam 20 (k 10) on a seeded random sample of test users' histories. Prints one JSON
 * line (the parent adds the peak RSS).
 *
 *   node -r ./bench/rss-on-exit.cjs --import tsx bench/scale-serve.ts --model DIR --index DIR --data DIR [--requests 200]
 */
import { PrefixTrie } from '../decoding/index.js';
import { Rng } from '../quantizer/core/index.js';
import { loadIndex } from '../quantizer/index.js';
import { loadDataset } from '../src/data/store.js';
import { Recommender } from '../src/serving/recommender.js';
import { arg, pct } from './fixture.js';

const model = arg('model', '');
const indexDir = arg('index', '');
const data = arg('data', '');
const requests = Number(arg('requests', '200'));

const index = await loadIndex(indexDir);
let t0 = performance.now();
const trie = PrefixTrie.build(index.codes, index.size, index.codebookSizes);
const trieMs = performance.now() - t0;
const ds = await loadDataset(data);
const rng = new Rng(9);
const users = Array.from({ length: requests }, () => ds.test[rng.int(ds.test.length)]);
const rssBefore = process.memoryUsage().rss;
t0 = performance.now();
const rec = await Recommender.load(model, indexDir);
const loadSeconds = (performance.now() - t0) / 1000;
const rssLoaded = process.memoryUsage().rss;
const ms: number[] = [];
let invalid = 0;
for (const u of users) {
  const s = performance.now();
  const r = await rec.recommend(u.history, { k: 10, beamWidth: 20 });
  ms.push(performance.now() - s);
  for (const it of r.items) if (index.rowOf(it.itemId) === undefined) invalid++;
}
const rssServing = process.memoryUsage().rss;
await rec.close();
console.log(
  JSON.stringify({
    trieBuildMs: +trieMs.toFixed(1),
    trieBytesPerItem: +(trie.bytes / index.size).toFixed(2),
    loadSeconds: +loadSeconds.toFixed(2),
    modelRssMb: Math.round((rssLoaded - rssBefore) / 2 ** 20),
    servingRssMb: Math.round(rssServing / 2 ** 20),
    decodeP50Ms: pct(ms, 50),
    decodeP99Ms: pct(ms, 99),
    requests,
    invalid,
  }),
);
