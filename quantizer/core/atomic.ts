/**
 * Crash-safe writes: everything is written to a temporary path, verified by the caller's
 * callback, and only then renamed into place. An interrupted write never leaves a half-written
 * file or directory where the old one was.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

function tmpSibling(target: string, tag: string): string {
  const rand = Math.random().toString(36).slice(2, 8);
  return path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${rand}`);
}

/** Write a file atomically (temp file in the same directory, fsync, rename). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = tmpSibling(path.resolve(file), 'tmp');
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
