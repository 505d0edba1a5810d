import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { brandName, synthesize } from '../../../src/data/synth.js';
import { Rng } from '../../../quantizer/core/index.js';
import { prepare } from '../../../src/data/split.js';
import { loadDataset, writeDataset } from '../../../src/data/store.js';
import { MarkovRanker, PopularityRanker } from '../../../src/eval/baselines.js';
import { MetricAccumulator } from '../../../src/eval/metrics.js';
import { InputError } from '../../../src/errors.js';
import { tmp } from '../../helpers.js';

async function write(dir: string, seed: number) {
  const params = { items: 300, users: 600, seed };
  const raw = synthesize(params);
  await writeDataset(dir, prepare(raw), { malformed: raw.malformed, params });
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f))]));
}

describe('synthetic data', () => {
  it('same seed → byte-identical files; different seed → different data', async () => {
    const d = tmp();
    const a = await write(path.join(d, 'a'), 1);
    const b = await write(path.join(d, 'b'), 1);
    const c = await write(path.join(d, 'c'), 2);
    expect(Object.keys(a)).toEqual(['MANIFEST.json', 'dataset.json', 'interactions.tsv', 'items.jsonl', 'test.jsonl', 'train.jsonl', 'valid.jsonl']);
    for (const f of Object.keys(a)) expect(a[f].equals(b[f]), f).toBe(true);
    expect(a['items.jsonl'].equals(c['items.jsonl'])).toBe(false);
    expect(a['test.jsonl'].equals(c['test.jsonl'])).toBe(false);
  });

  it('items have realistic text fields and unique ids', () => {
    const raw = synthesize({ items: 200, users: 50, seed: 3 });
    expect(raw.items.size).toBe(200);
    for (const it of raw.items.values()) {
      expect(it.title.length).toBeGreaterThan(10);
      expect(it.brand).toBeTruthy();
      expect(it.categories).toHaveLength(3);
      expect(it.description!.length).toBeGreaterThan(30);
      expect(it.text).toContain(it.title);
      expect(it.price).toBeGreaterThan(0);
    }
  });

  it('histories carry sequential signal: a Markov chain beats popularity on the test split', async () => {
    const d = tmp();
    const raw = synthesize({ items: 400, users: 1500, seed: 5 });
    await writeDataset(d, prepare(raw), { malformed: raw.malformed });
    const ds = await loadDataset(d);
    const score = (r: { rank(h: readonly string[], k: number): string[] }) => {
      const acc = new MetricAccumulator([10], ds.items.length);
      for (const e of ds.test) acc.add(r.rank(e.history, 10), e.target);
      return acc.result().recall[10];
    };
    const pop = score(new PopularityRanker(ds.train));
    const markov = score(new MarkovRanker(ds.train));
    expect(markov).toBeGreaterThan(2 * pop);
    // without the routine pattern the advantage shrinks
    const flat = synthesize({ items: 400, users: 1500, seed: 5, sequential: 0 });
    const d2 = tmp();
    await writeDataset(d2, prepare(flat), { malformed: flat.malformed });
    const ds2 = await loadDataset(d2);
    const acc = new MetricAccumulator([10], ds2.items.length);
    const m2 = new MarkovRanker(ds2.train);
    for (const e of ds2.test) acc.add(m2.rank(e.history, 10), e.target);
    expect(acc.result().recall[10]).toBeLessThan(markov);
  });

  it('brand names stay unique past the 2-3 syllable names (a million-item catalogue needs 40,000 brands)', () => {
    const used = new Set<string>();
    const rng = new Rng(1);
    const names = Array.from({ length: 40_000 }, () => brandName(rng, used));
    expect(new Set(names).size).toBe(40_000);
    // the first names are the 2-3 syllable ones smaller catalogues always got (same draws)
    expect(names.slice(0, 4000).every((n) => n.length <= 3 * 3)).toBe(true);
    expect(names.slice(-1000).some((n) => n.length > 3 * 3)).toBe(true);
  });

  it('rejects bad sizes', () => {
    expect(() => synthesize({ items: 3 })).toThrow(InputError);
    expect(() => synthesize({ users: 0 })).toThrow(InputError);
    expect(() => synthesize({ sequential: 2 })).toThrow(InputError);
  });
});
