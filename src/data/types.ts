/**
 * The normalised dataset form every loader produces: items with text, and timestamped
 * interactions, plus a record of malformed input lines.
 */
import type { Interaction, InteractionLog } from './interactions.js';

export type { Interaction } from './interactions.js';

/** One catalogue item. `text` is what content encoders embed. */
export interface Item {
  /** Stable item id (e.g. the Amazon ASIN, the MovieLens movie id). */
  id: string;
  /** Human-readable title ('' when the source has none). */
  title: string;
  /** Text used for content embeddings: title, brand, categories, description joined. */
  text: string;
  brand?: string;
  /** Category path, most general first. */
  categories?: string[];
  description?: string;
  price?: number;
}


/** A malformed input line. */
export interface MalformedLine {
  file: string;
  /** 1-based line number. */
  line: number;
  reason: string;
}

/** Summary of malformed lines: the total count and the first few, with line numbers. */
export interface MalformedReport {
  count: number;
  examples: MalformedLine[];
}

/** What a loader returns before filtering and splitting. */
export interface RawDataset {
  /** Which loader produced it, e.g. `amazon2014`. */
  source: string;
  /** Item metadata keyed by id. Interactions may reference items absent here. */
  items: Map<string, Item>;
  /**
   * Interactions in input order: the loaders' typed-array log (interactions.ts), or an array of
   * objects (a dataset built by hand).
   */
  interactions: InteractionLog | readonly Interaction[];
  malformed: MalformedReport;
}

/** Build an item's `text` field from its parts (empty parts are skipped). */
export function itemText(parts: { title?: string; brand?: string; categories?: string[]; description?: string }): string {
  const out: string[] = [];
  if (parts.title) out.push(parts.title);
  if (parts.brand) out.push(`Brand: ${parts.brand}`);
  if (parts.categories && parts.categories.length) out.push(`Category: ${parts.categories.join(' > ')}`);
  if (parts.description) out.push(parts.description);
  return out.join('. ').replace(/\s+/g, ' ').trim();
}
