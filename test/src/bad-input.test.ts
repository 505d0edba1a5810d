/**
 * Table-driven bad input, for the library and the CLI: every case must be refused with the
 * expected typed error code (library: a rejected promise or thrown SemrecError; CLI: exit 2 and
 * exactly one line `semrec: error [CODE] …` on stderr). The suite prints its counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset, type Dataset } from '../../src/data/store.js';
import { addItemsJob, buildIndexJob, removeItemsJob } from '../../src/indexing/jobs.js';
import { trainModel } from '../../src/training/train.js';
import { Recommender } from '../../src/serving/recommender.js';
import { transitionPipeline } from './pipeline.js';
import { SemrecError } from '../../src/errors.js';
import { loadIndex } from '../../quantizer/index.js';
import { createServer } from '../../src/serving/server.js';
import { run } from './cli-helpers.js';

let root: string;
let data: string;
let index: string;
let model: string;
let ds: Dataset;
let rec: Recommender;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'semrec-bad-'));
  ({ data, ds, index, model } = await transitionPipeline(root, { items: 100, users: 250, seed: 8 }));
  rec = await Recommender.load(model);
  mkdirSync(path.join(root, 'junk'));
  writeFileSync(path.join(root, 'junk', 'notes.txt'), 'mine');
  writeFileSync(path.join(root, 'file.txt'), 'x');
}, 60_000);

afterAll(async () => {
  await rec?.close();
  rmSync(root, { recursive: true, force: true });
});

const h = () => ds.test[0].history;
const nope = (p: string) => path.join(root, p);

/** [what, call, expected code]. */
const library: [string, () => Promise<unknown>, string][] = [
  ['history null', () => rec.recommend(null as unknown as string[]), 'E_INPUT'],
  ['history a string', () => rec.recommend('P00001' as unknown as string[]), 'E_INPUT'],
  ['history of numbers', () => rec.recommend([1, 2] as unknown as string[]), 'E_INPUT'],
  ['history empty', () => rec.recommend([]), 'E_EMPTY_HISTORY'],
  ['history of unknown items', () => rec.recommend(['X1', 'X2']), 'E_EMPTY_HISTORY'],
  ['k 0', () => rec.recommend(h(), { k: 0 }), 'E_INPUT'],
  ['k -1', () => rec.recommend(h(), { k: -1 }), 'E_INPUT'],
  ['k 1.5', () => rec.recommend(h(), { k: 1.5 }), 'E_INPUT'],
  ['k 201', () => rec.recommend(h(), { k: 201 }), 'E_INPUT'],
  ['k NaN', () => rec.recommend(h(), { k: NaN }), 'E_INPUT'],
  ['k a string', () => rec.recommend(h(), { k: '5' as unknown as number }), 'E_INPUT'],
  ['beamWidth below k', () => rec.recommend(h(), { k: 10, beamWidth: 5 }), 'E_INPUT'],
  ['beamWidth 501', () => rec.recommend(h(), { beamWidth: 501 }), 'E_INPUT'],
  ['allow not an array', () => rec.recommend(h(), { allow: 'P1' as unknown as string[] }), 'E_INPUT'],
  ['allow of numbers', () => rec.recommend(h(), { allow: [1] as unknown as string[] }), 'E_INPUT'],
  ['deny of null', () => rec.recommend(h(), { deny: [null] as unknown as string[] }), 'E_INPUT'],
  ['load: missing model dir', () => Recommender.load(nope('none')), 'E_MODEL'],
  ['load: a dataset as the model', () => Recommender.load(data), 'E_MODEL'],
  ['load: a dataset as the index', () => Recommender.load(model, data), 'E_INDEX_FORMAT'],
  ['load: fusion weight on a transition model', () => Recommender.load(model, index, { fusionWeight: 0.5 }), 'E_INPUT'],
  ['load: part of a transition model', () => Recommender.load(model, index, { part: 'transformer' }), 'E_INPUT'],
  ['loadIndex: missing', () => loadIndex(nope('none')), 'E_INDEX_FORMAT'],
  ['loadIndex: a file', () => loadIndex(nope('file.txt')), 'E_INDEX_FORMAT'],
  ['loadDataset: missing', () => loadDataset(nope('none')), 'E_NOT_FOUND'],
  ['loadDataset: an index', () => loadDataset(index), 'E_FORMAT'],
  ['build: unknown scheme', () => buildIndexJob({ items: ds.items, scheme: 'rq:3x8', out: nope('i1') }), 'E_INPUT'],
  ['build: zero levels', () => buildIndexJob({ items: ds.items, scheme: 'rqkmeans:0x8', out: nope('i2') }), 'E_INPUT'],
  ['build: codebook too large', () => buildIndexJob({ items: ds.items, scheme: 'rqkmeans:2x70000', out: nope('i3') }), 'E_INPUT'],
  ['build: no items', () => buildIndexJob({ items: [], scheme: 'random:2x8', out: nope('i4') }), 'E_INPUT'],
  ['build: collab without sequences', () => buildIndexJob({ items: ds.items, scheme: 'collab:2x8', out: nope('i5') }), 'E_INPUT'],
  ['build: over a model directory', () => buildIndexJob({ items: ds.items, scheme: 'random:2x8', out: model }), 'E_EXISTS'],
  ['build: over unrelated files', () => buildIndexJob({ items: ds.items, scheme: 'random:2x8', out: nope('junk') }), 'E_EXISTS'],
  ['add: an item already there', () => addItemsJob({ index, items: [ds.items[0]], out: nope('i6') }), 'E_INPUT'],
  ['remove: unknown id', () => removeItemsJob({ index, ids: ['NOPE'], out: nope('i7') }), 'E_INPUT'],
  ['remove: nothing', () => removeItemsJob({ index, ids: [], out: nope('i8') }), 'E_INPUT'],
  ['train: unknown kind', () => trainModel({ data, index, out: nope('m1'), arch: 'gpt' }), 'E_INPUT'],
  ['train: over an index', () => trainModel({ data, index, out: index, arch: 'transition' }), 'E_EXISTS'],
  ['train: missing dataset', () => trainModel({ data: nope('none'), index, out: nope('m2'), arch: 'transition' }), 'E_NOT_FOUND'],
  ['serve: missing model', () => createServer({ model: nope('none') }), 'E_MODEL'],
];

