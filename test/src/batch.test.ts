/**
 * `semrec recommend-batch`: one JSONL line per user in input order, equal to what the Recommender
 * serves; shards that together are the whole job; an interrupted job resumed after its last
 * complete line (a torn line dropped) to the same file an uninterrupted one writes; another job's
 * partial file and a finished output refused without --force; bad history files named.
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../../src/data/store.js';
import { Recommender } from '../../src/serving/recommender.js';
import { datasetRequests, recommendBatch } from '../../src/serving/batch.js';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { tmp } from '../helpers.js';
import { run } from './cli-helpers.js';
import { transitionPipeline } from './pipeline.js';

const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { user: string; items: { itemId: string; score: number }[] });

describe('semrec recommend-batch', () => {
  it('every user once, in order, as served; shards make the whole; resumable; refuses what it must', async () => {
    const dir = tmp();
    const { model, data } = await transitionPipeline(dir, { items: 120, users: 300, seed: 12 });
    const ds = await loadDataset(data);
    const out = path.join(dir, 'all.jsonl');
    const r = await run(['recommend-batch', '--model', model, '--data', data, '--out', out, '-k', '5']);
    expect(r.code, r.err).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ users: ds.test.length, resumed: 0 });
    expect(existsSync(out + '.partial')).toBe(false);
    const all = lines(out);
    expect(all.map((l) => l.user)).toEqual(ds.test.map((e) => e.user));
    const rec = await Recommender.load(model, undefined, { warmup: 0 });
    const requests = datasetRequests(ds, rec.config.maxHistory);
    for (const i of [0, 7, 150]) {
      const want = (await rec.recommend(requests[i].history, { k: 5, beamWidth: 20 })).items.map((x) => x.itemId);
      expect(all[i].items.map((x) => x.itemId)).toEqual(want);
    }
    // shards: together the whole job, line for line
    const parts = [1, 2, 3].map((I) => path.join(dir, `shard-${I}.jsonl`));
    for (let I = 1; I <= 3; I++) expect((await run(['recommend-batch', '--model', model, '--data', data, '--out', parts[I - 1], '-k', '5', '--shard', `${I}/3`])).code).toBe(0);
    const sharded = parts.map(lines);
    all.forEach((l, i) => expect(sharded[i % 3][Math.floor(i / 3)]).toEqual(l));
    // an interrupted job: 100 lines written, then a torn line; the rerun resumes after line 100
    const cut = path.join(dir, 'cut.jsonl');
    await expect(
      recommendBatch(rec, requests, {
        out: cut,
        k: 5,
        chunk: 50,
        onProgress: (d) => {
          if (d >= 100) throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    await rec.close();
    expect(existsSync(cut)).toBe(false); // nothing half-written is visible under the final name
    expect(readFileSync(cut + '.partial', 'utf8').trim().split('\n')).toHaveLength(100);
    appendFileSync(cut + '.partial', '{"user": "torn');
    const again = await run(['recommend-batch', '--model', model, '--data', data, '--out', cut, '-k', '5']);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out).resumed).toBe(100);
    expect(readFileSync(cut, 'utf8')).toBe(readFileSync(out, 'utf8'));
    // a finished output is not redone silently; a partial file of another job is not continued
    const done = await run(['recommend-batch', '--model', model, '--data', data, '--out', out, '-k', '5']);
    expect(done.code).toBe(2);
    expect(done.err).toMatch(/exists \(a finished batch\)/);
    const other = path.join(dir, 'other.jsonl');
    writeFileSync(other + '.partial', '');
    writeFileSync(other + '.partial.json', '{"k": 3}');
    const refused = await run(['recommend-batch', '--model', model, '--data', data, '--out', other, '-k', '5']);
    expect(refused.err).toMatch(/belongs to another job/);
    expect((await run(['recommend-batch', '--model', model, '--data', data, '--out', other, '-k', '5', '--force'])).code).toBe(0);
    expect(readFileSync(other, 'utf8')).toBe(readFileSync(out, 'utf8'));
    // Parquet: the same rows, one per user (items and scores as lists), renamed into place when complete
    const pq = path.join(dir, 'all.parquet');
    const p = await run(['recommend-batch', '--model', model, '--data', data, '--out', pq, '-k', '5']);
    expect(p.code, p.err).toBe(0);
    expect([existsSync(pq + '.partial'), existsSync(pq + '.partial.parquet'), existsSync(pq + '.partial.json')]).toEqual([false, false, false]);
    const buf = readFileSync(pq);
    const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) })) as { user: string; items: string[]; scores: number[]; skipped: string[]; error: string | null }[];
    const jsonlRows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { user: string; items: { itemId: string; score: number }[]; skipped: string[]; error?: string });
    expect(rows).toEqual(jsonlRows.map((l) => ({ user: l.user, items: l.items.map((x) => x.itemId), scores: l.items.map((x) => x.score), skipped: l.skipped, error: l.error ?? null })));
    const schema = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)).schema.map((e) => [e.name, e.type ?? e.converted_type]);
    expect(schema).toEqual([['root', undefined], ['user', 'BYTE_ARRAY'], ['items', 'LIST'], ['list', undefined], ['element', 'BYTE_ARRAY'], ['scores', 'LIST'], ['list', undefined], ['element', 'DOUBLE'], ['skipped', 'LIST'], ['list', undefined], ['element', 'BYTE_ARRAY'], ['error', 'BYTE_ARRAY']]);
    // histories from JSONL; bad lines are named
    const hist = path.join(dir, 'h.jsonl');
    writeFileSync(hist, requests.slice(0, 4).map((q) => JSON.stringify(q)).join('\n') + '\n');
    const fromFile = await run(['recommend-batch', '--model', model, '--histories', hist, '--out', path.join(dir, 'h-out.jsonl'), '-k', '5']);
    expect(fromFile.code, fromFile.err).toBe(0);
    expect(lines(path.join(dir, 'h-out.jsonl'))).toEqual(all.slice(0, 4));
    writeFileSync(hist, JSON.stringify(requests[0]) + '\n{"user": "x", "history": "a"}\n');
    expect((await run(['recommend-batch', '--model', model, '--histories', hist, '--out', path.join(dir, 'bad.jsonl')])).err).toMatch(/line 2: .*history/);
    writeFileSync(hist, JSON.stringify(requests[0]) + '\n' + JSON.stringify(requests[0]) + '\n');
    expect((await run(['recommend-batch', '--model', model, '--histories', hist, '--out', path.join(dir, 'bad.jsonl')])).err).toMatch(/appears twice/);
  }, 120_000);
});
