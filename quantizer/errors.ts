/**
 * Typed errors of the quantizer core: members of semrec's one error family ({@link SemrecError},
 * defined in the dependency-free decoding core so that this folder never imports src/).
 */
import { InputError, SemrecError } from '../decoding/errors.js';

export { InputError, FormatError, NotFoundError, IoError, SemrecError } from '../decoding/errors.js';

/** Base class of quantizer errors. */
export class QuantizerError extends SemrecError {}

/** Invalid parameters or input vectors (wrong shape, NaN, unknown scheme string): {@link InputError}, the one `E_INPUT` class. */
export const QuantizerInputError = InputError;
/** {@link InputError}. */
export type QuantizerInputError = InputError;

/** A prefix holds more items than the codes available to tell them apart. */
export class CollisionError extends QuantizerError {
  constructor(message: string, options?: { param?: string }) {
    super('E_COLLISION', message, options);
  }
}

/** An index directory is corrupt, truncated, of another version, or not an index at all. */
export class IndexFormatError extends QuantizerError {
  /** The offending path. */
  readonly path: string;
  constructor(path: string, message: string) {
    super('E_INDEX_FORMAT', `${path}: ${message}`);
    this.path = path;
  }
}

/**
 * The faiss-node addon could not be loaded. Only building or extending an index needs it (k-means
 * and nearest-centroid search); serving never loads it, so it is an optional dependency.
 */
export class FaissUnavailableError extends QuantizerError {
  constructor(cause: unknown) {
    super(
      'E_SETUP',
      `faiss-node could not be loaded (${String((cause as Error)?.message ?? cause).split('\n')[0]}). Building or extending an index needs it (serving does not): ` +
        'in a checkout run `npm run setup`; in a project that installed semrec, install faiss-node and build its addon against libfaiss (see docs/serving.md, "Installing the package")',
      { cause },
    );
  }
}
