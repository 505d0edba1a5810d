/**
 * A writer's lock on an output path: `.NAME.lock` beside `NAME`, created exclusively (`O_EXCL`)
 * and holding the owner's pid. Writers of one artifact directory publish one at a time, so two
 * writers never number the same generation, and none prunes a generation another just pointed
 * `CURRENT` at. A lock whose owner process is gone is reclaimed; a lock held longer than the wait
 * gives E_LOCKED. Only the short publishing step holds it (renames, pointer switch, pruning): the
 * long work (training, k-means) runs before, into a private temporary directory.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { QuantizerError } from '../errors.js';
import { fsError } from './safe-fs.js';

/** How long a writer waits for another writer's lock by default (ms). */
export const LOCK_WAIT_MS = 120_000;
/** A lock file still empty after this long belongs to a writer that died while creating it. */
const EMPTY_LOCK_STALE_MS = 10_000;

/** Whether a process with this pid is running (on this machine). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** The lock file of an output path. */
export function lockFileOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.lock`);
}

async function readLock(file: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
    return { text, mtimeMs: st.mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fsError(err, file, 'lock file');
  }
}

function stale(lock: { text: string; mtimeMs: number }): boolean {
  const pid = Number(lock.text.split(' ')[0]);
  if (lock.text === '') return Date.now() - lock.mtimeMs > EMPTY_LOCK_STALE_MS;
  return !pidAlive(pid);
}

/**
 * Run `fn` holding the writer's lock of `target` (waiting up to `waitMs` for another writer,
 * reclaiming the lock of a dead one). The lock is released when `fn` settles.
 */
export async function withWriteLock<T>(target: string, fn: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  const file = lockFileOf(target);
  const token = `${process.pid} ${Math.random().toString(36).slice(2, 10)}\n`;
  const until = Date.now() + waitMs;
  let pause = 5;
  for (;;) {
    try {
      const fh = await fs.open(file, 'wx');
      try {
        await fh.writeFile(token);
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(err, file, 'lock file');
    }
    const held = await readLock(file);
    if (held && stale(held)) {
      // take the dead writer's lock away; if what was moved is not what was judged stale (another
      // writer reclaimed it and locked in between), put it back and wait
      const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
      try {
        await fs.rename(file, aside);
        const moved = await fs.readFile(aside, 'utf8').catch(() => '');
        if (moved !== held.text) await fs.link(aside, file).catch(() => undefined);
        await fs.rm(aside, { force: true });
      } catch {
        /* somebody else moved it first */
      }
      continue;
    }
    if (Date.now() > until) {
      throw new QuantizerError('E_LOCKED', `${target}: another writer (pid ${held?.text.split(' ')[0] || '?'}) holds ${path.basename(file)} for more than ${Math.round(waitMs / 1000)} s; try again when it has finished`);
    }
    await new Promise((r) => setTimeout(r, pause + Math.random() * pause));
    pause = Math.min(pause * 2, 200);
  }
  try {
    return await fn();
  } finally {
    const now = await readLock(file).catch(() => undefined);
    if (now?.text === token) await fs.rm(file, { force: true }).catch(() => undefined);
  }
}
