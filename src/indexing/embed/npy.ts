/**
 * Precomputed embeddings from a file, for users who bring their own:
 *
 * - `.npy` (NumPy format v1-v3): a 2-D C-order array of `<f4` (float32) or `<f8` (converted).
 * - `.f32`: raw little-endian float32 with an 8-byte header: uint32 rows, uint32 dim.
 *
 * Rows are in the order of the items file.
 */
import { readSync } from 'node:fs';
import { openRegular, readExactly } from '../../../quantizer/core/index.js';
import type { VectorRows } from '../../../quantizer/index.js';
import { FormatError } from '../../errors.js';

/** A loaded embedding matrix. */
export interface Embeddings {
  x: Float32Array;
  n: number;
  dim: number;
}

/** The header of a .npy file (`b` may be just its first bytes). */
function npyHeader(file: string, b: Buffer): { n: number; dim: number; descr: string; off: number } {
  if (b.length < 10 || b.readUInt8(0) !== 0x93 || b.toString('latin1', 1, 6) !== 'NUMPY') throw new FormatError(file, 'not a .npy file (bad magic)');
  const major = b.readUInt8(6);
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = b.toString(major === 3 ? 'utf8' : 'latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shape === undefined) throw new FormatError(file, 'malformed .npy header');
  if (fortran === 'True') throw new FormatError(file, 'Fortran-order arrays are not supported; save with np.ascontiguousarray');
  const dims = shape.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.length !== 2 || dims.some((v) => !Number.isInteger(v))) throw new FormatError(file, `expected a 2-D array, got shape (${shape})`);
  const [n, dim] = dims;
  if (descr !== '<f4' && descr !== '<f8') throw new FormatError(file, `dtype ${descr} not supported (use float32 '<f4' or float64 '<f8')`);
  return { n, dim, descr, off: hstart + hlen };
}

function parseNpy(file: string, b: Buffer): Embeddings {
  const { n, dim, descr, off } = npyHeader(file, b);
  const body = b.subarray(off);
  if (descr === '<f4') {
    if (body.length !== n * dim * 4) throw new FormatError(file, `expected ${n * dim * 4} data bytes, found ${body.length} (truncated?)`);
    const x = new Float32Array(n * dim);
    new Uint8Array(x.buffer).set(body);
    return { x, n, dim };
  }
  if (descr === '<f8') {
    if (body.length !== n * dim * 8) throw new FormatError(file, `expected ${n * dim * 8} data bytes, found ${body.length} (truncated?)`);
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n * dim; i++) x[i] = body.readDoubleLE(i * 8);
    return { x, n, dim };
  }
  throw new FormatError(file, `dtype ${descr} not supported (use float32 '<f4' or float64 '<f8')`);
}

const isNpy = (b: Buffer) => b.length >= 6 && b.readUInt8(0) === 0x93 && b.toString('latin1', 1, 6) === 'NUMPY';

/** The shape a header declares: rows, dimension, where the data starts and bytes per value. */
function layoutOf(file: string, head: Buffer): { n: number; dim: number; off: number; width: 4 | 8 } {
  if (isNpy(head)) {
    const h = npyHeader(file, head);
    return { n: h.n, dim: h.dim, off: h.off, width: h.descr === '<f8' ? 8 : 4 };
  }
  if (head.length < 8) throw new FormatError(file, 'too short for the 8-byte shape header');
  return { n: head.readUInt32LE(0), dim: head.readUInt32LE(4), off: 8, width: 4 };
}

/** The file size a header declares (checked before the body is read: a huge or sparse file is refused unread). */
function declaredBytes(file: string, head: Buffer): number {
  const l = layoutOf(file, head);
  return l.off + l.n * l.dim * l.width;
}

