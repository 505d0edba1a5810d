/**
 * Token layout shared by the index, the generator and decoding: special tokens first
 * (PAD=0, BOS=1, EOS=2, SEP=3), then one contiguous range per code level;
 * `token = offsets[level] + code`.
 */
import { DecodingInputError } from './errors.js';

/** Special token ids. */
export const SPECIAL_TOKENS = { PAD: 0, BOS: 1, EOS: 2, SEP: 3 } as const;
/** Number of special tokens before the first level. */
export const NUM_SPECIAL = 4;

/** Serializable description of a token layout. */
export interface TokenLayoutSpec {
  /** Codes per level. */
  sizes: number[];
  /** First token id of each level. */
  offsets: number[];
  /** Total vocabulary size. */
  vocabSize: number;
  specials: typeof SPECIAL_TOKENS;
}

/** Maps (level, code) ↔ token id. */
export class TokenLayout {
  readonly offsets: readonly number[];
  readonly vocabSize: number;
  readonly levels: number;

  constructor(readonly sizes: readonly number[]) {
    if (!sizes.length || sizes.some((k) => !Number.isInteger(k) || k < 1)) throw new DecodingInputError(`bad codebook sizes [${sizes.join(', ')}]`);
    const offsets: number[] = [];
    let o = NUM_SPECIAL;
    for (const k of sizes) {
      offsets.push(o);
      o += k;
    }
    this.offsets = offsets;
    this.vocabSize = o;
    this.levels = sizes.length;
  }

  /** Rebuild from a spec (checks it is the canonical layout for its sizes). */
  static fromSpec(spec: TokenLayoutSpec): TokenLayout {
    const t = new TokenLayout(spec.sizes);
    if (t.vocabSize !== spec.vocabSize || t.offsets.some((o, i) => o !== spec.offsets[i])) {
      throw new DecodingInputError('token layout offsets/vocabulary do not match its codebook sizes');
    }
    return t;
  }

  /** Token id of `code` at `level`. */
  token(level: number, code: number): number {
    return this.offsets[level] + code;
  }

  /** Tokens of a whole tuple. */
  tokens(codes: ArrayLike<number>): number[] {
    return Array.from(codes, (c, l) => this.offsets[l] + c);
  }

  /** (level, code) of a token, or undefined for special / out-of-range tokens. */
  decode(token: number): { level: number; code: number } | undefined {
    for (let l = this.levels - 1; l >= 0; l--) {
      if (token >= this.offsets[l]) return token < this.offsets[l] + this.sizes[l] ? { level: l, code: token - this.offsets[l] } : undefined;
    }
    return undefined;
  }

  /**
   * The prompt format of semrec's own models (training, validation and serving all use it):
   * BOS, then the tuples of the last `maxHistory` items of `rows` (oldest first), where `codes` is
   * the index's row-major n × levels code matrix.
   */
  prompt(codes: ArrayLike<number>, rows: readonly number[], maxHistory = rows.length): Int32Array {
    const L = this.levels;
    const recent = maxHistory < rows.length ? rows.slice(rows.length - maxHistory) : rows;
    const p = new Int32Array(1 + recent.length * L);
    p[0] = SPECIAL_TOKENS.BOS;
    recent.forEach((r, i) => {
      for (let l = 0; l < L; l++) p[1 + i * L + l] = this.offsets[l] + codes[r * L + l];
    });
    return p;
  }

  /** Serializable form (stored in model directories). */
  spec(): TokenLayoutSpec {
    return { sizes: [...this.sizes], offsets: [...this.offsets], vocabSize: this.vocabSize, specials: { ...SPECIAL_TOKENS } };
  }
}
