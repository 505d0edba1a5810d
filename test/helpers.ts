/** Test helpers: temporary directories and fixture files (plain or gzipped). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  while (dirs.length) rmSync(dirs.pop()!, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'semrec-test-'));
  dirs.push(d);
  return d;
}

/** Write a fixture file (gzipped when the name ends in .gz) and return its path. */
export function fixture(dir: string, name: string, content: string | Buffer): string {
  const f = path.join(dir, name);
  const buf = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  writeFileSync(f, name.endsWith('.gz') ? gzipSync(buf) : buf);
  return f;
}
