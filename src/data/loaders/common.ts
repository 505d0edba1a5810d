/** Helpers shared by the dataset loaders. */
import { decodeHTML } from 'entities';
import type { Interaction, Item, RawDataset } from '../types.js';
import { itemText } from '../types.js';
import { MalformedCollector } from '../malformed.js';
import { InteractionLog } from '../interactions.js';

/** Longest user or item id accepted (characters; the server's request limit is the same). */
const MAX_ID_CHARS = 256;

/**
 * A usable id: 1 to {@link MAX_ID_CHARS} characters, no control character (NUL, tab, newline: they
 * would break interactions.tsv and logs) and no comma (lists of ids are comma-separated on the
 * command line): an id no interface can name is refused where it enters, reported with its line.
 */
function validId(v: unknown): v is string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_ID_CHARS) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f || c === 0x2c) return false;
  }
  return true;
}

/** Normalise an id that may come as a number. */
export function idOf(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string') {
    const t = v.trim();
    return validId(t) ? t : undefined;
  }
  return undefined;
}

/** Parse a timestamp given as a number, numeric string or ISO date; undefined when unusable. */
export function timeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    if (Number.isFinite(n)) return n;
    const d = Date.parse(v);
    if (Number.isFinite(d)) return d / 1000;
  }
  return undefined;
}

/**
 * Clean a text field: HTML entities decoded once (`&amp;` → `&`, `&quot;` → `"`, `&#39;` → `'`;
 * Amazon metadata carries them in 15.8 % of Beauty titles), whitespace collapsed, trimmed.
 */
export function cleanText(s: string): string {
  return decodeHTML(s).replace(/\s+/g, ' ').trim();
}

/** Build an {@link Item} from loose fields (text fields cleaned with {@link cleanText}). */
export function makeItem(id: string, f: { title?: string; brand?: string; categories?: string[]; description?: string; price?: number }): Item {
  const title = cleanText(f.title ?? '');
  const item: Item = { id, title, text: '' };
  if (f.brand) item.brand = cleanText(f.brand);
  if (f.categories && f.categories.length) item.categories = f.categories.map(cleanText).filter(Boolean);
  if (f.description) item.description = cleanText(f.description);
  if (f.price !== undefined && Number.isFinite(f.price)) item.price = f.price;
  item.text = itemText(item) || id;
  return item;
}

/** Mutable state a loader fills. */
export class RawBuilder {
  readonly items = new Map<string, Item>();
  readonly interactions = new InteractionLog();
  readonly malformed = new MalformedCollector();
  private readonly itemLine = new Map<string, string>();
  constructor(readonly source: string) {}

  /** Add an item; a second record with the same id is reported (with both lines) and the first kept. */
  addItem(file: string, line: number, item: Item): void {
    const first = this.itemLine.get(item.id);
    if (first !== undefined) {
      this.malformed.note(file, line, `duplicate item id ${JSON.stringify(item.id)} (first at ${first}): the first record is kept`);
      return;
    }
    this.itemLine.set(item.id, `${file === this.lastItemFile ? '' : `${file} `}line ${line}`.trim());
    this.lastItemFile = file;
    this.items.set(item.id, item);
  }
  private lastItemFile = '';

  /** Add an interaction; an exact repeat (same user, item and time) is reported and dropped. */
  addInteraction(file: string, line: number, x: Interaction): void {
    if (!this.interactions.pushUnique(x)) this.malformed.note(file, line, 'duplicate interaction (same user, item and time as an earlier line): dropped');
  }

  /** Finish into a {@link RawDataset}. */
  build(): RawDataset {
    return { source: this.source, items: this.items, interactions: this.interactions, malformed: this.malformed.summary };
  }
}

/** Short description of a value for error messages. */
export function preview(line: string): string {
  return line.length > 60 ? JSON.stringify(line.slice(0, 60)) + '…' : JSON.stringify(line);
}