function parseF32(file: string, b: Buffer): Embeddings {
  if (b.length < 8) throw new FormatError(file, 'too short for the 8-byte shape header');
  const n = b.readUInt32LE(0);
  const dim = b.readUInt32LE(4);
  if (dim === 0 || b.length !== 8 + n * dim * 4) {
    throw new FormatError(file, `header says ${n} × ${dim} float32 (${8 + n * dim * 4} bytes) but the file has ${b.length} bytes`);
  }
  const x = new Float32Array(n * dim);
  new Uint8Array(x.buffer).set(b.subarray(8));
  return { x, n, dim };
}

/** Load embeddings from `.npy` or `.f32` (detected from the magic bytes). */
export async function loadEmbeddings(file: string): Promise<Embeddings> {
  // one open (a regular file: a FIFO or /dev/zero is refused), the header's declared size checked
  // against the descriptor's before the body is read
  const { fh, size } = await openRegular(file, { what: 'embeddings file' });
  let b: Buffer;
  try {
    const head = await readExactly(fh, Math.min(size, 1 << 16), file);
    const want = declaredBytes(file, head);
    if (want !== size) throw new FormatError(file, `the header declares ${want} bytes but the file has ${size} (truncated, or not an embeddings file)`);
    b = size === head.length ? head : await readExactly(fh, size, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
  const e = isNpy(b) ? parseNpy(file, b) : parseF32(file, b);
  for (let i = 0; i < e.x.length; i++) {
    if (!Number.isFinite(e.x[i])) throw new FormatError(file, `non-finite value in row ${Math.floor(i / e.dim)}`);
  }
  return e;
}

/** Write embeddings as `.f32` (header + raw float32), the format {@link loadEmbeddings} reads. */
export function encodeF32(x: Float32Array, n: number, dim: number): Buffer {
  const b = Buffer.alloc(8 + x.byteLength);
  b.writeUInt32LE(n, 0);
  b.writeUInt32LE(dim, 4);
  Buffer.from(x.buffer, x.byteOffset, x.byteLength).copy(b, 8);
  return b;
}

/** An embeddings file open for reading in pieces: its rows, and how to release the file. */
export interface EmbeddingRows {
  rows: VectorRows;
  close(): Promise<void>;
}

/**
 * Open `.npy` / `.f32` embeddings for reading rows on demand (an index build beyond memory): the
 * header is checked against the file's size at once; rows are read with positioned reads of the
 * open descriptor (`<f8` converted per piece) and checked finite as they are read.
 */
export async function openEmbeddingRows(file: string): Promise<EmbeddingRows> {
  const { fh, size } = await openRegular(file, { what: 'embeddings file' });
  try {
    const head = await readExactly(fh, Math.min(size, 1 << 16), file);
    const want = declaredBytes(file, head);
    if (want !== size) throw new FormatError(file, `the header declares ${want} bytes but the file has ${size} (truncated, or not an embeddings file)`);
    const { n, dim: d, off, width } = layoutOf(file, head);
    if (d === 0) throw new FormatError(file, 'the header says 0 dimensions');
    const read = (start: number, count: number): Float32Array => {
      if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 0 || start + count > n) throw new RangeError(`rows ${start}…${start + count - 1} of ${n}`);
      const bytes = count * d * width;
      const buf = Buffer.allocUnsafe(bytes);
      let got = 0;
      while (got < bytes) {
        const r = readSync(fh.fd, buf, got, bytes - got, off + start * d * width + got);
        if (r === 0) throw new FormatError(file, `ended at byte ${off + start * d * width + got} of ${size} (the file shrank while being read)`);
        got += r;
      }
      const x = new Float32Array(count * d);
      if (width === 4) new Uint8Array(x.buffer).set(buf);
      else for (let i = 0; i < count * d; i++) x[i] = buf.readDoubleLE(i * 8);
      for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new FormatError(file, `non-finite value in row ${start + Math.floor(i / d)}`);
      return x;
    };
    return { rows: { n, d, read }, close: () => fh.close().catch(() => undefined) };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}
