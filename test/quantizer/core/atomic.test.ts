import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeArtifact, writeFileAtomic, resolveArtifact } from '../../../quantizer/core/index.js';
import { tmp } from '../../helpers.js';

describe('atomic writes', () => {
  it('a failed fill or verify leaves the old directory untouched and no temp dirs', async () => {
    const root = tmp();
    const dir = path.join(root, 'idx');
    await writeArtifact(dir, async (t) => writeFileSync(path.join(t, 'a.txt'), 'old'), undefined, { kind: 'test-a' });
    await expect(
      writeArtifact(dir, async (t) => {
        writeFileSync(path.join(t, 'a.txt'), 'half');
        throw new Error('interrupted');
      }, undefined, { kind: 'test-a' }),
    ).rejects.toThrow('interrupted');
    await expect(
      writeArtifact(
        dir,
        async (t) => writeFileSync(path.join(t, 'a.txt'), 'new'),
        async () => {
          throw new Error('verify failed');
        },
        { kind: 'test-a' },
      ),
    ).rejects.toThrow('verify failed');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['idx']);
    expect(readdirSync(dir).sort()).toEqual(['MANIFEST.json', 'a.txt']);
    // another kind of artifact is replaced only when forced; its own files go, nothing else
    writeFileSync(path.join(dir, 'notes.txt'), 'not listed: not ours');
    await expect(writeArtifact(dir, async (t) => writeFileSync(path.join(t, 'b.txt'), 'new'), undefined, { kind: 'test-b' })).rejects.toThrow(/refusing to replace/);
    await writeArtifact(dir, async (t) => writeFileSync(path.join(t, 'b.txt'), 'new'), undefined, { kind: 'test-b', force: true });
    expect(readdirSync(dir).sort()).toEqual(['CURRENT', 'g-000001', 'notes.txt']);
    expect(readFileSync(path.join(await resolveArtifact(dir), 'b.txt'), 'utf8')).toBe('new');
    expect(readdirSync(root)).toEqual(['idx']);
    // a directory semrec did not write is never replaced, forced or not
    const mine = path.join(root, 'mine');
    mkdirSync(mine);
    writeFileSync(path.join(mine, 'a.txt'), 'mine');
    await expect(writeArtifact(mine, async (t) => writeFileSync(path.join(t, 'b.txt'), 'new'), undefined, { kind: 'test-b', force: true })).rejects.toThrow(/did not write/);
    expect(readdirSync(mine)).toEqual(['a.txt']);
  });

  it('a first write sweeps temporary siblings left by dead writers, not by live ones', async () => {
    const root = tmp();
    mkdirSync(path.join(root, '.idx.tmp-999999-dead'));
    mkdirSync(path.join(root, `.idx.tmp-${process.pid}-live`));
    await writeArtifact(path.join(root, 'idx'), async (t) => writeFileSync(path.join(t, 'a.txt'), 'x'));
    expect(readdirSync(root).sort()).toEqual([`.idx.tmp-${process.pid}-live`, 'idx']);
  });

  it('writes files via a temp sibling', async () => {
    const root = tmp();
    const f = path.join(root, 'sub', 'x.json');
    await writeFileAtomic(f, '{"a":1}');
    await writeFileAtomic(f, '{"a":2}');
    expect(readFileSync(f, 'utf8')).toBe('{"a":2}');
    expect(readdirSync(path.dirname(f))).toEqual(['x.json']);
  });
});
