/**
 * `index build --embeddings FILE --train-sample N`: an index built beyond memory — the codebooks
 * trained on a seeded sample, the embeddings file read in pieces — equals the same build over the
 * matrix in memory, from .f32 and .npy (float64) alike; new items are added through the stored
 * encoder as for any file-built index; bad files and foreign schemes are refused, typed.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildIndex, loadIndex } from '../../quantizer/index.js';
import { Rng } from '../../quantizer/core/index.js';
import { addItemsJob, buildIndexJob } from '../../src/indexing/jobs.js';
import { encodeF32 } from '../../src/indexing/embed/npy.js';
import { FormatError, InputError } from '../../src/errors.js';
import { run } from './cli-helpers.js';

const root = mkdtempSync(path.join(os.tmpdir(), 'semrec-index-sample-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const n = 700;
const d = 12;
const rng = new Rng(9);
const x = Float32Array.from({ length: n * d }, () => rng.normal());
const items = Array.from({ length: n }, (_, i) => ({ id: `P${i}`, title: `item ${i}`, text: `item ${i}` }));

function npyF8(values: Float32Array, rows: number, dim: number): Buffer {
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.alloc(10);
  pre.writeUInt8(0x93, 0);
  pre.write('NUMPY', 1, 'latin1');
  pre.writeUInt8(1, 6);
  pre.writeUInt16LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(Float64Array.from(values).buffer)]);
}

describe('index build beyond memory (--train-sample)', () => {
  const f32 = path.join(root, 'x.f32');
  const f8 = path.join(root, 'x.npy');
  writeFileSync(f32, encodeF32(x, n, d));
  writeFileSync(f8, npyF8(x, n, d));

  it('reads the file in pieces and builds the index the in-memory matrix gives', async () => {
    const want = buildIndex({ ids: items.map((i) => i.id), embeddings: x, dim: d }, { scheme: 'rqkmeans:3x8', seed: 4, trainSample: 250 });
    for (const [file, chunkRows] of [[f32, 33], [f8, 1000]] as const) {
      const out = path.join(root, `idx-${path.extname(file).slice(1)}`);
      const { index } = await buildIndexJob({ items, scheme: 'rqkmeans:3x8', seed: 4, embeddings: { kind: 'file', file }, trainSample: 250, chunkRows, out });
      expect(index.codes).toEqual(want.codes);
      const back = await loadIndex(out);
      expect(back.codes).toEqual(want.codes);
      expect(back.info.params).toMatchObject({ trainSample: 250, encoder: `file:${file}` });
    }
  });

  it('adds new items through the stored encoder, with their embeddings file', async () => {
    const extra = Float32Array.from({ length: 5 * d }, () => rng.normal());
    const file = path.join(root, 'new.f32');
    writeFileSync(file, encodeF32(extra, 5, d));
    const fresh = Array.from({ length: 5 }, (_, i) => ({ id: `NEW${i}`, title: `new ${i}`, text: `new ${i}` }));
    const out = path.join(root, 'grown');
    const { added, index } = await addItemsJob({ index: path.join(root, 'idx-f32'), items: fresh, embeddings: { kind: 'file', file }, out });
    expect(added).toBe(5);
    expect(index.size).toBe(n + 5);
    await expect(addItemsJob({ index: path.join(root, 'idx-f32'), items: fresh, out: path.join(root, 'grown2') })).rejects.toThrow(/built from precomputed embeddings; pass the new items' embeddings/);
  });

  it('runs from the command line', async () => {
    const itemsFile = path.join(root, 'items.jsonl');
    writeFileSync(itemsFile, items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    const out = path.join(root, 'cli');
    const r = await run(['index', 'build', '--items', itemsFile, '--embeddings', f32, '--scheme', 'rqkmeans:3x8', '--seed', '4', '--train-sample', '250', '--chunk-rows', '64', '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect((await loadIndex(out)).codes).toEqual((await loadIndex(path.join(root, 'idx-f32'))).codes);
    const bad = await run(['index', 'build', '--items', itemsFile, '--embeddings', f32, '--scheme', 'rqkmeans:3x8', '--train-sample', '0', '--out', path.join(root, 'cli-bad')]);
    expect(bad.code).toBe(2);
  });

  it('refuses a file of the wrong length, a non-finite row (named) and schemes other than rqkmeans', async () => {
    await expect(buildIndexJob({ items: items.slice(1), scheme: 'rqkmeans:3x8', embeddings: { kind: 'file', file: f32 }, trainSample: 100, out: path.join(root, 'bad1') })).rejects.toThrow(InputError);
    const poisoned = Float32Array.from(x);
    poisoned[417 * d + 3] = Number.NaN;
    const pf = path.join(root, 'nan.f32');
    writeFileSync(pf, encodeF32(poisoned, n, d));
    const err = await buildIndexJob({ items, scheme: 'rqkmeans:3x8', embeddings: { kind: 'file', file: pf }, trainSample: 100, chunkRows: 50, out: path.join(root, 'bad2') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FormatError);
    expect((err as Error).message).toMatch(/non-finite value in row 417/);
    await expect(buildIndexJob({ items, scheme: 'random:3x8', trainSample: 100, out: path.join(root, 'bad3') })).rejects.toThrow(/for scheme rqkmeans, not random/);
    await expect(buildIndexJob({ items, scheme: 'rqvae:2x8', embeddings: { kind: 'file', file: f32 }, trainSample: 100, out: path.join(root, 'bad4') })).rejects.toThrow(/for scheme rqkmeans, not rqvae/);
  });
});
