/**
 * Text prompts of a generator fine-tuned from a language-model checkpoint: one definition, used to
 * build the training examples and every serving request, so that the model is served exactly the
 * token sequences it was trained on.
 *
 * A {@link PromptSpec} renders a history (oldest first) as
 * `template` with `{items}` replaced by the items joined with `separator`, each item rendered by
 * `item` (`{title}`: its title, cut to `titleWords` words; `{ids}`: its ID tokens `<a_3><b_7>…`).
 * The default reads `The user bought: Lip gloss, pink <a_3><b_7><c_1>; … . Next:`.
 *
 * The prompt is tokenised **piece by piece** — the text before `{items}`, each item, each
 * separator, the text after — and the pieces' token ids are concatenated: an item's tokens never
 * depend on its neighbours, are computed once per item, and dropping the oldest items to fit the
 * model's positions is exact.
 */
import type { Tokenizer } from '@huggingface/tokenizers';
import { InputError } from '../../errors.js';
import { tupleTokens } from './tokenizer.js';

/** How a history is written as text (see the module doc). */
export interface PromptSpec {
  /** The whole prompt; `{items}` (exactly once) is replaced by the rendered items. */
  template: string;
  /** One item; `{title}` and / or `{ids}`. */
  item: string;
  /** Text between two items. */
  separator: string;
  /** Words of a title kept (the first ones; default 12). */
  titleWords: number;
}

/** The default prompt: titles and ID tokens of the history, then `Next:`. */
export const DEFAULT_PROMPT: PromptSpec = { template: 'The user bought: {items}. Next:', item: '{title} {ids}', separator: '; ', titleWords: 12 };

/** A prompt spec with defaults filled in, checked (InputError naming the field). */
export function promptSpec(p: Partial<PromptSpec> = {}): PromptSpec {
  const spec = { ...DEFAULT_PROMPT, ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as PromptSpec;
  if (typeof spec.template !== 'string' || spec.template.split('{items}').length !== 2) throw new InputError(`the prompt template must contain {items} exactly once, got ${JSON.stringify(spec.template)}`, { param: 'prompt' });
  if (typeof spec.item !== 'string' || !(spec.item.includes('{ids}') || spec.item.includes('{title}'))) throw new InputError(`the item template must contain {ids} and / or {title}, got ${JSON.stringify(spec.item)}`, { param: 'itemPrompt' });
  if (typeof spec.separator !== 'string') throw new InputError('the item separator must be a string', { param: 'separator' });
  if (!Number.isInteger(spec.titleWords) || spec.titleWords < 1) throw new InputError(`titleWords must be a positive integer, got ${spec.titleWords}`, { param: 'titleWords' });
  return spec;
}

/** Whether a spec writes titles (the model directory then stores them). */
export function usesTitles(spec: PromptSpec): boolean {
  return spec.item.includes('{title}');
}

/**
 * A title as written in a prompt: whitespace collapsed, the first `words` words; anything that
 * reads as an ID token (`<a_12>`) gets a space after its `<` so the tokenizer never takes a
 * title's text for an item's ID.
 */
export function cleanTitle(title: string, words: number): string {
  return title
    .replace(/<([a-z])_(\d+)>/g, '< $1_$2>')
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, words)
    .join(' ');
}

/** One item rendered by the spec's item template (a missing title renders as empty text, whitespace trimmed). */
function renderItem(spec: PromptSpec, item: { title?: string; codes: ArrayLike<number> }): string {
  const title = cleanTitle(item.title ?? '', spec.titleWords);
  return spec.item
    .split('{title}')
    .map((s) => s.split('{ids}').join(tupleTokens(item.codes)))
    .join(title)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The whole prompt as text (for logs and docs; the token ids come from {@link PromptEncoder}). */
export function renderPrompt(spec: PromptSpec, items: readonly { title?: string; codes: ArrayLike<number> }[]): string {
  const [before, after] = spec.template.split('{items}');
  return before + items.map((it) => renderItem(spec, it)).join(spec.separator) + after;
}

/** What a {@link PromptEncoder} reads an item from: its title (may be absent) and its code tuple. */
export type ItemSource = (row: number) => { title?: string; codes: ArrayLike<number> };

/** Token ids of prompts for histories of item rows (see the module doc). */
export class PromptEncoder {
  private readonly before: number[];
  private readonly after: number[];
  private readonly sep: number[];
  private readonly cache = new Map<number, number[]>();

  /**
   * @param maxTokens the longest prompt: the oldest items are dropped until it fits (a prompt
   *   with a single item that does not fit is an InputError)
   * @param prefix token ids before the text (e.g. the tokenizer's BOS)
   */
  constructor(
    readonly spec: PromptSpec,
    private readonly tok: Tokenizer,
    private readonly item: ItemSource,
    private readonly maxTokens: number,
    prefix: readonly number[] = [],
  ) {
    const [before, after] = spec.template.split('{items}');
    this.before = [...prefix, ...this.ids(before)];
    this.after = this.ids(after);
    this.sep = this.ids(spec.separator);
  }

  private ids(text: string): number[] {
    return text ? this.tok.encode(text, { add_special_tokens: false }).ids : [];
  }

  /** Token ids of one item (cached per row). */
  itemIds(row: number): number[] {
    let ids = this.cache.get(row);
    if (!ids) this.cache.set(row, (ids = this.ids(renderItem(this.spec, this.item(row)))));
    return ids;
  }

  /** The prompt of the last items of `rows` (oldest first) that fit `maxTokens`. */
  encode(rows: readonly number[]): Int32Array {
    const parts: number[][] = [];
    let total = this.before.length + this.after.length;
    for (let i = rows.length - 1; i >= 0; i--) {
      const ids = this.itemIds(rows[i]);
      const add = ids.length + (parts.length ? this.sep.length : 0);
      if (total + add > this.maxTokens) break;
      parts.push(ids);
      total += add;
    }
    if (!parts.length && rows.length) throw new InputError(`a prompt with one history item takes more than the model's ${this.maxTokens} prompt tokens`);
    parts.reverse();
    const out = new Int32Array(total);
    let o = 0;
    const put = (ids: readonly number[]) => {
      out.set(ids, o);
      o += ids.length;
    };
    put(this.before);
    parts.forEach((p, i) => {
      if (i) put(this.sep);
      put(p);
    });
    put(this.after);
    return out;
  }
}
