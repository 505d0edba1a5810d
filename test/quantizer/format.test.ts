import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildIndex, loadIndex, readIndexFile, saveIndex, IndexFormatError } from '../../quantizer/index.js';
import { resealArtifact, resolveArtifact, Rng } from '../../quantizer/core/index.js';
import { tmp } from '../helpers.js';

function sample(n = 120, seed = 1) {
  const r = new Rng(seed);
  const d = 6;
  const x = Float32Array.from({ length: n * d }, () => r.normal());
  const ids = Array.from({ length: n }, (_, i) => `item-${seed}-${i}`);
  return buildIndex({ ids, embeddings: x, dim: d }, { scheme: 'rqkmeans:2x8', seed });
}

describe('index directory format', () => {
  it('round-trips codes, ids, codebooks and extra files', async () => {
    const dir = path.join(tmp(), 'idx');
    const idx = sample();
    const m = await saveIndex(idx, dir, { extraFiles: { 'encoder.json': Buffer.from('{"kind":"file","dim":6}') } });
    expect(readdirSync(dir).sort()).toEqual(['MANIFEST.json', 'codebooks.f32', 'codes.u16', 'encoder.json', 'index.json', 'items.txt']);
    const back = await loadIndex(dir);
    expect(back.hash()).toBe(idx.hash());
    expect(back.hash()).toBe(m.hash);
    expect(back.itemIds).toEqual(idx.itemIds);
    expect(back.codebooks.map((c) => Array.from(c))).toEqual(idx.codebooks.map((c) => Array.from(c)));
    expect(back.info).toEqual(idx.info);
    expect((await readIndexFile(dir, 'encoder.json'))!.toString()).toContain('"file"');
    // the loaded index can still add items
    const more = back.assign({ ids: ['x'], embeddings: new Float32Array(6).fill(0.1), dim: 6 });
    expect(more.codeOf('item-1-0')).toEqual(idx.codeOf('item-1-0'));
  });

  it('refuses a flipped byte, a truncated file, a wrong version and a foreign directory', async () => {
    const root = tmp();
    const dir = path.join(root, 'idx');
    await saveIndex(sample(), dir);
    const codes = path.join(dir, 'codes.u16');
    const orig = readFileSync(codes);

    const flipped = Buffer.from(orig);
    flipped[5] ^= 0x01;
    writeFileSync(codes, flipped);
    await expect(loadIndex(dir)).rejects.toThrow(/checksum mismatch/);

    writeFileSync(codes, orig);
    truncateSync(codes, orig.length - 2);
    await expect(loadIndex(dir)).rejects.toThrow(/truncated/);
    writeFileSync(codes, orig);
    await expect(loadIndex(dir)).resolves.toBeTruthy();

    // index.json edited: refused by MANIFEST.json's checksums; re-checksummed (resealed), by the
    // index reader's own checks
    const manifest = path.join(dir, 'index.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...m, formatVersion: 2 }));
    await expect(loadIndex(dir)).rejects.toThrow(/size .* expected|checksum mismatch/);
    await resealArtifact(dir);
    await expect(loadIndex(dir)).rejects.toThrow(/version 2 is not supported/);
    writeFileSync(manifest, JSON.stringify({ ...m, format: 'something-else' }));
    await resealArtifact(dir);
    await expect(loadIndex(dir)).rejects.toThrow(IndexFormatError);
    writeFileSync(manifest, '{"format": "semrec-ind');
    await resealArtifact(dir);
    await expect(loadIndex(dir)).rejects.toThrow(/not valid JSON/);

    await expect(loadIndex(root)).rejects.toThrow(/not a semrec-index directory/);
  });

  it('refuses an index whose codes collide even if checksums are consistent', async () => {
    const dir = path.join(tmp(), 'idx');
    await saveIndex(sample(), dir);
    const m = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'));
    const codes = readFileSync(path.join(dir, 'codes.u16'));
    codes.copy(codes, 0, m.levels * 2, m.levels * 4); // row 0 := row 1
    writeFileSync(path.join(dir, 'codes.u16'), codes);
    const { createHash } = await import('node:crypto');
    m.files['codes.u16'].sha256 = createHash('sha256').update(codes).digest('hex');
    writeFileSync(path.join(dir, 'index.json'), JSON.stringify(m));
    await resealArtifact(dir);
    await expect(loadIndex(dir)).rejects.toThrow(/share the tuple/);
  });

  it('an interrupted save never leaves a half-written index in place', async () => {
    const root = tmp();
    const dir = path.join(root, 'idx');
    const first = sample(200, 1);
    await saveIndex(first, dir);
    const plain = new Set(readdirSync(dir)); // the first write's plain layout
    // A child process rewrites the index in a loop with large indexes; kill it at random moments.
    const script = path.join(root, 'writer.mts');
    writeFileSync(
      script,
      `import { buildIndex, saveIndex } from ${JSON.stringify(path.resolve('quantizer/index.ts'))};
       import { Rng } from ${JSON.stringify(path.resolve('quantizer/core/index.ts'))};
       const r = new Rng(3); const n = 20000, d = 4;
       const x = Float32Array.from({ length: n * d }, () => r.normal());
       const idx = buildIndex({ ids: Array.from({ length: n }, (_, i) => 'big' + i), embeddings: x, dim: d }, { scheme: 'random:3x64' });
       process.stdout.write('ready\\n');
       for (;;) await saveIndex(idx, ${JSON.stringify(dir)});`,
    );
    for (const delay of [5, 40, 120]) {
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const started = await new Promise<boolean>((resolve) => {
        child.stdout!.once('data', () => resolve(true));
        child.once('exit', () => resolve(false));
      });
      expect(started).toBe(true);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const loaded = await loadIndex(dir); // either the old or the new index, complete and verified
      expect([200, 20000]).toContain(loaded.size);
    }
    // leftovers: the killed writers' temporary directories and lock (beside idx, swept and
    // reclaimed by the next writer), the pointer's temporary files and — when a writer died while
    // pruning — files of the first, plain layout (no reader looks at them once CURRENT exists);
    // never a half-written generation behind CURRENT
    for (const f of readdirSync(root)) expect(f === 'idx' || f === 'writer.mts' || /^\.idx\.(tmp-\d+-|lock$)/.test(f), f).toBe(true);
    for (const f of readdirSync(dir)) expect(f === 'CURRENT' || /^g-\d{6}$/.test(f) || f.startsWith('.CURRENT.tmp-') || plain.has(f), f).toBe(true);
    expect(existsSync(path.join(await resolveArtifact(dir), 'index.json'))).toBe(true);
    // the next write sweeps the dead writers' temporaries, reclaims their lock, removes the plain layout's files
    await saveIndex(first, dir);
    expect(readdirSync(root).sort()).toEqual(['idx', 'writer.mts']);
    expect(readdirSync(dir).filter((f) => f.startsWith('.') || plain.has(f))).toEqual([]);
    expect((await loadIndex(dir)).size).toBe(200);
  });
});
