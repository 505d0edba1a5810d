/**
 * The ItemIndex directory (format `semrec-index`, version 1):
 *
 *   index.json     format, version, info (scheme, factory, seed, collisions, params, ...),
 *                  counts, codebook sizes, content hash, and for every binary file its byte
 *                  length and sha256
 *   items.txt      item ids, one per line, row order
 *   codes.u16      n × levels little-endian uint16, row-major
 *   codebooks.f32  the scheme's codebooks (semantic schemes only), level after level,
 *                  sizes[l] × dim little-endian float32
 *   retired.u32    rows of retired items (`index remove`), ascending little-endian uint32;
 *                  only when there are any
 *
 * Saving writes a temporary directory, loads it back to verify, then renames it into place.
 * Loading verifies format, version, file sizes, checksums, code ranges and collision-freedom.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { SemrecError } from '../decoding/errors.js';
import { readArtifact, writeArtifact, ArtifactFormatError, openRequired as openAny, SAFE_NAME, zodIssues, type Artifact } from './core/index.js';

/** Open an index generation's manifest; its failures are index format errors (E_INDEX_FORMAT). */
async function openRequired(dir: string, kind: string): Promise<Artifact> {
  try {
    return await openAny(dir, kind);
  } catch (err) {
    if (err instanceof ArtifactFormatError) throw new IndexFormatError(err.path, err.message.slice(err.path.length + 2));
    throw err;
  }
}
import { IndexFormatError, QuantizerError, QuantizerInputError } from './errors.js';
import { ItemIndex, type IndexInfo } from './item-index.js';

/** Format name in index.json. */
export const INDEX_FORMAT = 'semrec-index';
/** Current format version. */
export const INDEX_FORMAT_VERSION = 1;

