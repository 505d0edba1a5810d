/**
 * Directory artifacts (an index, a model, a dataset) that readers can use while a writer
 * replaces them.
 *
 * A directory written for the first time is a plain directory, renamed into place in one step.
 * Replacing an existing one never touches the files readers may be reading: the new contents go
 * into a fresh generation inside it, `DIR/g-000002/`, and only then does the pointer file
 * `DIR/CURRENT` switch to it (a rename: atomic). The generation before stays for readers still
 * on it; older ones (and the plain layout's files) are removed. Readers resolve DIR once
 * ({@link resolveArtifact}) and read every file from that one generation, so they see the old or
 * the new contents, never a mix, and DIR never disappears; {@link readArtifact} re-reads if the
 * generation it was reading was removed under it.
 *
 * Writers own only what they wrote:
 * - what a directory holds is judged from its verified MANIFEST.json (self-checksummed, listed
 *   sizes), never from a file that merely claims a kind (a hand-edited `CURRENT`);
 * - a directory holding anything semrec did not write (or a damaged artifact) is never replaced,
 *   `force` or not; `force` lets a verified artifact of *another* kind be replaced, but never the
 *   current working directory, one of its parents, or a directory holding one of the job's inputs;
 * - pruning removes only generations, the plain layout's manifest-listed files and temporaries of
 *   writers that are gone — an unlisted file someone put in the directory stays;
 * - writers of one directory publish one at a time (lock.ts), so readers never find `CURRENT`
 *   naming a generation another writer pruned.
 *
 * With a `kind`, the published directory gets a checksummed MANIFEST.json (manifest.ts).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FormatError, NotFoundError, QuantizerError } from '../errors.js';
import { MANIFEST_FILE, openArtifact, writeManifest } from './manifest.js';
import { pidAlive, withWriteLock } from './lock.js';
import { asFormatError, fsError, lstatOrUndefined, readRegularText } from './safe-fs.js';

/** Name of the pointer file of a directory with generations. */
export const POINTER_FILE = 'CURRENT';
const POINTER_FORMAT = 'semrec-generations';
const GEN_RE = /^g-(\d{6,})$/;

/** Largest pointer file read (bytes). */
const MAX_POINTER_BYTES = 4096;

interface Pointer {
  format: typeof POINTER_FORMAT;
  generation: string;
  kind?: string;
}

/** A refusal to replace a directory (holds something else, or another kind of artifact). */
export class ArtifactExistsError extends QuantizerError {
  constructor(message: string) {
    super('E_EXISTS', message, { param: 'force' });
  }
}

async function readPointer(dir: string): Promise<Pointer | undefined> {
  const file = path.join(dir, POINTER_FILE);
  let text: string;
  try {
    text = await readRegularText(file, { follow: false, maxBytes: MAX_POINTER_BYTES, what: 'generation pointer' });
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw asFormatError(err, file);
  }
  let p: Pointer;
  try {
    p = JSON.parse(text) as Pointer;
  } catch {
    throw new FormatError(file, 'not valid JSON');
  }
  if (p?.format !== POINTER_FORMAT || typeof p.generation !== 'string' || !GEN_RE.test(p.generation)) {
    throw new FormatError(file, `not a ${POINTER_FORMAT} pointer`);
  }
  return p;
}

/** The directory that holds an artifact's files now: DIR's current generation, or DIR itself. */
export async function resolveArtifact(dir: string): Promise<string> {
  const p = await readPointer(dir);
  return p ? path.join(dir, p.generation) : dir;
}

/** How often {@link readArtifact} follows a generation that changed under it. */
const READ_RETRIES = 8;

/**
 * Read an artifact with `read(resolvedDir)`. If that fails because the directory was replaced
 * meanwhile (its generation changed), read the new generation (up to a few times: writers may
 * publish several generations while a slow reader reads one). A file that vanished under the
 * reader without a new generation is a typed error, never a raw ENOENT.
 */
export async function readArtifact<T>(dir: string, read: (resolved: string) => Promise<T>): Promise<T> {
  let at = await resolveArtifact(dir);
  for (let attempt = 0; ; attempt++) {
    try {
      return await read(at);
    } catch (err) {
      const again = await resolveArtifact(dir).catch(() => at);
      if (again === at || attempt >= READ_RETRIES) throw fsError(err, (err as NodeJS.ErrnoException).path ?? at, 'artifact file');
      at = again;
    }
  }
}

