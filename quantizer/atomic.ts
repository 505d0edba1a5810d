/**
 * Crash-safe writes: everything is written to a temporary sibling path, verified by the caller's
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

/**
 * Build a directory atomically. `fill(tmpDir)` writes the contents into a fresh temporary
 * directory; `verify(tmpDir)` (optional) may throw to reject it. Only after both succeed does the
 * temporary directory replace `dir`; an existing `dir` stays untouched until that moment and is
 * removed afterwards. On any failure the temporary directory is removed and `dir` is unchanged.
 */
export async function writeDirAtomic(
  dir: string,
  fill: (tmpDir: string) => Promise<void>,
  verify?: (tmpDir: string) => Promise<void>,
): Promise<void> {
  const target = path.resolve(dir);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const tmp = tmpSibling(target, 'tmp');
  await fs.mkdir(tmp);
  try {
    await fill(tmp);
    if (verify) await verify(tmp);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
  let old: string | undefined;
  try {
    await fs.rename(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'EISDIR' && code !== 'ENOTDIR') {
      await fs.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    // Target exists: move it aside, move the new one in, then drop the old one.
    old = tmpSibling(target, 'old');
    await fs.rename(target, old);
    try {
      await fs.rename(tmp, target);
    } catch (err2) {
      await fs.rename(old, target);
      await fs.rm(tmp, { recursive: true, force: true });
      throw err2;
    }
  }
  if (old) await fs.rm(old, { recursive: true, force: true });
}