/** [what, argv, expected code]. */
const cli: [string, () => string[], string][] = [
  ['recommend: k 0', () => ['recommend', '--model', model, '--history', h().join(','), '-k', '0'], 'E_INPUT'],
  ['recommend: beam x', () => ['recommend', '--model', model, '--history', h().join(','), '--beam', 'x'], 'E_INPUT'],
  ['recommend: unknown items only', () => ['recommend', '--model', model, '--history', 'X1,X2'], 'E_EMPTY_HISTORY'],
  ['recommend: empty history', () => ['recommend', '--model', model, '--history', ','], 'E_INPUT'],
  ['recommend: missing history file', () => ['recommend', '--model', model, '--history-file', nope('none.txt')], 'E_NOT_FOUND'],
  ['recommend: missing items file for titles', () => ['recommend', '--model', model, '--history', h().join(','), '--items', nope('missing.jsonl')], 'E_NOT_FOUND'],
  ['recommend: bad part', () => ['recommend', '--model', model, '--history', h().join(','), '--part', 'x'], 'E_INPUT'],
  ['recommend: fusion weight 2', () => ['recommend', '--model', model, '--history', h().join(','), '--fusion-weight', '2'], 'E_INPUT'],
  ['eval: bad split', () => ['eval', '--model', model, '--data', data, '--split', 'x'], 'E_INPUT'],
  ['eval: limit 0', () => ['eval', '--model', model, '--data', data, '--limit', '0'], 'E_INPUT'],
  ['index lookup: codes not numbers', () => ['index', 'lookup', index, '--codes', 'a,b'], 'E_INPUT'],
  ['index lookup: wrong number of codes', () => ['index', 'lookup', index, '--codes', '1'], 'E_INPUT'],
  ['index lookup: unknown item', () => ['index', 'lookup', index, '--item', 'NOPE'], 'E_NOT_FOUND'],
  ['index lookup: both', () => ['index', 'lookup', index, '--item', 'x', '--codes', '1,2'], 'E_INPUT'],
  ['index remove: no ids', () => ['index', 'remove', '--index', index, '--out', nope('r1')], 'E_INPUT'],
  ['index stats: a dataset', () => ['index', 'stats', data], 'E_INDEX_FORMAT'],
  ['index build: unknown scheme', () => ['index', 'build', '--items', data, '--scheme', 'rq:3x8', '--out', nope('b1')], 'E_INPUT'],
  ['index build: over a model', () => ['index', 'build', '--items', data, '--scheme', 'random:2x8', '--out', model], 'E_EXISTS'],
  ['data prepare: unknown format', () => ['data', 'prepare', '--format', 'nope', '--out', nope('d1')], 'E_INPUT'],
  ['data prepare: missing files', () => ['data', 'prepare', '--format', 'recbole', '--out', nope('d2')], 'E_INPUT'],
  ['data synth: items not a number', () => ['data', 'synth', '--out', nope('d3'), '--items', 'many'], 'E_INPUT'],
  ['train: unknown kind', () => ['train', '--data', data, '--index', index, '--out', nope('t1'), '--arch', 'gpt'], 'E_INPUT'],
  ['train: dModel not divisible by heads', () => ['train', '--data', data, '--index', index, '--out', nope('t2'), '--arch', 'transformer', '--d-model', '30', '--heads', '4'], 'E_INPUT'],
  ['serve: port 70000', () => ['serve', '--model', model, '--port', '70000'], 'E_INPUT'],
  ['serve: log level loud', () => ['serve', '--model', model, '--log-level', 'loud'], 'E_INPUT'],
  ['serve: max queue 0', () => ['serve', '--model', model, '--max-queue', '0', '--port', '0'], 'E_INPUT'],
  ['compare: no schemes', () => ['compare', '--data', data, '--schemes', '', '--out', nope('c1')], 'E_INPUT'],
];

