import { describe, expect, it } from 'vitest';
import { resolveArtifact, resealArtifact } from '../../../quantizer/core/index.js';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { synthesize } from '../../../src/data/synth.js';
import { prepare } from '../../../src/data/split.js';
import { datasetFingerprint, loadDataset, writeDataset } from '../../../src/data/store.js';
import { FormatError, NotFoundError } from '../../../src/errors.js';
import { tmp } from '../../helpers.js';

async function make(dir: string) {
  const raw = synthesize({ items: 120, users: 200, seed: 9 });
  const prepared = prepare(raw);
  await writeDataset(dir, prepared, { malformed: raw.malformed });
  return prepared;
}

describe('dataset directory', () => {
  it('round-trips', async () => {
    const d = path.join(tmp(), 'ds');
    const p = await make(d);
    const ds = await loadDataset(d);
    expect(ds.items).toEqual(p.items);
    expect(ds.test).toEqual(p.split.test);
    expect(ds.valid).toEqual(p.split.valid);
    expect(ds.train).toEqual(p.split.train.map((s) => ({ user: s.user, items: s.items })));
    expect(ds.meta.counts).toEqual(p.counts);
    const lines = readFileSync(path.join(d, 'interactions.tsv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('user\titem\ttimestamp');
    expect(lines.length - 1).toBe(p.counts.interactions);
  });

  it('fingerprint: equal for the same data in two places, different when one item text or one sequence differs', async () => {
    const [da, db] = [path.join(tmp(), 'a'), path.join(tmp(), 'b')];
    await make(da);
    await make(db);
    const [a, b] = [await loadDataset(da), await loadDataset(db)];
    expect(a.dir).not.toBe(b.dir);
    expect(datasetFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(datasetFingerprint(b)).toBe(datasetFingerprint(a));
    const text = { ...a, items: a.items.map((it, i) => (i === 7 ? { ...it, text: `${it.text} &amp;` } : it)) };
    expect(datasetFingerprint(text)).not.toBe(datasetFingerprint(a));
    const seq = { ...a, train: a.train.map((u, i) => (i === 3 ? { ...u, items: [...u.items].reverse() } : u)) };
    expect(datasetFingerprint(seq)).not.toBe(datasetFingerprint(a));
    const test = { ...a, test: a.test.slice(1) };
    expect(datasetFingerprint(test)).not.toBe(datasetFingerprint(a));
  });

  it('refuses missing, foreign, wrong-version and truncated directories', async () => {
    const root = tmp();
    await expect(loadDataset(path.join(root, 'nope'))).rejects.toThrow(NotFoundError);
    const d = path.join(root, 'ds');
    await make(d);
    const metaFile = path.join(d, 'dataset.json');
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    writeFileSync(metaFile, JSON.stringify({ ...meta, formatVersion: 99 }));
    await expect(loadDataset(d)).rejects.toThrow(/MANIFEST|truncated or damaged|checksum mismatch/); // edited: refused by the manifest
    await resealArtifact(d); // re-checksummed: refused by the dataset reader
    await expect(loadDataset(d)).rejects.toThrow(/version 99 is not supported/);
    // datasets written before the field was renamed say `version`: read alike, checked alike
    const { formatVersion, ...older } = meta;
    expect(formatVersion).toBe(1);
    writeFileSync(metaFile, JSON.stringify({ ...older, version: 1 }));
    await resealArtifact(d);
    expect((await loadDataset(d)).meta.formatVersion).toBe(1);
    writeFileSync(metaFile, JSON.stringify({ ...older, version: 99 }));
    await resealArtifact(d);
    await expect(loadDataset(d)).rejects.toThrow(/version 99 is not supported/);
    writeFileSync(metaFile, JSON.stringify({ ...meta, version: 1 }));
    await resealArtifact(d);
    await expect(loadDataset(d)).rejects.toThrow(/both formatVersion and version/);
    writeFileSync(metaFile, JSON.stringify({ ...meta, format: 'other' }));
    await resealArtifact(d);
    await expect(loadDataset(d)).rejects.toThrow(FormatError);
    writeFileSync(metaFile, JSON.stringify(meta));
    const test = path.join(d, 'test.jsonl');
    const lines = readFileSync(test, 'utf8').split('\n');
    writeFileSync(test, lines.slice(0, 10).join('\n'));
    await resealArtifact(d);
    await expect(loadDataset(d)).rejects.toThrow(/counts .* do not match/);
  });

  it('replaces an existing dataset atomically and leaves no temp files', async () => {
    const root = tmp();
    const d = path.join(root, 'ds');
    await make(d);
    await make(d);
    expect(readdirSync(root)).toEqual(['ds']);
    // the replacement is a new generation behind an atomically switched pointer
    expect(readdirSync(d).sort()).toEqual(['CURRENT', 'g-000001']);
    expect(existsSync(path.join(await resolveArtifact(d), 'dataset.json'))).toBe(true);
    expect((await loadDataset(d)).dir).toBe(d);
  });
});
