/**
 * Guarded file reads: every file semrec reads is opened once, checked through the open descriptor
 * (a regular file, within a size cap) and read from that same descriptor.
 *
 * - The open is non-blocking, so a FIFO (or a socket, a device) is refused by `fstat` before a
 *   byte is read instead of hanging the process; directories, devices and sockets are refused
 *   the same way.
 * - Artifact files are opened without following symlinks (`O_NOFOLLOW`): a symlink inside an
 *   artifact directory is refused. User inputs (`--items`, `--history-file`) follow them.
 * - The size comes from the descriptor, not from a separate `stat` by path: a file renamed over
 *   the path after the check is never the one read.
 * - File-system failures become typed errors naming the path — a missing path `NotFoundError`,
 *   a symlink loop, a name too long or a special file `InputError`, a file over its cap
 *   `FormatError`, permission or a full disk `IoError` — nothing reaches the caller as a raw errno.
 */
import { constants, promises as fs, type Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FormatError, InputError, IoError, NotFoundError, SemrecError } from '../errors.js';

/** What a `stat` says a path is, in words. */
export function fileTypeOf(st: Stats): string {
  if (st.isFile()) return 'a regular file';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'a special file';
}

/** A typed error for a failed file-system call on `file` (an errno error), or `err` itself. */
export function fsError(err: unknown, file: string, what = 'file'): Error {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new NotFoundError(file, what, { cause: err });
    case 'ELOOP':
      return new InputError(`${file}: a symbolic link (or a loop of them) where a plain file is expected`, { cause: err });
    case 'ENAMETOOLONG':
      return new InputError(`${file.length > 200 ? `${file.slice(0, 200)}…` : file}: path name too long`, { cause: err });
    case 'EISDIR':
      return new InputError(`${file}: a directory, expected a ${what}`, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new IoError(file, 'permission denied', { cause: err });
    case 'ENOSPC':
    case 'EDQUOT':
      return new IoError(file, 'no space left on the device', { cause: err });
    case 'EROFS':
      return new IoError(file, 'read-only file system', { cause: err });
    case 'EIO':
    case 'EMFILE':
    case 'ENFILE':
    case 'EBUSY':
    case 'ETXTBSY':
    case 'EXDEV':
      return new IoError(file, `${code}: ${(err as Error).message}`, { cause: err });
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * A file of an artifact that cannot be used as such (a FIFO, directory, symlink, over its cap) is a
 * damaged artifact: the typed error as a {@link FormatError} naming `file`. Missing files
 * (NotFoundError), file-system refusals (E_IO) and anything else pass through unchanged.
 */
export function asFormatError(err: unknown, file: string): unknown {
  if (!(err instanceof SemrecError) || err instanceof FormatError || err instanceof NotFoundError || err.code === 'E_IO') return err;
  return new FormatError(file, err.message.startsWith(`${file}: `) ? err.message.slice(file.length + 2) : err.message, { cause: err });
}

/** Options of {@link openRegular}. */
export interface OpenRegularOptions {
  /** Refuse files larger than this many bytes (default: no cap). */
  maxBytes?: number;
  /** Follow a symlink at the last path component (default true; artifact files pass false). */
  follow?: boolean;
  /** What the file is, for messages (default `file`). */
  what?: string;
}

/** An open regular file: its handle and its size as the descriptor reports it. */
export interface OpenedFile {
  fh: FileHandle;
  size: number;
}

/**
 * Open `file` for reading, without blocking on a FIFO, and check through the descriptor that it is
 * a regular file within `opts.maxBytes`. The caller closes `fh`.
 */
export async function openRegular(file: string, opts: OpenRegularOptions = {}): Promise<OpenedFile> {
  const what = opts.what ?? 'file';
  const flags = constants.O_RDONLY | constants.O_NONBLOCK | (opts.follow === false ? constants.O_NOFOLLOW : 0);
  let fh: FileHandle;
  try {
    fh = await fs.open(file, flags);
  } catch (err) {
    throw fsError(err, file, what);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(`${file}: ${fileTypeOf(st)}, expected a ${what} (a regular file)`);
    if (opts.maxBytes !== undefined && st.size > opts.maxBytes) throw new FormatError(file, `${st.size} bytes: larger than the ${opts.maxBytes} bytes a ${what} may have`);
    return { fh, size: st.size };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err instanceof SemrecError ? err : fsError(err, file, what);
  }
}

/** Read exactly `size` bytes from the start of an open file (fewer: the file shrank — E_FORMAT). */
export async function readExactly(fh: FileHandle, size: number, file: string): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  try {
    while (off < size) {
      const { bytesRead } = await fh.read(buf, off, size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
  } catch (err) {
    throw fsError(err, file);
  }
  if (off !== size) throw new FormatError(file, `truncated while reading (${off} of ${size} bytes)`);
  return buf;
}

/**
 * Read a whole regular file through {@link openRegular}: the bytes are those of the file that was
 * checked, never of one put in its place afterwards.
 */
export async function readRegular(file: string, opts: OpenRegularOptions = {}): Promise<Buffer> {
  const { fh, size } = await openRegular(file, opts);
  try {
    return await readExactly(fh, size, file);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/** {@link readRegular} as UTF-8 text. */
export async function readRegularText(file: string, opts: OpenRegularOptions = {}): Promise<string> {
  return (await readRegular(file, opts)).toString('utf8');
}

/** `lstat` that answers undefined for a missing path and a typed error for anything else. */
export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await fs.lstat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw fsError(err, p, 'path');
  }
}
