/**
 * Incremental add: give new items IDs with the existing index, without retraining. Existing
 * items never change their tuple (nor their row); the result stays collision-free, is a new index
 * version and records the old index's hash in its lineage, so models trained on it serve it.
 * Retired items keep their tuples: a new item never gets one. How each scheme places new items is
 * the scheme's `assign` (quantizer/schemes/): semantic schemes encode them with the stored
 * codebooks; sequential continues the numbering; random and collab take a random free tuple.
 */
import type { ItemIndex, NewItems } from './item-index.js';

export type { NewItems } from './item-index.js';

/** Return a new index with `items` added (same as `index.assign(items, opts)`). */
export function assignItems(index: ItemIndex, items: NewItems, opts: { seed?: number } = {}): ItemIndex {
  return index.assign(items, opts);
}
