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
 * the new contents, never a mix, and DIR never disappears; {@link readArtifact} re-reads once
 * if the generation it was reading was removed under it.
 *
 * A writer refuses to replace a directory that holds another kind of artifact or anything
 * else that is not empty (E_EXISTS) unless forced. With a `kind`, the published directory gets a
 * checksummed MANIFEST.json (quantizer/manifest.ts) listing every file.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { QuantizerError } from '../errors.js';
import { MANIFEST_FILE, writeManifest } from './manifest.js';

/** Name of the pointer file of a directory with generations. */
export const POINTER_FILE = 'CURRENT';
const POINTER_FORMAT = 'semrec-generations';
const GEN_RE = /^g-(\d{6,})$/;

/** What each kind of semrec artifact has at its top level (first match wins). */
const MARKERS: readonly [file: string, kind: string][] = [
  ['index.json', 'semrec-index'],
  ['semrec.json', 'hf-model'],
  ['dataset.json', 'semrec-dataset'],
  ['config.json', 'semrec-model'],
];

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
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, POINTER_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  let p: Pointer;
  try {
    p = JSON.parse(text) as Pointer;
  } catch {
    throw new QuantizerError('E_FORMAT', `${path.join(dir, POINTER_FILE)}: not valid JSON`);
  }
  if (p?.format !== POINTER_FORMAT || typeof p.generation !== 'string' || !GEN_RE.test(p.generation)) {
    throw new QuantizerError('E_FORMAT', `${path.join(dir, POINTER_FILE)}: not a ${POINTER_FORMAT} pointer`);
  }
  return p;
}

/** The directory that holds an artifact's files now: DIR's current generation, or DIR itself. */
export async function resolveArtifact(dir: string): Promise<string> {
  const p = await readPointer(dir);
  return p ? path.join(dir, p.generation) : dir;
}

/**
 * Read an artifact with `read(resolvedDir)`. If that fails because the directory was replaced
 * meanwhile (its generation changed), read the new generation once more.
 */
export async function readArtifact<T>(dir: string, read: (resolved: string) => Promise<T>): Promise<T> {
  const first = await resolveArtifact(dir);
  try {
    return await read(first);
  } catch (err) {
    const again = await resolveArtifact(dir).catch(() => first);
    if (again === first) throw err;
    return read(again);
  }
}

/** The kind of artifact in `dir`: undefined if absent or empty, `other` if it holds anything else. */
export async function artifactKind(dir: string): Promise<string | undefined> {
  let st;
  try {
    st = await fs.stat(dir);
  } catch {
    return undefined;
  }
  if (!st.isDirectory()) return 'other';
  const p = await readPointer(dir).catch(() => undefined);
  if (p?.kind) return p.kind;
  const at = p ? path.join(dir, p.generation) : dir;
  const files = new Set(await fs.readdir(at).catch(() => [] as string[]));
  if (!p && files.size === 0) return undefined;
  if (files.has(MANIFEST_FILE)) {
    const k = await fs
      .readFile(path.join(at, MANIFEST_FILE), 'utf8')
      .then((t) => (JSON.parse(t) as { kind?: unknown }).kind)
      .catch(() => undefined);
    if (typeof k === 'string') return k;
  }
  for (const [file, kind] of MARKERS) if (files.has(file)) return kind;
  return 'other';
}

function rand(): string {
  return Math.random().toString(36).slice(2, 8);
}

/**
 * Throw {@link ArtifactExistsError} unless `dir` may be written as `opts.kind`: it is absent, empty,
 * or an artifact of that kind (or `opts.force`). Jobs call it before long work, so that a refusal
 * comes first, not after an hour of training. Returns the kind found.
 */
export async function checkWritable(dir: string, opts: WriteArtifactOptions = {}): Promise<string | undefined> {
  const existing = await artifactKind(dir);
  if (existing !== undefined && !opts.force) {
    if (existing === 'other') throw new ArtifactExistsError(`${dir} exists and is not ${opts.kind ? `a ${opts.kind} directory` : 'empty'}; refusing to replace it (force replaces it; or choose another output path)`);
    if (opts.kind && existing !== opts.kind) throw new ArtifactExistsError(`${dir} holds a ${existing}; refusing to replace it with a ${opts.kind} (force replaces it; or choose another output path)`);
  }
  return existing;
}

