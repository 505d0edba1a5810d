/**
 * File input helpers: line-by-line reading of plain or gzip-compressed text (detected from the
 * file's magic bytes, not its name) and small JSON/JSONL helpers.
 */
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { openRegular, readRegularText } from '../../quantizer/core/index.js';
import { FormatError, NotFoundError } from '../errors.js';

/**
 * Largest list file (`--history-file`, `--ids-file`) read whole (bytes): such files are read with
 * `readRegularText` (quantizer/core): a regular file only — never a FIFO or device — within a cap.
 */
export const MAX_LIST_FILE_BYTES = 64 << 20;

/** Longest line {@link readLines} accepts by default (characters). */
const MAX_LINE_CHARS = 64 << 20;

/**
 * Process-wide hook for progress output: called every 50,000 lines and at the end of each file
 * read by {@link readLines}. The CLI points it at a progress indicator; the library leaves it unset.
 */
export const readProgress: { onLines?: (file: string, lines: number, done: boolean) => void } = {};

/** Options for {@link readLines}. */
export interface ReadLinesOptions {
  /** Text encoding of the (decompressed) bytes. Default utf8. MovieLens-1M is latin1. */
  encoding?: BufferEncoding;
  /** Refuse a line longer than this many characters (default {@link MAX_LINE_CHARS}): a file without newlines is never held whole. */
  maxLineChars?: number;
}

/**
 * Iterate the lines of a text file, transparently gunzipping it. Yields `[lineNumber, text]`
 * with 1-based line numbers; a trailing `\r` is removed.
 */
export async function* readLines(file: string, opts: ReadLinesOptions = {}): AsyncGenerator<[number, string]> {
  // one open, checked through the descriptor (a regular file: a FIFO or device is refused, not read)
  const { fh } = await openRegular(file);
  const maxLine = opts.maxLineChars ?? MAX_LINE_CHARS;
  let stream: Readable | undefined;
  let raw: Readable | undefined;
  let gz = false;
  let n = 0;
  try {
    const magic = Buffer.alloc(2);
    const { bytesRead } = await fh.read(magic, 0, 2, 0);
    gz = bytesRead === 2 && magic[0] === 0x1f && magic[1] === 0x8b;
    raw = fh.createReadStream({ start: 0, autoClose: false });
    stream = gz ? raw.pipe(createGunzip()) : raw;
    stream.setEncoding(opts.encoding ?? 'utf8');
    // the unfinished line is kept as chunks (joined once its newline comes): a long line costs
    // linear time, and one longer than the cap is refused before it is held whole
    let parts: string[] = [];
    let partsLen = 0;
    const tooLong = () => new FormatError(file, `line ${n + 1} is longer than ${maxLine} characters (not a line-based text file?)`);
    const emit = (line: string): [number, string] => {
      n++;
      if (n % 50_000 === 0) readProgress.onLines?.(file, n, false);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      // a UTF-8 byte-order mark would otherwise become part of the first record
      return [n, n === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line];
    };
    for await (const chunk of stream as AsyncIterable<string>) {
      let at = 0;
      let nl: number;
      while ((nl = chunk.indexOf('\n', at)) >= 0) {
        if (partsLen + nl - at > maxLine) throw tooLong();
        const line = partsLen ? parts.join('') + chunk.slice(at, nl) : chunk.slice(at, nl);
        parts = [];
        partsLen = 0;
        yield emit(line);
        at = nl + 1;
      }
      if (at < chunk.length) {
        parts.push(at ? chunk.slice(at) : chunk);
        partsLen += chunk.length - at;
        if (partsLen > maxLine) throw tooLong();
      }
    }
    if (partsLen) yield emit(parts.join(''));
    readProgress.onLines?.(file, n, true);
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError(file, `cannot read${gz ? ' (corrupt gzip?)' : ''}: ${(err as Error).message}`, { cause: err });
  } finally {
    stream?.destroy();
    raw?.destroy();
    await fh.close().catch(() => undefined);
  }
}

/** Read a whole (optionally gzipped) text file. */
async function readText(file: string, encoding: BufferEncoding = 'utf8'): Promise<string> {
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

/** Largest JSON file {@link readJsonObject} reads (a tokenizer.json of a 150k vocabulary is ~11 MB). */
const MAX_JSON_BYTES = 256 << 20;

/**
 * Read a plain JSON file that must exist: {@link NotFoundError} naming `what` when it is missing,
 * `badJson(file)` (default a {@link FormatError}) when it does not parse.
 */
export async function readJsonObject(file: string, what: string, badJson: (file: string) => Error = (f) => new FormatError(f, 'not valid JSON')): Promise<Record<string, unknown>> {
  const text = await readRegularText(file, { what, maxBytes: MAX_JSON_BYTES });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw badJson(file);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw badJson(file);
  return v as Record<string, unknown>;
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
