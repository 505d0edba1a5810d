/**
 * RecBole atomic files: tab-separated with a typed header (`user_id:token`, `item_id:token`,
 * `timestamp:float`, `title:token`, `categories:token_seq`, ...); fields may be CSV-quoted.
 * `<name>.inter` holds interactions, `<name>.item` item features.
 */
import { FormatError } from '../../errors.js';
import { readLines } from '../../util/io.js';
import { delimitedRecords, splitDelimited } from '../delimited.js';
import { parsePyLiteral } from '../pyliteral.js';
import type { Item, RawDataset } from '../types.js';
import { RawBuilder, idOf, makeItem, timeOf, preview } from './common.js';
import type { MalformedCollector } from '../malformed.js';

const FORMAT = 'recbole';

interface Header {
  names: string[];
  index: (name: string) => number;
}

function parseHeader(file: string, line: string, kind: string): Header {
  const cols = splitDelimited(line, '\t');
  if (!cols || !cols.every((c) => /^[^:\s]+:(token|token_seq|float|float_seq)$/.test(c))) {
    throw new FormatError(file, `not a RecBole atomic ${kind} file: the first line must be a typed header like "item_id:token\\ttitle:token", got ${preview(line)}`);
  }
  const names = cols.map((c) => c.slice(0, c.indexOf(':')));
  return { names, index: (name) => names.indexOf(name) };
}

/**
 * A RecBole `token_seq` value. Amazon-derived files write lists as Python-quoted strings
 * (`'Beauty', 'Fragrance', "Women's"`); otherwise tokens are space-separated.
 */
export function parseTokenSeq(v: string): string[] {
  const t = v.trim();
  if (!t) return [];
  if (/^['"]/.test(t)) {
    try {
      const parsed = parsePyLiteral(`[${t}]`);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed as string[];
    } catch {
      /* fall through to whitespace split */
    }
  }
  return t.split(/\s+/);
}

/** Read a RecBole `.item` file into a map of items (id → item). */
export async function readRecboleItems(file: string, malformed: MalformedCollector): Promise<Map<string, Item>> {
  const items = new Map<string, Item>();
  let header: Header | undefined;
  for await (const [n, line, f] of delimitedRecords(readLines(file), () => '\t')) {
    if (!header) {
      header = parseHeader(file, line, 'item');
      if (header.index('item_id') < 0) throw new FormatError(file, 'RecBole item file has no item_id column');
      continue;
    }
    if (!line.trim()) continue;
    if (!f || f.length !== header.names.length) {
      malformed.bad(file, n, f ? `expected ${header.names.length} fields, got ${f.length}` : 'unclosed quote', `${FORMAT} item`);
      continue;
    }
    const get = (name: string): string | undefined => {
      const i = header!.index(name);
      return i >= 0 && f[i] !== '' ? f[i] : undefined;
    };
    const id = idOf(get('item_id'));
    if (!id) {
      malformed.bad(file, n, 'empty or invalid item_id', `${FORMAT} item`);
      continue;
    }
    malformed.ok(file);
    if (items.has(id)) {
      malformed.note(file, n, `duplicate item id ${JSON.stringify(id)}: the first record is kept`);
      continue;
    }
    const price = get('price');
    const cats = get('categories');
    items.set(
      id,
      makeItem(id, {
        title: get('title') ?? get('movie_title'),
        brand: get('brand'),
        categories: cats ? parseTokenSeq(cats) : undefined,
        description: get('description'),
        price: price !== undefined ? Number(price) : undefined,
      }),
    );
  }
  if (!header) throw new FormatError(file, 'empty file');
  malformed.finish(file, `${FORMAT} item`);
  return items;
}

/** Load RecBole `.inter` (+ optional `.item`). Without a timestamp column, file order is time. */
export async function loadRecbole(opts: { inter: string; item?: string }): Promise<RawDataset> {
  const b = new RawBuilder(FORMAT);
  let header: Header | undefined;
  let ui = -1;
  let ii = -1;
  let ti = -1;
  for await (const [n, line, f] of delimitedRecords(readLines(opts.inter), () => '\t')) {
    if (!header) {
      header = parseHeader(opts.inter, line, 'interaction');
      ui = header.index('user_id');
      ii = header.index('item_id');
      ti = header.index('timestamp');
      if (ui < 0 || ii < 0) throw new FormatError(opts.inter, 'RecBole inter file needs user_id and item_id columns');
      continue;
    }
    if (!line.trim()) continue;
    if (!f || f.length !== header.names.length) {
      b.malformed.bad(opts.inter, n, f ? `expected ${header.names.length} fields, got ${f.length}` : 'unclosed quote', `${FORMAT} inter`);
      continue;
    }
    const user = idOf(f[ui]);
    const item = idOf(f[ii]);
    const ts = ti >= 0 ? timeOf(f[ti]) : n;
    if (!user || !item || ts === undefined) {
      b.malformed.bad(opts.inter, n, 'empty or invalid user_id/item_id, or bad timestamp', `${FORMAT} inter`);
      continue;
    }
    b.malformed.ok(opts.inter);
    b.addInteraction(opts.inter, n, { user, item, timestamp: ts });
  }
  if (!header) throw new FormatError(opts.inter, 'empty file');
  b.malformed.finish(opts.inter, `${FORMAT} inter`);
  if (opts.item) for (const [id, it] of await readRecboleItems(opts.item, b.malformed)) b.items.set(id, it);
  return b.build();
}