/** Options of {@link writeArtifact}. */
export interface WriteArtifactOptions {
  /** The kind being written (e.g. `semrec-index`): an existing directory of another kind is refused. */
  kind?: string;
  /** Replace whatever is there (another kind of artifact, an unrelated directory). */
  force?: boolean;
}

/**
 * Write an artifact directory: `fill(tmp)` writes the contents into a fresh temporary directory,
 * `verify(tmp)` may throw to reject them; only then are they published (see the module doc).
 * On failure nothing changes and the temporary directory is removed.
 */
export async function writeArtifact(dir: string, fill: (tmpDir: string) => Promise<void>, verify?: (tmpDir: string) => Promise<void>, opts: WriteArtifactOptions = {}): Promise<void> {
  const target = path.resolve(dir);
  const existing = await checkWritable(target, opts);
  if (existing === undefined) {
    await fs.mkdir(path.dirname(target), { recursive: true });
    await sweepSiblings(target);
    const tmp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${rand()}`);
    await fs.mkdir(tmp);
    await staged(tmp, fill, verify, opts.kind);
    try {
      await fs.rename(tmp, target); // onto a missing or empty directory: atomic
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      await fs.rm(tmp, { recursive: true, force: true });
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      // another writer published first: fall through and replace it as a new generation
      return writeArtifact(dir, fill, verify, opts);
    }
  }
  if (existing === 'other' && !(await fs.stat(target)).isDirectory()) {
    await fs.rm(target, { force: true }); // forced over a file
    return writeArtifact(dir, fill, verify, opts);
  }
  const tmp = path.join(target, `.tmp-${process.pid}-${rand()}`);
  await fs.mkdir(tmp);
  await staged(tmp, fill, verify, opts.kind);
  const before = await readPointer(target).catch(() => undefined);
  let n = 1 + Math.max(0, ...(await fs.readdir(target)).map((f) => Number(GEN_RE.exec(f)?.[1] ?? 0)));
  let gen: string;
  for (;;) {
    gen = `g-${String(n).padStart(6, '0')}`;
    try {
      await fs.rename(tmp, path.join(target, gen));
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        await fs.rm(tmp, { recursive: true, force: true });
        throw err;
      }
      n++;
    }
  }
  const pointer: Pointer = { format: POINTER_FORMAT, generation: gen, ...(opts.kind ? { kind: opts.kind } : {}) };
  const ptmp = path.join(target, `.${POINTER_FILE}.tmp-${process.pid}-${rand()}`);
  await fs.writeFile(ptmp, JSON.stringify(pointer) + '\n');
  await fs.rename(ptmp, path.join(target, POINTER_FILE));
  // keep the pointer, the new generation and the one before; drop the rest (older generations,
  // the plain layout's files); leave other writers' temporary directories alone
  const keep = new Set([POINTER_FILE, gen, ...(before ? [before.generation] : [])]);
  for (const f of await fs.readdir(target)) {
    if (keep.has(f) || (f.startsWith('.tmp-') && !isStale(f)) || f.startsWith(`.${POINTER_FILE}.tmp-`)) continue;
    await fs.rm(path.join(target, f), { recursive: true, force: true });
  }
}

/** Remove temporary siblings `.NAME.tmp-<pid>-…` of `target` left by writer processes that are gone. */
async function sweepSiblings(target: string): Promise<void> {
  const prefix = `.${path.basename(target)}.tmp-`;
  for (const f of await fs.readdir(path.dirname(target)).catch(() => [] as string[])) {
    if (f.startsWith(prefix) && isStale(f.slice(prefix.length - 5))) await fs.rm(path.join(path.dirname(target), f), { recursive: true, force: true });
  }
}

/** A temporary directory (`.tmp-<pid>-…`) left by a writer process that is gone. */
function isStale(name: string): boolean {
  const pid = Number(/^\.tmp-(\d+)-/.exec(name)?.[1]);
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function staged(tmp: string, fill: (d: string) => Promise<void>, verify: ((d: string) => Promise<void>) | undefined, kind: string | undefined): Promise<void> {
  try {
    await fill(tmp);
    if (kind) await writeManifest(tmp, kind);
    if (verify) await verify(tmp);
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