/** index.json contents. */
export interface IndexManifest {
  format: typeof INDEX_FORMAT;
  formatVersion: number;
  info: IndexInfo;
  items: number;
  levels: number;
  codebookSizes: number[];
  /** {@link ItemIndex.hash}. */
  hash: string;
  files: Record<string, { bytes: number; sha256: string }>;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function bytesOf(a: Uint16Array | Float32Array): Buffer {
  if (!LE) throw new QuantizerError('E_SETUP', 'big-endian hosts are not supported');
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Save an index to `dir` atomically (an existing index there is replaced only after verification).
 * `extraFiles` (e.g. the item encoder's state) are stored beside it and checksummed like the rest;
 * read them back with {@link readIndexFile}.
 */
export async function saveIndex(index: ItemIndex, dir: string, opts: { extraFiles?: Record<string, Uint8Array>; force?: boolean; inputs?: readonly string[] } = {}): Promise<IndexManifest> {
  const files: Record<string, Buffer> = {
    'items.txt': Buffer.from(index.itemIds.join('\n') + (index.size ? '\n' : ''), 'utf8'),
    'codes.u16': bytesOf(index.codes),
  };
  if (index.codebooks.length) {
    const total = index.codebooks.reduce((s, c) => s + c.length, 0);
    const all = new Float32Array(total);
    let o = 0;
    for (const c of index.codebooks) {
      all.set(c, o);
      o += c.length;
    }
    files['codebooks.f32'] = bytesOf(all);
  }
  if (index.retiredRows.length) files['retired.u32'] = Buffer.from(new Uint32Array(index.retiredRows).buffer);
  for (const [name, b] of Object.entries(opts.extraFiles ?? {})) {
    if (name in files || name === 'index.json' || !/^[\w.-]+$/.test(name)) throw new QuantizerInputError(`bad extra file name ${JSON.stringify(name)}`);
    files[name] = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  const manifest: IndexManifest = {
    format: INDEX_FORMAT,
    formatVersion: INDEX_FORMAT_VERSION,
    info: index.info,
    items: index.size,
    levels: index.levels,
    codebookSizes: [...index.codebookSizes],
    hash: index.hash(),
    files: Object.fromEntries(Object.entries(files).map(([k, b]) => [k, { bytes: b.length, sha256: sha256(b) }])),
  };
  await writeArtifact(
    dir,
    async (tmp) => {
      for (const [name, b] of Object.entries(files)) await fs.writeFile(path.join(tmp, name), b);
      await fs.writeFile(path.join(tmp, 'index.json'), JSON.stringify(manifest, null, 2) + '\n');
    },
    async (tmp) => {
      await loadIndex(tmp);
    },
    { kind: INDEX_FORMAT, force: opts.force, inputs: opts.inputs },
  );
  return manifest;
}

/** Read and validate index.json only (no binary files). */
export async function readManifest(dir: string): Promise<IndexManifest> {
  return readArtifact(dir, async (d) => readManifestAt(await openRequired(d, INDEX_FORMAT)));
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const IndexJson = z.object({
  format: z.literal(INDEX_FORMAT),
  formatVersion: z.number(),
  info: z
    .object({
      scheme: z.string().min(1),
      factory: z.string().min(1),
      seed: z.number().int(),
      collisions: z.enum(['extra-level', 'reassign', 'none']),
      schemeLevels: z.number().int().min(1).max(64),
      dim: z.number().int().min(0).max(1 << 20),
      params: z.record(z.string(), z.unknown()),
      indexVersion: z.number().int().min(1),
      addedItems: z.number().int().min(0),
      collisionReport: z.object({}).passthrough(),
      mse: z.array(z.number()).optional(),
      lineage: z.array(hex64).optional(),
    })
    .passthrough(),
  items: z.number().int().min(0).max(2 ** 31),
  levels: z.number().int().min(1).max(64),
  codebookSizes: z.array(z.number().int().min(1).max(65536)),
  hash: hex64,
  files: z.record(z.string().regex(SAFE_NAME), z.object({ bytes: z.number().int().min(0), sha256: hex64 }).strict()),
});

async function readManifestAt(art: Artifact): Promise<IndexManifest> {
  const file = path.join(art.dir, 'index.json');
  if (!art.has('index.json')) throw new IndexFormatError(art.dir, 'not an index directory (no index.json)');
  let raw: unknown;
  try {
    raw = JSON.parse(await art.text('index.json'));
  } catch (err) {
    if (err instanceof SemrecError) throw err;
    throw new IndexFormatError(file, 'index.json is not valid JSON (truncated or corrupt)');
  }
  const r = raw as Partial<IndexManifest> | null;
  if (!r || r.format !== INDEX_FORMAT) throw new IndexFormatError(file, `not a ${INDEX_FORMAT} manifest`);
  if (r.formatVersion !== INDEX_FORMAT_VERSION) {
    throw new IndexFormatError(file, `index format version ${String(r.formatVersion)} is not supported (this build reads version ${INDEX_FORMAT_VERSION})`);
  }
  const parsed = IndexJson.safeParse(raw);
  if (!parsed.success) throw new IndexFormatError(file, `invalid manifest: ${zodIssues(parsed.error)}`);
  const m = parsed.data as unknown as IndexManifest;
  if (m.codebookSizes.length !== m.levels) throw new IndexFormatError(file, `codebookSizes has ${m.codebookSizes.length} entries for ${m.levels} levels`);
  if (m.info.schemeLevels > m.levels) throw new IndexFormatError(file, `schemeLevels ${m.info.schemeLevels} > levels ${m.levels}`);
  for (const name of Object.keys(m.files)) if (!art.has(name)) throw new IndexFormatError(file, `lists ${name}, which MANIFEST.json does not`);
  // and the other way round: a file of the directory that index.json leaves out (e.g. its
  // codebooks or encoder) would silently change what the index does
  for (const name of art.names) if (name !== 'index.json' && !(name in m.files)) throw new IndexFormatError(file, `does not list ${name}, which the directory holds`);
  if ((m.info.dim > 0) !== ('codebooks.f32' in m.files)) throw new IndexFormatError(file, m.info.dim > 0 ? `embedding dim ${m.info.dim} but no codebooks.f32` : 'codebooks.f32 listed for an index without embeddings (dim 0)');
  return m;
}

/** Read a file listed in index.json through the verified artifact (sizes and sha256 must agree with both manifests). */
async function readVerified(art: Artifact, name: string, meta: { bytes: number; sha256: string }): Promise<Buffer> {
  const b = await art.read(name);
  if (b.length !== meta.bytes) throw new IndexFormatError(path.join(art.dir, name), `size ${b.length} bytes, expected ${meta.bytes} (truncated?)`);
  if (sha256(b) !== meta.sha256) throw new IndexFormatError(path.join(art.dir, name), 'checksum mismatch (corrupt file)');
  return b;
}

/** Read one verified file of an index directory (size and sha256 as in index.json), or undefined if not listed. */
export async function readIndexFile(dir: string, name: string): Promise<Buffer | undefined> {
  return readArtifact(dir, async (d) => {
    const art = await openRequired(d, INDEX_FORMAT);
    const meta = (await readManifestAt(art)).files[name];
    return meta ? readVerified(art, name, meta) : undefined;
  });
}

/** Load and verify an index directory. Throws {@link IndexFormatError} on any inconsistency. */
export async function loadIndex(dir: string): Promise<ItemIndex> {
  return (await loadIndexWith(dir, [])).index;
}

/**
 * Load an index and some of its extra files (those listed in index.json; absent ones are left
 * out) from one generation of the directory: a replacement running meanwhile cannot mix them.
 */
export async function loadIndexWith(dir: string, names: readonly string[]): Promise<{ index: ItemIndex; files: Record<string, Buffer> }> {
  return readArtifact(dir, async (d) => {
    const art = await openRequired(d, INDEX_FORMAT);
    const m = await readManifestAt(art);
    const index = await loadIndexAt(art, m);
    const files: Record<string, Buffer> = {};
    for (const n of names) if (m.files[n]) files[n] = await readVerified(art, n, m.files[n]);
    return { index, files };
  });
}

async function loadIndexAt(art: Artifact, m: IndexManifest): Promise<ItemIndex> {
  const dir = art.dir;
  const data: Record<string, Buffer> = {};
  for (const [name, meta] of Object.entries(m.files)) data[name] = await readVerified(art, name, meta);
  for (const need of ['items.txt', 'codes.u16']) if (!data[need]) throw new IndexFormatError(dir, `index.json lists no ${need}`);
  const ids = data['items.txt'].toString('utf8').split('\n');
  if (ids[ids.length - 1] === '') ids.pop();
  if (ids.length !== m.items) throw new IndexFormatError(path.join(dir, 'items.txt'), `${ids.length} ids, expected ${m.items}`);
  const cb = data['codes.u16'];
  if (cb.length !== m.items * m.levels * 2) throw new IndexFormatError(path.join(dir, 'codes.u16'), 'wrong size for items × levels');
  const codes = new Uint16Array(m.items * m.levels);
  new Uint8Array(codes.buffer).set(cb);
  const codebooks: Float32Array[] = [];
  if (data['codebooks.f32']) {
    const d = m.info.dim;
    const sizes = m.codebookSizes.slice(0, m.info.schemeLevels);
    const expect = sizes.reduce((s, k) => s + k * d, 0) * 4;
    const b = data['codebooks.f32'];
    if (b.length !== expect) throw new IndexFormatError(path.join(dir, 'codebooks.f32'), `size ${b.length}, expected ${expect}`);
    const all = new Float32Array(b.length / 4);
    new Uint8Array(all.buffer).set(b);
    let o = 0;
    for (const k of sizes) {
      codebooks.push(all.slice(o, o + k * d));
      o += k * d;
    }
  }
  let retired: Uint32Array | undefined;
  if (data['retired.u32']) {
    const b = data['retired.u32'];
    if (b.length % 4) throw new IndexFormatError(path.join(dir, 'retired.u32'), `size ${b.length} is not a multiple of 4`);
    retired = new Uint32Array(b.length / 4);
    new Uint8Array(retired.buffer).set(b);
  }
  let index: ItemIndex;
  try {
    index = new ItemIndex(ids, codes, m.codebookSizes, m.info, codebooks, retired);
  } catch (err) {
    throw new IndexFormatError(dir, `invalid index contents: ${(err as Error).message}`);
  }
  if (index.hash() !== m.hash) throw new IndexFormatError(dir, 'content hash does not match index.json');
  return index;
}
