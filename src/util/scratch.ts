/**
 * Scratch directories for jobs that hand files to a child process (the trainer, the HF export).
 * The name carries the owner's pid (`semrec-train-<pid>-XXXXXX`), so a directory left behind by
 * a killed job is recognised and swept by the next job of the same kind: only directories whose
 * owner process no longer exists are removed.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** Remove `<tmpdir>/<prefix>-<pid>-*` directories whose process is gone; returns how many. */
export async function sweepScratch(prefix: string, dir = os.tmpdir()): Promise<number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const name of names) {
    const m = new RegExp(`^${prefix}-(\\d+)-`).exec(name);
    if (!m || alive(Number(m[1]))) continue;
    await fs.rm(path.join(dir, name), { recursive: true, force: true });
    swept++;
  }
  return swept;
}

/** Sweep stale directories of this kind, then make a fresh one owned by this process. */
export async function makeScratch(prefix: string, dir = os.tmpdir()): Promise<string> {
  await sweepScratch(prefix, dir);
  return fs.mkdtemp(path.join(dir, `${prefix}-${process.pid}-`));
}
