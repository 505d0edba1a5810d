/**
 * MANIFEST.json: the checksummed list of an artifact directory's files, written for every index,
 * model and dataset directory (and Hugging Face export) when it is published, and the one reader
 * that verifies it.
 *
 *   {"format":"semrec-manifest","version":1,"kind":"semrec-index",
 *    "files":{"codes.u16":{"bytes":24202,"sha256":"…"}, …},
 *    "sha256":"<sha256 of the JSON text of everything above>"}
 *
 * The manifest checksums itself (a damaged or hand-edited manifest is refused), every file name is
 * a plain name inside the directory (no `/`, no leading `.`: nothing outside can be named), sizes
 * are compared with `lstat` before a byte is read (a huge or special file is never read), symlinks
 * are refused, and a file's sha256 is verified when it is read. Every file (the manifest included)
 * is opened once, without following symlinks and without blocking on a FIFO, checked through the
 * descriptor (regular file, the listed size) and read from it: the bytes hashed are the bytes
 * handed to the caller, and a file renamed over the path after the check is never read
 * (safe-fs.ts). Readers get the verified bytes through {@link Artifact.read} — nothing reopens a
 * listed file by path. Schema checks use zod.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { FormatError, InputError, NotFoundError } from '../errors.js';
import { asFormatError, fsError, lstatOrUndefined, openRegular, readExactly, readRegular } from './safe-fs.js';

/** File name of the manifest. */
export const MANIFEST_FILE = 'MANIFEST.json';
const FORMAT = 'semrec-manifest';
/** Largest manifest read (bytes): a manifest lists a handful of files. */
export const MAX_MANIFEST_BYTES = 64 << 10;

/** A file name an artifact may list: a plain name, no path separators, not hidden. */
export const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

