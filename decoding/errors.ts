/** Typed errors of the decoding core (stable `code`, like the rest of semrec). */

/** Base class of decoding errors. */
export class DecodingError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Bad arguments: code matrix shape, duplicate tuples, beam width, prompt tokens. */
export class DecodingInputError extends DecodingError {
  constructor(message: string) {
    super('E_INPUT', message);
  }
}
