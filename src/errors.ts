/**
 * Typed errors. Every error semrec throws on bad input is a {@link SemrecError} with a stable
 * `code`, so callers can branch on `err.code` instead of parsing messages.
 */

/** Stable machine-readable error codes. */
export type SemrecErrorCode =
  | 'E_INPUT' // bad argument or option value
  | 'E_FORMAT' // a file is not in the expected format
  | 'E_NOT_FOUND' // a file or directory does not exist
  | 'E_DATA' // data is well-formed but unusable (e.g. empty after filtering)
  | 'E_SETUP' // the environment is missing something (native addon, Debian package)
  | 'E_EMPTY_HISTORY' // no usable history item in a recommendation request
  | 'E_MODEL' // a model directory is invalid or belongs to another index
  | 'E_EXISTS' // an output path holds something that must not be replaced (use --force)
  | 'E_OVERLOADED' // the server's queue is full; retry later
  | 'E_TIMEOUT' // the request did not finish within the server's time limit
  | 'E_CLOSED' // the server or recommender is shutting down
  | 'E_UNAUTHORIZED' // an admin request without the right token
  | 'E_INTERNAL'; // an unexpected failure (a bug): the message says what

/** Base class of all semrec errors. */
export class SemrecError extends Error {
  /** Stable error code. */
  readonly code: SemrecErrorCode;
  constructor(code: SemrecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An argument or option has an invalid value. */
export class InputError extends SemrecError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_INPUT', message, options);
  }
}

/** A file is not in the format it was read as. `file` names it. */
export class FormatError extends SemrecError {
  /** The offending file. */
  readonly file: string;
  constructor(file: string, message: string, options?: { cause?: unknown }) {
    super('E_FORMAT', `${file}: ${message}`, options);
    this.file = file;
  }
}

/** A required file or directory does not exist. */
export class NotFoundError extends SemrecError {
  /** The missing path. */
  readonly path: string;
  constructor(path: string, what = 'file') {
    super('E_NOT_FOUND', `${what} not found: ${path}`);
    this.path = path;
  }
}

/** The data is readable but cannot be used (e.g. nothing left after 5-core filtering). */
export class DataError extends SemrecError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_DATA', message, options);
  }
}

/** A recommendation request has no history item the index knows. */
export class EmptyHistoryError extends SemrecError {
  /** The history items that were skipped as unknown. */
  readonly skipped: string[];
  constructor(skipped: string[]) {
    super('E_EMPTY_HISTORY', skipped.length ? `none of the ${skipped.length} history item(s) is in the index (${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''})` : 'the history is empty');
    this.skipped = skipped;
  }
}

/** The server cannot take the request now (queue full, time limit, shutting down); retry later. */
export class UnavailableError extends SemrecError {
  /** Seconds after which a retry is reasonable (the HTTP Retry-After header). */
  readonly retryAfter: number;
  constructor(code: 'E_OVERLOADED' | 'E_TIMEOUT' | 'E_CLOSED', message: string, retryAfter = 1) {
    super(code, message);
    this.retryAfter = retryAfter;
  }
}

/** A model directory was trained on another index (content hash differs) or is not a model. */
export class ModelError extends SemrecError {
  constructor(message: string) {
    super('E_MODEL', message);
  }
}