const FileEntry = z.object({ bytes: z.number().int().min(0).max(2 ** 40), sha256: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
const Body = z
  .object({
    format: z.literal(FORMAT),
    version: z.literal(1),
    kind: z.string().min(1).max(64),
    files: z.record(z.string().regex(SAFE_NAME, 'not a plain file name inside the directory'), FileEntry),
  })
  .strict();
type ManifestBody = z.infer<typeof Body>;

/** A damaged, missing or foreign artifact: {@link FormatError}, the one `E_FORMAT` class (`path` names it). */
export const ArtifactFormatError = FormatError;
/** {@link FormatError}. */
export type ArtifactFormatError = FormatError;

/** Describe zod issues in one line. */
export function zodIssues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`).join('; ');
}

/**
 * Write MANIFEST.json for the plain files in `dir` (called on the finished temporary directory),
 * or only for the files named in `opts.only`.
 */
export async function writeManifest(dir: string, kind: string, opts: { only?: readonly string[] } = {}): Promise<void> {
  const files: ManifestBody['files'] = {};
  for (const e of (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name === MANIFEST_FILE || (opts.only && !opts.only.includes(e.name))) continue;
    if (!e.isFile()) throw new InputError(`${path.join(dir, e.name)}: artifact directories hold plain files only`);
    if (!SAFE_NAME.test(e.name)) throw new InputError(`${path.join(dir, e.name)}: not a plain file name`);
    const b = await readRegular(path.join(dir, e.name), { follow: false });
    files[e.name] = { bytes: b.length, sha256: sha256(b) };
  }
  const body: ManifestBody = { format: FORMAT, version: 1, kind, files };
  const text = JSON.stringify(body);
  const out = JSON.stringify({ ...body, sha256: sha256(text) }, null, 1) + '\n';
  // atomically: a directory that is not a fresh temporary one (compare reports) is never left with half a manifest
  const tmp = path.join(dir, `.${MANIFEST_FILE}.tmp-${process.pid}`);
  await fs.writeFile(tmp, out);
  await fs.rename(tmp, path.join(dir, MANIFEST_FILE));
}

/** A verified artifact directory: read its files through it. */
export interface Artifact {
  /** The (resolved) directory. */
  readonly dir: string;
  /** The artifact kind recorded in the manifest. */
  readonly kind: string;
  /** The manifest's own sha256: a content hash of the whole directory (every file's name, size, sha256). */
  readonly checksum: string;
  /** Names of the listed files. */
  readonly names: readonly string[];
  /** Whether `name` is listed. */
  has(name: string): boolean;
  /**
   * Path of a listed file, for messages. Never open it by this path: another file may have been
   * renamed there since it was checked; read it with {@link Artifact.read}.
   */
  pathOf(name: string): string;
  /** The bytes of a listed file, sha256-verified (cached). Throws if unlisted or damaged. */
  read(name: string): Promise<Buffer>;
  /** `read` as UTF-8 text. */
  text(name: string): Promise<string>;
}

/**
 * Open and verify the manifest of `dir` (an already resolved generation). `kind`, when given, must
 * match. Without a manifest: {@link ArtifactFormatError}, unless `optional` (then undefined).
 * `verifyAll`: read and check every listed file now (for readers that then open files by path).
 */
export async function openArtifact(dir: string, opts: { kind?: string; optional?: boolean; verifyAll?: boolean } = {}): Promise<Artifact | undefined> {
  const file = path.join(dir, MANIFEST_FILE);
  let bytes: Buffer;
  try {
    bytes = await readRegular(file, { follow: false, maxBytes: MAX_MANIFEST_BYTES, what: 'manifest' });
  } catch (err) {
    if (err instanceof NotFoundError) {
      if (opts.optional) return undefined;
      throw new ArtifactFormatError(file, `missing: not a ${opts.kind ?? 'semrec artifact'} directory, or written by a semrec older than 0.2 (rewrite it)`);
    }
    throw asFormatError(err, file);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ArtifactFormatError(file, 'not valid JSON (truncated or damaged)');
  }
  const { sha256: sum, ...rest } = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const parsed = Body.safeParse(rest);
  if (!parsed.success) throw new ArtifactFormatError(file, `invalid manifest: ${zodIssues(parsed.error)}`);
  if (typeof sum !== 'string' || sum !== sha256(JSON.stringify(rest))) throw new ArtifactFormatError(file, 'checksum mismatch (the manifest was damaged or edited)');
  const m = parsed.data;
  if (opts.kind && m.kind !== opts.kind) throw new ArtifactFormatError(file, `holds a ${m.kind}, not a ${opts.kind}`);
  // sizes before contents: a damaged or swapped file is refused without reading it
  for (const [name, meta] of Object.entries(m.files)) {
    const f = path.join(dir, name);
    const s = await lstatOrUndefined(f);
    if (!s) throw new ArtifactFormatError(f, 'missing file listed in MANIFEST.json');
    if (!s.isFile()) throw new ArtifactFormatError(f, 'not a regular file');
    if (s.size !== meta.bytes) throw new ArtifactFormatError(f, `size ${s.size} bytes, expected ${meta.bytes} (truncated or damaged)`);
  }
  const cache = new Map<string, Promise<Buffer>>();
  const listed = (name: string) => {
    const meta = m.files[name];
    if (!meta) throw new ArtifactFormatError(path.join(dir, name), 'not listed in MANIFEST.json');
    return meta;
  };
  const read = (name: string): Promise<Buffer> => {
    const meta = listed(name);
    let p = cache.get(name);
    if (!p) {
      p = readListed(path.join(dir, name), meta);
      cache.set(name, p);
    }
    return p;
  };
  const art: Artifact = {
    dir,
    kind: m.kind,
    checksum: sum,
    names: Object.keys(m.files),
    has: (name) => name in m.files,
    pathOf: (name) => (listed(name), path.join(dir, name)),
    read,
    text: async (name) => (await read(name)).toString('utf8'),
  };
  if (opts.verifyAll) for (const name of art.names) await read(name);
  return art;
}

/** Open a listed file once (no symlink, no FIFO), check its size through the descriptor, read and hash those bytes. */
async function readListed(file: string, meta: { bytes: number; sha256: string }): Promise<Buffer> {
  let opened;
  try {
    opened = await openRegular(file, { follow: false });
  } catch (err) {
    // a missing listed file is a damaged artifact too
    throw err instanceof NotFoundError ? new ArtifactFormatError(file, 'missing file listed in MANIFEST.json') : asFormatError(err, file);
  }
  try {
    if (opened.size !== meta.bytes) throw new ArtifactFormatError(file, `size ${opened.size} bytes, expected ${meta.bytes} (replaced, truncated or damaged)`);
    const b = await readExactly(opened.fh, opened.size, file);
    if (sha256(b) !== meta.sha256) throw new ArtifactFormatError(file, 'checksum mismatch (damaged file)');
    return b;
  } finally {
    await opened.fh.close().catch(() => undefined);
  }
}

/** Where a loader reads a directory's files: a verified {@link Artifact} or {@link openUnverified}'s plain reader. */
export type FileSource = Pick<Artifact, 'dir' | 'names' | 'has' | 'pathOf' | 'read' | 'text'>;

/** Largest file {@link openUnverified} reads (bytes). */
const MAX_UNVERIFIED_BYTES = 2 ** 34;

/**
 * The files of a directory without a manifest (a Hugging Face-layout model exported elsewhere),
 * read like an artifact's — each opened once, a regular file (symlinks followed: model caches
 * link to blobs), within {@link MAX_UNVERIFIED_BYTES}, and cached — but with no checksum to check.
 */
export async function openUnverified(dir: string): Promise<FileSource> {
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (err) {
    throw fsError(err, dir, 'directory');
  }
  const names = entries.filter((n) => SAFE_NAME.test(n));
  const cache = new Map<string, Promise<Buffer>>();
  const listed = (name: string) => {
    if (!names.includes(name)) throw new ArtifactFormatError(path.join(dir, name), 'missing');
    return path.join(dir, name);
  };
  const read = (name: string): Promise<Buffer> => {
    let p = cache.get(name);
    if (!p) cache.set(name, (p = Promise.resolve().then(() => readRegular(listed(name), { maxBytes: MAX_UNVERIFIED_BYTES }))));
    return p;
  };
  return { dir, names, has: (n) => names.includes(n), pathOf: (n) => path.join(dir, n), read, text: async (n) => (await read(n)).toString('utf8') };
}

/** {@link openArtifact} for a directory that must have a manifest. */
export async function openRequired(dir: string, kind: string, opts: { verifyAll?: boolean } = {}): Promise<Artifact> {
  return (await openArtifact(dir, { kind, ...opts }))!;
}

/**
 * Rewrite MANIFEST.json for the files now in `dir` (a resolved generation or a plain artifact
 * directory). For deliberate edits (and the tests' re-checksummed mutants): it makes whatever
 * is there pass the checksum layer, so only the format checks below it remain.
 */
export async function resealArtifact(dir: string, kind?: string): Promise<void> {
  let k = kind;
  if (!k) {
    try {
      k = (JSON.parse((await readRegular(path.join(dir, MANIFEST_FILE), { follow: false, maxBytes: MAX_MANIFEST_BYTES })).toString('utf8')) as { kind?: string }).kind;
    } catch {
      k = undefined;
    }
  }
  if (!k) throw new InputError(`${dir}: no kind given and none recorded`);
  await writeManifest(dir, k);
}
