/**
 * Catalogue growth without retraining: `index add` / `index remove` keep every parent row and
 * tuple, record the parent's hash, and a model trained on the parent serves the child index.
 */
import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { addItemsJob, buildIndexJob, removeItemsJob } from '../../src/indexing/jobs.js';
import { Recommender } from '../../src/serving/recommender.js';
import { ModelError } from '../../src/errors.js';
import { loadIndex } from '../../quantizer/index.js';
import { tmp } from '../helpers.js';
import { transitionPipeline } from './pipeline.js';
import { run } from './cli-helpers.js';

const trained = (root: string) => transitionPipeline(root, { items: 150, users: 500, seed: 11 });

describe('catalogue growth without retraining', () => {
  it('a model trained before index add recommends a new item whose tuple the trie now holds', async () => {
    const root = tmp();
    const p = await trained(root);
    const parent = await loadIndex(p.index);
    const src = p.ds.items[3];
    const fresh = [
      { id: 'NEW-1', title: 'new one', text: src.text },
      { id: 'NEW-2', title: 'new two', text: p.ds.items[50].text + ' refill' },
    ];
    const grown = path.join(root, 'index-grown');
    await addItemsJob({ index: p.index, items: fresh, out: grown });
    const child = await loadIndex(grown);
    // lineage and unchanged parent rows
    expect(child.info.lineage).toEqual([parent.hash()]);
    expect(child.descendsFrom(parent.hash())).toBe(true);
    expect(child.itemIds.slice(0, parent.size)).toEqual(parent.itemIds);
    expect(Array.from(child.codes.subarray(0, parent.codes.length))).toEqual(Array.from(parent.codes));

    const rec = await Recommender.load(p.model, grown);
    expect(rec.trie.find(child.codeOf('NEW-1')!)).toBeGreaterThanOrEqual(0);
    const hist = p.ds.test[0].history;
    // the whole catalogue ranked: both new items are candidates (they have the unseen-item prior)
    const all = await rec.recommend(hist, { k: child.size, beamWidth: child.size, excludeSeen: false });
    expect(all.items).toHaveLength(child.size);
    expect(all.items.map((i) => i.itemId)).toEqual(expect.arrayContaining(['NEW-1', 'NEW-2']));
    // restricted to the new items, they come back with their tuples
    const only = await rec.recommend(hist, { k: 2, allow: ['NEW-1', 'NEW-2', 'NOT-AN-ITEM'] });
    expect(only.items.map((i) => i.itemId).sort()).toEqual(['NEW-1', 'NEW-2']);
    expect(only.items.find((i) => i.itemId === 'NEW-1')!.codes).toEqual(child.codeOf('NEW-1'));
    expect(only.unknownCandidates).toEqual(['NOT-AN-ITEM']);
    // a new item in a history is used, not skipped
    const withNew = await rec.recommend([...hist, 'NEW-1'], { k: 3 });
    expect(withNew.skipped).toEqual([]);

    // the same through the CLI
    const r = await run(['recommend', '--model', p.model, '--index', grown, '--history', hist.join(','), '-k', String(child.size), '--beam', String(child.size), '--json']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out).items.map((i: { itemId: string }) => i.itemId)).toContain('NEW-2');
  });

  it('index remove retires items: never recommended, tuples never reused, older models still serve', async () => {
    const root = tmp();
    const p = await trained(root);
    const parent = await loadIndex(p.index);
    const rec0 = await Recommender.load(p.model, p.index);
    const hist = p.ds.test[1].history;
    const before = await rec0.recommend(hist, { k: 10 });
    const gone = before.items.slice(0, 3).map((i) => i.itemId);

    const cli = await run(['index', 'remove', '--index', p.index, '--ids', gone.join(','), '--out', path.join(root, 'index-removed')]);
    expect(cli.code, cli.err).toBe(0);
    expect(JSON.parse(cli.out)).toMatchObject({ removed: 3, retired: 3, items: parent.size });
    const removed = await loadIndex(path.join(root, 'index-removed'));
    expect(removed.size).toBe(parent.size);
    expect(removed.liveRows()).toHaveLength(parent.size - 3);
    expect(removed.hash()).not.toBe(parent.hash());

    const rec = await Recommender.load(p.model, path.join(root, 'index-removed'));
    for (const e of p.ds.test.slice(0, 40)) {
      const r = await rec.recommend(e.history, { k: 20 });
      expect(r.items).toHaveLength(20);
      for (const it of r.items) expect(gone).not.toContain(it.itemId);
    }
    // retired items cannot be allowed back in, but are still understood in a history
    expect((await rec.recommend(hist, { k: 3, allow: gone })).items).toEqual([]);
    expect((await rec.recommend([gone[0]], { k: 3 })).skipped).toEqual([]);
    // the first non-retired results are the old ranking without the retired items
    const after = await rec.recommend(hist, { k: 7 });
    expect(after.items.map((i) => i.itemId)).toEqual(before.items.slice(3, 10).map((i) => i.itemId));

    // a new item with a retired item's text never gets the retired tuple
    const twin = p.ds.items.find((i) => i.id === gone[0])!;
    await addItemsJob({ index: path.join(root, 'index-removed'), items: [{ id: 'TWIN', title: 'twin', text: twin.text }], out: path.join(root, 'index-3') });
    const third = await loadIndex(path.join(root, 'index-3'));
    expect(third.codeOf('TWIN')).not.toEqual(third.codeOf(gone[0]));
    expect(third.isRetired(third.rowOf(gone[0])!)).toBe(true);
    expect(third.info.lineage).toEqual([parent.hash(), removed.hash()]);
    await Recommender.load(p.model, path.join(root, 'index-3')); // two generations on: still served

    // refused: unknown and already-retired ids
    await expect(removeItemsJob({ index: path.join(root, 'index-removed'), ids: [gone[0]], out: path.join(root, 'x') })).rejects.toThrow(/already retired/);
    const bad = await run(['index', 'remove', '--index', p.index, '--ids', 'NOPE', '--out', path.join(root, 'y')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not in the index: NOPE/);
  });

  it('an index that does not descend from the model’s is refused; a copied model tree still loads', async () => {
    const root = tmp();
    const p = await trained(root);
    const other = path.join(root, 'other');
    await buildIndexJob({ items: p.ds.items, scheme: 'rqkmeans:2x16', seed: 2, out: other });
    await expect(Recommender.load(p.model, other)).rejects.toThrow(ModelError);
    await expect(Recommender.load(p.model, other)).rejects.toThrow(/does not descend from it/);
    // relocatable: config.json records the index and data relative to the model directory
    const cfg = JSON.parse(readFileSync(path.join(p.model, 'config.json'), 'utf8'));
    expect(cfg.indexDir).toBe('../index');
    expect(cfg.dataDir).toBe('../data');
    const moved = path.join(tmp(), 'elsewhere');
    cpSync(root, moved, { recursive: true });
    rmSync(root, { recursive: true, force: true });
    const rec = await Recommender.load(path.join(moved, 'model'));
    expect((await rec.recommend(p.ds.test[0].history, { k: 3 })).items).toHaveLength(3);
    // a model whose recorded index is gone says what to do
    rmSync(path.join(moved, 'index'), { recursive: true });
    await expect(Recommender.load(path.join(moved, 'model'))).rejects.toThrow(/Pass the index directory explicitly/);
  });
});
