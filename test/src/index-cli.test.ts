import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run } from './cli-helpers.js';
import { tmp } from '../helpers.js';
import { encodeF32 } from '../../src/indexing/embed/index.js';

async function synth(dir: string) {
  const r = await run(['data', 'synth', '--out', dir, '--items', '300', '--users', '800', '--seed', '3']);
  expect(r.code).toBe(0);
}

describe('semrec index (CLI contract)', () => {
  it('build → stats → lookup → dump → add, for the default semantic scheme', async () => {
    const root = tmp();
    const data = path.join(root, 'data');
    await synth(data);
    const idx = path.join(root, 'idx');
    const b = await run(['index', 'build', '--items', path.join(data, 'items.jsonl'), '--scheme', 'rqkmeans:3x16', '--collisions', 'extra-level', '--seed', '1', '--out', idx]);
    expect(b.code, b.err).toBe(0);
    const built = JSON.parse(b.out.trim());
    const nItems = readFileSync(path.join(data, 'items.jsonl'), 'utf8').trim().split('\n').length;
    expect(built.items).toBe(nItems);
    expect(built.levels).toBe(4);

    const s = await run(['index', 'stats', idx]);
    const stats = JSON.parse(s.out);
    expect(stats).toMatchObject({ items: nItems, levels: 4, collisions: 'extra-level', scheme: 'rqkmeans:3x16' });
    expect(stats.collisionsResolved).toBe(built.collisionsResolved);
    expect(stats.perLevel).toHaveLength(4);
    for (const l of stats.perLevel.slice(0, 3)) {
      expect(l.utilisation).toBeGreaterThan(0.5);
      expect(l.entropy).toBeGreaterThan(0);
    }

    const d = await run(['index', 'dump', idx]);
    const rows = d.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(nItems);
    expect(new Set(rows.map((r) => r.codes.join(','))).size).toBe(nItems);

    const l1 = await run(['index', 'lookup', idx, '--item', rows[7].item]);
    expect(JSON.parse(l1.out)).toEqual(rows[7]);
    const l2 = await run(['index', 'lookup', idx, '--codes', rows[9].codes.join(',')]);
    expect(JSON.parse(l2.out)).toEqual(rows[9]);
    const miss = await run(['index', 'lookup', idx, '--item', 'nope']);
    expect(miss.code).toBe(2);
    expect(miss.err).toMatch(/E_NOT_FOUND/);

    // add new items: embedded with the index's own TF-IDF encoder
    const newItems = path.join(root, 'new.jsonl');
    writeFileSync(
      newItems,
      ['{"id":"N1","title":"Lumavo Gentle Rose Vitamin C Serum, 1 oz"}', '{"id":"N2","title":"Solbri Trail Running Shoes, Medium","text":"running shoes trail"}'].join('\n'),
    );
    const idx2 = path.join(root, 'idx2');
    const a = await run(['index', 'add', '--index', idx, '--items', newItems, '--out', idx2]);
    expect(a.code, a.err).toBe(0);
    expect(JSON.parse(a.out)).toMatchObject({ added: 2, items: nItems + 2, indexVersion: 2 });
    const d2 = await run(['index', 'dump', idx2]);
    const rows2 = d2.out.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows2.slice(0, nItems)).toEqual(rows); // old IDs unchanged
    expect(new Set(rows2.map((r) => r.codes.join(','))).size).toBe(nItems + 2);
    // the old index is untouched
    expect((await run(['index', 'stats', idx])).out).toContain(`"items": ${nItems}`);
  });

  it('other schemes from a dataset directory, precomputed embeddings, and clear errors', async () => {
    const root = tmp();
    const data = path.join(root, 'data');
    await synth(data);
    for (const scheme of ['random:2x32', 'sequential:2x32', 'collab:2x32', 'hybrid:2x32']) {
      const r = await run(['index', 'build', '--items', data, '--scheme', scheme, '--out', path.join(root, scheme.replace(':', '-'))]);
      expect(r.code, `${scheme}: ${r.err}`).toBe(0);
      expect(JSON.parse(r.out).scheme).toBe(scheme);
    }
    const n = readFileSync(path.join(data, 'items.jsonl'), 'utf8').trim().split('\n').length;
    const emb = path.join(root, 'emb.f32');
    writeFileSync(emb, encodeF32(Float32Array.from({ length: n * 5 }, (_, i) => Math.sin(i)), n, 5));
    const e = await run(['index', 'build', '--items', data, '--embeddings', emb, '--scheme', 'rqkmeans:1x16+1x64', '--collisions', 'reassign', '--balanced', '--out', path.join(root, 'e')]);
    expect(e.code, e.err).toBe(0);
    // a new item for an index built from precomputed embeddings needs --embeddings
    writeFileSync(path.join(root, 'n.jsonl'), '{"id":"Z","title":"z"}\n');
    const add = await run(['index', 'add', '--index', path.join(root, 'e'), '--items', path.join(root, 'n.jsonl'), '--out', path.join(root, 'e2')]);
    expect(add.code).toBe(2);
    expect(add.err).toMatch(/pass the new items' embeddings \[--embeddings\]/);

    const bad = await run(['index', 'build', '--items', data, '--scheme', 'rq:3x8', '--out', path.join(root, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown scheme "rq"/);
    const noSeq = await run(['index', 'build', '--items', path.join(data, 'items.jsonl'), '--scheme', 'collab:2x8', '--out', path.join(root, 'y')]);
    expect(noSeq.err).toMatch(/needs training sequences/);
    const corrupt = await run(['index', 'stats', data]);
    expect(corrupt.code).toBe(2);
    expect(corrupt.err).toMatch(/E_INDEX_FORMAT.*holds a semrec-dataset, not a semrec-index/);
  });
});

describe('the real CLI process into a real pipe', () => {
  it('`index dump` delivers every line before it exits (stdout is drained, not cut off)', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = tmp();
    // 20,000 items: ~1 MB of JSONL, far more than a pipe buffers
    const n = 20_000;
    const items = path.join(root, 'items.jsonl');
    writeFileSync(items, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `item-${i}`, title: `thing ${i}` })).join('\n') + '\n');
    const idx = path.join(root, 'idx');
    expect((await run(['index', 'build', '--items', items, '--scheme', 'random:3x32', '--out', idx])).code).toBe(0);
    // the reported case: one node process writing into a shell pipe whose reader starts late
    const cmd = `set -o pipefail; "${process.execPath}" --import tsx src/cli.ts index dump "${idx}" | (sleep 0.3; wc -l)`;
    const out = execFileSync('bash', ['-c', cmd], { encoding: 'utf8' });
    expect(Number(out.trim())).toBe(n);
  }, 60_000);
});

