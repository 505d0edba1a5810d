/**
 * Typed errors of the engine. Every error semrec throws on bad input is a {@link SemrecError} with
 * a stable `code` — one family across src/, quantizer/ and decoding/ (the base is defined in
 * decoding/errors.ts, which both cores can import) — so callers branch on `err.code`.
 */

import { SemrecError } from '../decoding/index.js';

export { SemrecError } from '../decoding/index.js';
export type { SemrecErrorCode } from '../decoding/index.js';

/** An argument or option has an invalid value (`E_INPUT`): the one class for that code, defined in the dependency-free core. */
export { InputError } from '../decoding/index.js';

/** `E_FORMAT`, `E_NOT_FOUND`, `E_IO`: one class per code, defined in the dependency-free core. */
export { FormatError, NotFoundError, IoError } from '../decoding/index.js';

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
