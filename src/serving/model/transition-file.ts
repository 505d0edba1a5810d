/**
 * The transition model's counts on disk: `transition.bin`, a binary CSR file read straight into
 * typed arrays (no JSON text, which at a million items would pass V8's 512 MB string limit, and no
 * per-number boxing). Model directories written before it hold `bigram.json`, which still loads.
 *
 * Layout (little-endian):
 *
 * | bytes | what |
 * |---|---|
 * | 8 | magic `SEMRTRN1` (the format and its version) |
 * | 4 | header length h (u32) |
 * | h | header: JSON `{ items, beta, nnz, window?, history?, decay? }` (UTF-8) |
 * | 0-7 | zero padding to a multiple of 8 from the start of the file |
 * | 8·nnz | dstCount: f64 transition counts (weighted 1/distance) |
 * | 4·items | counts: u32 training occurrences per item |
 * | 4·(items+1) | srcPtr: u32 CSR row pointers |
 * | 4·nnz | dst: u32 destination rows |
 *
 * The f64 counts come first so that every array is aligned for a typed-array view of the bytes.
 */
import os from 'node:os';
import { z } from 'zod';
import { zodIssues } from '../../../quantizer/core/index.js';
import { ModelError } from '../../errors.js';

/** The file name of the binary transition model inside a model directory. */
export const TRANSITION_FILE = 'transition.bin';
/** The file name of the JSON transition model written before {@link TRANSITION_FILE} (read only). */
export const LEGACY_TRANSITION_FILE = 'bigram.json';

const MAGIC = 'SEMRTRN1';

/** A fitted transition model: scalars and the CSR of weighted transition counts over item rows. */
export interface TransitionData {
  /** Number of items (rows of the index). */
  items: number;
  /** Pseudo-count β of the popularity prior. */
  beta: number;
  /** Transitions counted up to this many positions ahead, weighted 1/distance (default 1). */
  window?: number;
  /** History items the next item is conditioned on (default 1: the last one). */
  history?: number;
  /** Weight ratio between consecutive history items, in (0, 1] (default 1; unused when history is 1). */
  decay?: number;
  /** Per item: training occurrences. */
  counts: Uint32Array;
  /** CSR over source rows: transitions[srcPtr[s] .. srcPtr[s+1]) = (dst, count). */
  srcPtr: Uint32Array;
  dst: Uint32Array;
  /** Transition counts (weighted by 1/distance when window > 1). */
  dstCount: Float64Array;
}

const nat = z.number().int().min(0);
const scalars = {
  items: nat.max(2 ** 31),
  beta: z.number().positive().finite(),
  window: z.number().int().min(1).max(1000).optional(),
  history: z.number().int().min(1).max(1000).optional(),
  decay: z.number().positive().max(1).optional(),
};
const HeaderSchema = z.object({ ...scalars, nnz: nat.max(2 ** 32 - 1) }).strict();
const u32 = nat.max(2 ** 32 - 1);
const LegacySchema = z
  .object({ ...scalars, counts: z.array(u32), srcPtr: z.array(u32), dst: z.array(u32), dstCount: z.array(z.number().positive().finite()) })
  .strict();

