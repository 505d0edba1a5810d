/**
 * The one error family of semrec. Every error semrec throws on bad input, damaged files or an
 * unusable environment is a {@link SemrecError} with a stable `code`, in the cores (quantizer/,
 * decoding/) and the engine (src/) alike, so callers branch on `err.code` instead of parsing
 * messages. The base lives here, in the dependency-free decoding core, so that quantizer/ and
 * src/ can both extend it without either core importing src/.
 */

/** Stable machine-readable error codes (documented in docs/reliability.md). */
export type SemrecErrorCode =
  | 'E_INPUT' // bad argument or option value
  | 'E_FORMAT' // a file is not in the expected format (damaged, truncated, another format or version)
  | 'E_INDEX_FORMAT' // an index directory is corrupt, of another version, or not an index
  | 'E_NOT_FOUND' // a file or directory does not exist
  | 'E_DATA' // data is well-formed but unusable (e.g. empty after filtering, a degenerate index)
  | 'E_COLLISION' // a prefix holds more items than its codes can tell apart
  | 'E_SETUP' // the environment is missing something (native addon, Debian package, Python)
  | 'E_EMPTY_HISTORY' // no usable history item in a recommendation request
  | 'E_MODEL' // a model directory is invalid or belongs to another index
  | 'E_EXISTS' // an output path holds something that must not be replaced (use --force)
  | 'E_IO' // the file system refused a read or write (permission, full disk, I/O error)
  | 'E_LOCKED' // another writer holds the output directory's lock past the wait
  | 'E_OVERLOADED' // the server's queue is full; retry later
  | 'E_TIMEOUT' // the request did not finish within the server's time limit
  | 'E_CLOSED' // the server or recommender is shutting down
  | 'E_UNAUTHORIZED' // an admin request without the right token
  | 'E_TRAINER' // the Python trainer failed
  | 'E_INTERNAL'; // an unexpected failure (a bug): the message says what

/** Base class of all semrec errors. */
export class SemrecError extends Error {
  /** Stable error code. */
  readonly code: SemrecErrorCode;
  /**
   * The parameter the error is about (a library option name such as `dModel`), when there is
   * one: the CLI names the matching flag (`--d-model`), library messages never do.
   */
  readonly param?: string;
  constructor(code: SemrecErrorCode, message: string, options?: { cause?: unknown; param?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options?.param) this.param = options.param;
  }
}

/** Base class of the decoding core's errors. */
export class DecodingError extends SemrecError {}

/**
 * A bad argument or option value (`E_INPUT`) — the one class for that code in every layer (the
 * engine's `InputError`, `QuantizerInputError` and `DecodingInputError` are this class).
 */
export class InputError extends SemrecError {
  constructor(message: string, options?: { cause?: unknown; param?: string }) {
    super('E_INPUT', message, options);
  }
}

/** A file is not in the format it was read as, damaged, or too large (`E_FORMAT`); `file` (and `path`) names it. */
export class FormatError extends SemrecError {
  /** The offending file. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('E_FORMAT', `${file}: ${message}`, options);
    this.file = file;
  }
  /** The offending file (the same as `file`). */
  get path(): string {
    return this.file;
  }
}

/** A required file or directory does not exist (`E_NOT_FOUND`). */
export class NotFoundError extends SemrecError {
  /** The missing path. */
  readonly path: string;
  constructor(path: string, what = 'file', options?: { cause?: unknown }) {
    super('E_NOT_FOUND', `${what} not found: ${path}`, options);
    this.path = path;
  }
}

/** The file system refused a read or a write: permission, a full disk, an I/O error (`E_IO`). */
export class IoError extends SemrecError {
  /** The path the file system refused. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('E_IO', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Bad arguments to the decoding core (code matrix shape, duplicate tuples, beam width, prompt tokens): {@link InputError}. */
export const DecodingInputError = InputError;
/** {@link InputError}. */
export type DecodingInputError = InputError;