/**
 * The kind of artifact in `dir`, as its verified MANIFEST.json says (the manifest's own checksum
 * and the listed files' sizes; for a directory with generations, the current generation's):
 * undefined if absent or empty, `other` if it holds anything else (unrelated files, a file, a
 * damaged artifact, a pointer without a verified generation behind it).
 */
export async function artifactKind(dir: string): Promise<string | undefined> {
  const st = await lstatOrUndefined(dir);
  if (!st) return undefined;
  if (!st.isDirectory()) return 'other';
  const p = await readPointer(dir).catch(() => null);
  if (p === null) return 'other'; // a CURRENT that is not a pointer
  if (!p && (await fs.readdir(dir).catch((err: unknown) => Promise.reject(fsError(err, dir, 'directory')))).length === 0) return undefined;
  const art = await openArtifact(p ? path.join(dir, p.generation) : dir, { optional: true }).catch(() => undefined);
  return art?.kind ?? 'other';
}

/** Whether `target` is `inside` or one of its parents. */
function isAncestorOrSelf(target: string, inside: string): boolean {
  const rel = path.relative(target, path.resolve(inside));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function rand(): string {
  return Math.random().toString(36).slice(2, 8);
}

/**
 * Throw {@link ArtifactExistsError} unless `dir` may be written as `opts.kind`: it is absent, empty,
 * or a verified artifact of that kind — or, with `opts.force`, a verified semrec artifact of
 * another kind that is neither the working directory (or a parent of it) nor a directory holding
 * one of `opts.inputs`. Anything semrec did not write is never replaced. Jobs call it before long
 * work, so that a refusal comes first, not after an hour of training. Returns the kind found.
 */
export async function checkWritable(dir: string, opts: WriteArtifactOptions = {}): Promise<string | undefined> {
  const existing = await artifactKind(dir);
  if (existing === undefined || (opts.kind !== undefined && existing === opts.kind)) return existing;
  const st = await lstatOrUndefined(dir);
  if (existing === 'other') {
    const what = st && !st.isDirectory() ? 'is not a directory' : 'holds files semrec did not write (or a damaged artifact)';
    throw new ArtifactExistsError(`${dir} ${what}; refusing to replace it, with or without force — choose another output path, or remove it yourself`);
  }
  const wanted = opts.kind ? `a ${opts.kind}` : 'something else';
  if (!opts.force) throw new ArtifactExistsError(`${dir} holds a ${existing}; refusing to replace it with ${wanted} (force replaces it; or choose another output path)`);
  if (isAncestorOrSelf(path.resolve(dir), process.cwd())) throw new ArtifactExistsError(`${dir} is the working directory or a parent of it; force never replaces it — choose another output path`);
  const input = (opts.inputs ?? []).find((f) => isAncestorOrSelf(path.resolve(dir), f));
  if (input !== undefined) throw new ArtifactExistsError(`${dir} holds an input of this job (${input}); force never replaces it — choose another output path`);
  return existing;
}

/** Options of {@link writeArtifact}. */
export interface WriteArtifactOptions {
  /** The kind being written (e.g. `semrec-index`): an existing directory of another kind is refused. */
  kind?: string;
  /** Replace a verified semrec artifact of another kind (never unrelated files; see {@link checkWritable}). */
  force?: boolean;
  /** The job's input paths: a forced replacement never removes a directory holding one. */
  inputs?: readonly string[];
  /** How long to wait for another writer of the same directory (ms; default {@link LOCK_WAIT_MS}). */
  lockWaitMs?: number;
}

/**
 * Write an artifact directory: `fill(tmp)` writes the contents into a fresh temporary directory,
 * `verify(tmp)` may throw to reject them; only then are they published (see the module doc),
 * holding the directory's writer lock. On failure nothing changes and the temporary directory is
 * removed.
 */
export async function writeArtifact(dir: string, fill: (tmpDir: string) => Promise<void>, verify?: (tmpDir: string) => Promise<void>, opts: WriteArtifactOptions = {}): Promise<void> {
  const target = path.resolve(dir);
  await checkWritable(target, opts); // a refusal before the work
  const parent = path.dirname(target);
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (err) {
    throw fsError(err, parent, 'directory');
  }
  const tmp = path.join(parent, `.${path.basename(target)}.tmp-${process.pid}-${rand()}`);
  try {
    await fs.mkdir(tmp);
  } catch (err) {
    throw fsError(err, tmp, 'directory');
  }
  try {
    await staged(tmp, fill, verify, opts.kind);
    await withWriteLock(
      target,
      async () => {
        await sweepSiblings(target);
        const existing = await checkWritable(target, opts); // again: another writer may have published meanwhile
        if (existing === undefined) {
          try {
            await fs.rename(tmp, target); // onto a missing or empty directory: atomic
            return;
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fsError(err, target, 'directory');
          }
        }
        await publishGeneration(target, tmp, opts.kind);
      },
      opts.lockWaitMs,
    );
  } finally {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** Move the finished `tmp` in as the next generation of `target`, switch `CURRENT`, prune (under the lock). */
async function publishGeneration(target: string, tmp: string, kind: string | undefined): Promise<void> {
  const before = await readPointer(target).catch(() => undefined);
  // the plain layout's own files (listed in its verified manifest) are ours to remove afterwards
  const plain = before ? undefined : await openArtifact(target, { optional: true }).catch(() => undefined);
  const entries = await fs.readdir(target);
  let n = 1 + Math.max(0, ...entries.map((f) => Number(GEN_RE.exec(f)?.[1] ?? 0)));
  let gen: string;
  for (;;) {
    gen = `g-${String(n).padStart(6, '0')}`;
    try {
      await fs.rename(tmp, path.join(target, gen));
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw fsError(err, path.join(target, gen), 'directory');
      n++;
    }
  }
  const pointer: Pointer = { format: POINTER_FORMAT, generation: gen, ...(kind ? { kind } : {}) };
  const ptmp = path.join(target, `.${POINTER_FILE}.tmp-${process.pid}-${rand()}`);
  try {
    await fs.writeFile(ptmp, JSON.stringify(pointer) + '\n');
    await fs.rename(ptmp, path.join(target, POINTER_FILE));
  } catch (err) {
    await fs.rm(ptmp, { force: true }).catch(() => undefined);
    throw fsError(err, path.join(target, POINTER_FILE), 'generation pointer');
  }
  // keep the pointer, the new generation and the one before; drop older generations, the plain
  // layout's listed files and dead writers' temporaries; leave everything else alone
  const keep = new Set([POINTER_FILE, gen, ...(before ? [before.generation] : [])]);
  const ours = new Set(plain ? [...plain.names, MANIFEST_FILE] : []);
  for (const f of await fs.readdir(target)) {
    if (keep.has(f)) continue;
    const drop = GEN_RE.test(f) || ours.has(f) || ((f.startsWith('.tmp-') || f.startsWith(`.${POINTER_FILE}.tmp-`)) && isStale(f));
    if (drop) await fs.rm(path.join(target, f), { recursive: true, force: true });
  }
}

/** Remove temporary siblings `.NAME.tmp-<pid>-…` of `target` left by writer processes that are gone. */
async function sweepSiblings(target: string): Promise<void> {
  const prefix = `.${path.basename(target)}.tmp-`;
  for (const f of await fs.readdir(path.dirname(target)).catch(() => [] as string[])) {
    if (f.startsWith(prefix) && isStale(f)) await fs.rm(path.join(path.dirname(target), f), { recursive: true, force: true });
  }
}

/** A temporary (`….tmp-<pid>-…`) left by a writer process that is gone. */
function isStale(name: string): boolean {
  return !pidAlive(Number(/\.tmp-(\d+)-/.exec(name)?.[1]));
}

async function staged(tmp: string, fill: (d: string) => Promise<void>, verify: ((d: string) => Promise<void>) | undefined, kind: string | undefined): Promise<void> {
  await fill(tmp);
  if (kind) await writeManifest(tmp, kind);
  if (verify) await verify(tmp);
}
