import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeDirAtomic, writeFileAtomic } from '../../quantizer/atomic.js';
import { tmp } from '../helpers.js';

describe('atomic writes', () => {
  it('a failed fill or verify leaves the old directory untouched and no temp dirs', async () => {
    const root = tmp();
    const dir = path.join(root, 'idx');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.txt'), 'old');
    await expect(
      writeDirAtomic(dir, async (t) => {
        writeFileSync(path.join(t, 'a.txt'), 'half');
        throw new Error('interrupted');
      }),
    ).rejects.toThrow('interrupted');
    await expect(
      writeDirAtomic(
        dir,
        async (t) => writeFileSync(path.join(t, 'a.txt'), 'new'),
        async () => {
          throw new Error('verify failed');
        },
      ),
    ).rejects.toThrow('verify failed');
    expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('old');
    expect(readdirSync(root)).toEqual(['idx']);
    await writeDirAtomic(dir, async (t) => writeFileSync(path.join(t, 'b.txt'), 'new'));
    expect(readdirSync(dir)).toEqual(['b.txt']);
    expect(readdirSync(root)).toEqual(['idx']);
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
