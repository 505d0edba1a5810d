/**
 * File input helpers: line-by-line reading of plain or gzip-compressed text (detected from the
 * file's magic bytes, not its name) and small JSON/JSONL helpers.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { NotFoundError, FormatError } from '../errors.js';

/** Throw a {@link NotFoundError} unless `file` exists and is a regular file. */
export async function assertFile(file: string, what = 'file'): Promise<void> {
  let st;
  try {
    st = await fs.stat(file);
  } catch {
    throw new NotFoundError(file, what);
  }
  if (!st.isFile()) throw new FormatError(file, `expected a ${what}, found a directory or special file`);
}

/** True when the file starts with the gzip magic bytes 1f 8b. */
export async function isGzip(file: string): Promise<boolean> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(2);
    const { bytesRead } = await fh.read(buf, 0, 2, 0);
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/**
 * Process-wide hook for progress output: called every 50,000 lines and at the end of each file
 * read by {@link readLines}. The CLI points it at a progress indicator; the library leaves it unset.
 */
export const readProgress: { onLines?: (file: string, lines: number, done: boolean) => void } = {};

/** Options for {@link readLines}. */
export interface ReadLinesOptions {
  /** Text encoding of the (decompressed) bytes. Default utf8. MovieLens-1M is latin1. */
  encoding?: BufferEncoding;
}

/**
 * Iterate the lines of a text file, transparently gunzipping it. Yields `[lineNumber, text]`
 * with 1-based line numbers; a trailing `\r` is removed.
 */
export async function* readLines(file: string, opts: ReadLinesOptions = {}): AsyncGenerator<[number, string]> {
  await assertFile(file);
  const gz = await isGzip(file);
  let stream: Readable = createReadStream(file);
  if (gz) stream = stream.pipe(createGunzip());
  stream.setEncoding(opts.encoding ?? 'utf8');
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const raw of rl) {
      n++;
      if (n % 50_000 === 0) readProgress.onLines?.(file, n, false);
      // a UTF-8 byte-order mark would otherwise become part of the first record
      yield [n, n === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw];
    }
    readProgress.onLines?.(file, n, true);
  } catch (err) {
    throw new FormatError(file, `cannot read${gz ? ' (corrupt gzip?)' : ''}: ${(err as Error).message}`, { cause: err });
  } finally {
    rl.close();
    stream.destroy();
  }
}

/** Read a whole (optionally gzipped) text file. */
export async function readText(file: string, encoding: BufferEncoding = 'utf8'): Promise<string> {
  const parts: string[] = [];
  for await (const [, line] of readLines(file, { encoding })) parts.push(line);
  return parts.join('\n');
}

/** Read and parse a whole (optionally gzipped) JSON file, with a {@link FormatError} on bad JSON. */
export async function readJson(file: string): Promise<unknown> {
  const text = await readText(file);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FormatError(file, `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Read a plain JSON file that must exist: {@link NotFoundError} naming `what` when it is missing,
 * `badJson(file)` (default a {@link FormatError}) when it does not parse.
 */
export async function readJsonObject(file: string, what: string, badJson: (file: string) => Error = (f) => new FormatError(f, 'not valid JSON')): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    throw new NotFoundError(file, what);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw badJson(file);
  }
}

/** Like {@link readJsonObject}, but a missing file gives `{}` (optional config files). */
export async function readOptionalJsonObject(file: string, what: string, badJson?: (file: string) => Error): Promise<Record<string, unknown>> {
  try {
    return await readJsonObject(file, what, badJson);
  } catch (err) {
    if (err instanceof NotFoundError) return {};
    throw err;
  }
}
