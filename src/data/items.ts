/**
 * Reading item catalogues for indexing: a normalised `items.jsonl` (`{"id","title","text",...}`),
 * any JSONL with an `id` and some text fields, or a dataset directory (its items and train split).
 */
import { promises as fs } from 'node:fs';
import { fsError } from '../../quantizer/core/index.js';
import { FormatError } from '../errors.js';
import { readLines } from '../util/io.js';
import { MalformedCollector } from './malformed.js';
import { loadDataset } from './store.js';
import type { Item, MalformedReport } from './types.js';
import { cleanText, idOf, makeItem } from './loaders/common.js';

/** Items plus, when read from a dataset directory, its training sequences. */
export interface Catalogue {
  items: Item[];
  sequences?: string[][];
  malformed: MalformedReport;
}

/** Read items from a JSONL file or a dataset directory. Duplicate ids are a {@link FormatError}. */
export async function readCatalogue(fileOrDir: string): Promise<Catalogue> {
  const st = await fs.stat(fileOrDir).catch((err: unknown) => {
    throw fsError(err, fileOrDir, 'items file or dataset directory');
  });
  if (st.isDirectory()) {
    const ds = await loadDataset(fileOrDir);
    return { items: ds.items, sequences: ds.train.map((s) => s.items), malformed: { count: 0, examples: [] } };
  }
  const mal = new MalformedCollector();
  const items: Item[] = [];
  const seen = new Set<string>();
  const what = 'items JSONL ({"id","title","text"})';
  for await (const [n, line] of readLines(fileOrDir)) {
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw new Error();
    } catch {
      mal.bad(fileOrDir, n, 'not a JSON object', what);
      continue;
    }
    const id = idOf(r.id ?? r.item_id ?? r.asin);
    if (!id) {
      mal.bad(fileOrDir, n, 'missing or invalid id', what);
      continue;
    }
    if (seen.has(id)) throw new FormatError(fileOrDir, `line ${n}: duplicate item id ${JSON.stringify(id)}`);
    seen.add(id);
    mal.ok(fileOrDir);
    const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
    const item = makeItem(id, {
      title: str('title'),
      brand: str('brand'),
      categories: Array.isArray(r.categories) ? r.categories.filter((c): c is string => typeof c === 'string') : undefined,
      description: str('description'),
      price: typeof r.price === 'number' ? r.price : undefined,
    });
    if (str('text')) item.text = cleanText(str('text')!);
    items.push(item);
  }
  mal.finish(fileOrDir, what);
  if (items.length === 0) throw new FormatError(fileOrDir, 'no items');
  return { items, malformed: mal.summary };
}

