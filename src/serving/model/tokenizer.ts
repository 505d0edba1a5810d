/**
 * The ID tokenizer of a model directory: `tokenizer.json` + `tokenizer_config.json` in the
 * Hugging Face format, loadable by @huggingface/tokenizers (and by Python `tokenizers`). Every
 * token is an added token: specials `<pad> <bos> <eos> <sep>` (ids 0-3), then `<a_0>…` for level
 * 0, `<b_0>…` for level 1, and so on — exactly the {@link TokenLayout}.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenLayout } from '../../../decoding/index.js';
import { ModelError } from '../../errors.js';

/** Special token strings, in id order. */
const SPECIAL_STRINGS = ['<pad>', '<bos>', '<eos>', '<sep>'];

/** String form of a code at a level: `<a_12>`. */
export function idToken(level: number, code: number): string {
  if (level >= 26) throw new ModelError('at most 26 levels have token names');
  return `<${String.fromCharCode(97 + level)}_${code}>`;
}

/** The vocabulary (id → string) of a layout. */
export function vocabulary(layout: TokenLayout): string[] {
  const v = [...SPECIAL_STRINGS];
  layout.sizes.forEach((k, l) => {
    for (let c = 0; c < k; c++) v.push(idToken(l, c));
  });
  return v;
}

/**
 * A tokenizer.json whose every token is a whole-word added token: `vocab[id]` is token `id`; the
 * first `specials` are special; ids in [`specials`, `plainFrom`) are plain vocabulary words (a text
 * vocabulary), the rest added tokens. `unk` names the unknown token.
 */
export function addedTokensJson(vocab: readonly string[], opts: { specials: number; unk: string; plainFrom?: number }): string {
  const plainFrom = opts.plainFrom ?? opts.specials;
  return JSON.stringify({
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: vocab
      .map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: id < opts.specials }))
      .filter((t) => t.id < opts.specials || t.id >= plainFrom),
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordPiece', unk_token: opts.unk, continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  });
}

/** tokenizer.json and tokenizer_config.json contents for a layout. */
export function tokenizerFiles(layout: TokenLayout): { 'tokenizer.json': string; 'tokenizer_config.json': string } {
  const json = addedTokensJson(vocabulary(layout), { specials: SPECIAL_STRINGS.length, unk: '<pad>' });
  const config = { bos_token: '<bos>', eos_token: '<eos>', pad_token: '<pad>', sep_token: '<sep>', model_max_length: 1024, tokenizer_class: 'PreTrainedTokenizerFast' };
  return { 'tokenizer.json': json, 'tokenizer_config.json': JSON.stringify(config, null, 2) };
}

/** The ID tokens of a tuple, e.g. `<a_12><b_3><c_0>`. */
export function tupleTokens(codes: ArrayLike<number>): string {
  return Array.from(codes, (c, l) => idToken(l, c)).join('');
}

/** Load a tokenizer from the two JSON texts. */
export function loadTokenizer(tokenizerJson: string, configJson: string): Tokenizer {
  return new Tokenizer(JSON.parse(tokenizerJson), JSON.parse(configJson));
}