describe('index build input report', () => {
  it('a BOM is not part of the first id; malformed lines are counted and named, and --strict refuses them', async () => {
    const root = tmp();
    const good = Array.from({ length: 45 }, (_, i) => JSON.stringify({ id: `g${i}`, title: `good item ${i % 7} blue lamp` }));
    const bad = ['not json', JSON.stringify({ title: 'no id' }), JSON.stringify({ id: '   ', title: 'blank id' }), '[1,2]', '{"id": "x", '];
    const lines = [...good];
    bad.forEach((b, i) => lines.splice(5 + i * 9, 0, b));
    const items = path.join(root, 'items.jsonl');
    writeFileSync(items, '\uFEFF' + lines.join('\n') + '\n');
    const idx = path.join(root, 'idx');
    const r = await run(['index', 'build', '--items', items, '--scheme', 'random:2x16', '--out', idx]);
    expect(r.code, r.err).toBe(0);
    const out = JSON.parse(r.out.trim());
    expect(out.items).toBe(45);
    expect(out.skippedLines).toBe(5);
    expect(r.err).toMatch(/skipped 5 malformed line\(s\), e\.g\. line 6: not a JSON object; line 15: missing or invalid id/);
    const d = await run(['index', 'lookup', idx, '--item', 'g0']); // the BOM line's item keeps its id
    expect(d.code, d.err).toBe(0);
    const strict = await run(['index', 'build', '--items', items, '--scheme', 'random:2x16', '--strict', '--out', path.join(root, 'idx2')]);
    expect(strict.code).toBe(2);
    expect(strict.err).toMatch(/E_FORMAT.*5 malformed line\(s\)/);
  });
});

describe('degenerate indexes', () => {
  it('are refused with a typed error that names a scheme that works, unless --allow-degenerate', async () => {
    const root = tmp();
    // 200 items whose text tells only three kinds apart
    const kinds = ['red lamp', 'blue chair', 'green desk'];
    const items = path.join(root, 'items.jsonl');
    writeFileSync(items, Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `p${i}`, title: kinds[i % 3] })).join('\n') + '\n');
    const idx = path.join(root, 'idx');
    const r = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--out', idx]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/E_DATA.*degenerate: 67 of 200 items share one tuple.*--embed cf.*collab:2x16.*--allow-degenerate/);
    const forced = await run(['index', 'build', '--items', items, '--scheme', 'rqkmeans:2x16', '--allow-degenerate', '--out', idx]);
    expect(forced.code, forced.err).toBe(0);
    expect(JSON.parse(forced.out.trim()).maxGroup).toBe(67);
  });
});