describe('bad input is refused with the expected typed error', () => {
  const counts = { library: 0, cli: 0 };
  afterAll(() => console.log(`bad-input: ${counts.library} library cases and ${counts.cli} CLI cases, each refused with its expected code`));

  it(`library: ${library.length} cases`, async () => {
    const wrong: string[] = [];
    for (const [what, call, code] of library) {
      try {
        await call();
        wrong.push(`${what}: accepted`);
      } catch (err) {
        if (!(err instanceof SemrecError)) wrong.push(`${what}: untyped ${String(err)}`);
        else if (err.code !== code) wrong.push(`${what}: ${err.code} (${err.message}), expected ${code}`);
        else counts.library++;
      }
    }
    expect(wrong).toEqual([]);
  }, 60_000);

  it(`CLI: ${cli.length} cases, exit 2 and one line each`, async () => {
    const wrong: string[] = [];
    for (const [what, argv, code] of cli) {
      const r = await run(argv());
      const lines = r.err.trim().split('\n').filter((l) => !l.startsWith('[setup]'));
      if (r.code !== 2 || lines.length !== 1 || !lines[0].startsWith(`semrec: error [${code}] `)) wrong.push(`${what}: exit ${r.code}, stderr ${JSON.stringify(r.err.slice(0, 300))}`);
      else counts.cli++;
    }
    expect(wrong).toEqual([]);
  }, 60_000);
});