function littleEndian(): void {
  if (os.endianness() !== 'LE') throw new ModelError('transition models are stored little-endian; this machine is big-endian');
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** The scalar fields of `data` that are stored (the defaults are left out, as fitted). */
function header(data: TransitionData): Record<string, number> {
  const h: Record<string, number> = { items: data.items, beta: data.beta, nnz: data.dst.length };
  if (data.window !== undefined) h.window = data.window;
  if (data.history !== undefined) h.history = data.history;
  if (data.decay !== undefined) h.decay = data.decay;
  return h;
}

/** Serialise a transition model to the bytes of {@link TRANSITION_FILE}. */
export function encodeTransition(data: TransitionData): Uint8Array {
  littleEndian();
  checkStructure(data, '(in memory)');
  const head = Buffer.from(JSON.stringify(header(data)), 'utf8');
  const start = 12 + head.length;
  const arraysAt = start + pad8(start);
  const nnz = data.dst.length;
  const bytes = new Uint8Array(arraysAt + 8 * nnz + 4 * data.items + 4 * (data.items + 1) + 4 * nnz);
  bytes.set(Buffer.from(MAGIC, 'latin1'), 0);
  new DataView(bytes.buffer).setUint32(8, head.length, true);
  bytes.set(head, 12);
  let at = arraysAt;
  for (const a of [data.dstCount, data.counts, data.srcPtr, data.dst]) {
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += a.byteLength;
  }
  return bytes;
}

/**
 * Read {@link TRANSITION_FILE}'s bytes: header, exact length and the CSR structure are checked.
 * The arrays view `bytes` where it is 8-byte aligned (no copy), otherwise a copy. Throws E_MODEL.
 */
export function decodeTransition(bytes: Uint8Array, file: string): TransitionData {
  littleEndian();
  const bad = (why: string) => new ModelError(`${file}: invalid transition model: ${why}`);
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString('latin1') !== MAGIC) throw bad(`not a semrec transition file (no ${MAGIC} magic)`);
  const headLen = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + headLen > bytes.length) throw bad(`header of ${headLen} bytes runs past the end of the file`);
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.subarray(12, 12 + headLen)).toString('utf8'));
  } catch (err) {
    throw bad(`header is not JSON (${(err as Error).message})`);
  }
  const p = HeaderSchema.safeParse(raw);
  if (!p.success) throw bad(zodIssues(p.error));
  const { nnz, ...h } = p.data;
  const start = 12 + headLen;
  const arraysAt = start + pad8(start);
  const want = arraysAt + 8 * nnz + 4 * h.items + 4 * (h.items + 1) + 4 * nnz;
  if (bytes.length !== want) throw bad(`${bytes.length} bytes, the header's sizes (${h.items} items, ${nnz} transitions) make ${want}`);
  const base = (bytes.byteOffset + arraysAt) % 8 === 0 ? bytes : bytes.slice(); // a fresh copy starts aligned
  const off = base === bytes ? bytes.byteOffset + arraysAt : arraysAt;
  const dstCount = new Float64Array(base.buffer, off, nnz);
  const counts = new Uint32Array(base.buffer, off + 8 * nnz, h.items);
  const srcPtr = new Uint32Array(base.buffer, off + 8 * nnz + 4 * h.items, h.items + 1);
  const dst = new Uint32Array(base.buffer, off + 8 * nnz + 4 * (2 * h.items + 1), nnz);
  const data: TransitionData = { ...h, counts, srcPtr, dst, dstCount };
  checkStructure(data, file);
  for (let i = 0; i < nnz; i++) if (!(dstCount[i] > 0 && dstCount[i] < Infinity)) throw bad(`transition count ${dstCount[i]} at ${i} is not positive and finite`);
  return data;
}

/** Validate a legacy `bigram.json` (parsed): schema, then the CSR structure. Throws E_MODEL. */
export function checkLegacyTransition(raw: unknown, file: string): TransitionData {
  const p = LegacySchema.safeParse(raw);
  if (!p.success) throw new ModelError(`${file}: invalid transition model: ${zodIssues(p.error)}`);
  const d = p.data;
  const data: TransitionData = { ...d, counts: Uint32Array.from(d.counts), srcPtr: Uint32Array.from(d.srcPtr), dst: Uint32Array.from(d.dst), dstCount: Float64Array.from(d.dstCount) };
  checkStructure(data, file);
  return data;
}

/** The CSR structure against the item count: lengths, monotone row pointers, destinations in range. */
function checkStructure(d: TransitionData, file: string): void {
  const bad = (why: string) => new ModelError(`${file}: invalid transition model: ${why}`);
  if (d.counts.length !== d.items) throw bad(`${d.counts.length} counts for ${d.items} items`);
  if (d.srcPtr.length !== d.items + 1 || d.srcPtr[0] !== 0 || d.srcPtr[d.items] !== d.dst.length) throw bad('srcPtr does not delimit dst');
  for (let i = 0; i < d.items; i++) if (d.srcPtr[i + 1] < d.srcPtr[i]) throw bad('srcPtr decreases');
  if (d.dstCount.length !== d.dst.length) throw bad('dst and dstCount differ in length');
  for (let i = 0; i < d.dst.length; i++) if (d.dst[i] >= d.items) throw bad(`destination row ${d.dst[i]} ≥ ${d.items} items`);
}
