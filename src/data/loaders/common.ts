/** Helpers shared by the dataset loaders. */
import { decodeHTML } from 'entities';
import type { Interaction, Item, RawDataset } from '../types.js';
import { itemText } from '../types.js';
import { MalformedCollector } from '../malformed.js';

/** A usable id: non-empty, no tab or newline (they would break interactions.tsv). */
export function validId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && !/[\t\n\r]/.test(v);
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
  readonly interactions: Interaction[] = [];
  readonly malformed = new MalformedCollector();
  constructor(readonly source: string) {}

  /** Finish into a {@link RawDataset}. */
  build(): RawDataset {
    return { source: this.source, items: this.items, interactions: this.interactions, malformed: this.malformed.summary };
  }
}

/** Short description of a value for error messages. */
export function preview(line: string): string {
  return line.length > 60 ? JSON.stringify(line.slice(0, 60)) + '…' : JSON.stringify(line);
}
