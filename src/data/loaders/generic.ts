/**
 * Generic input: interactions as JSONL (`{"user","item","timestamp"}`), CSV/TSV with a header
 * naming user, item and (optionally) timestamp columns, or Parquet with such columns (told apart by
 * content: Parquet's `PAR1` magic, a `{`, or a header line); items the same way (`id`, `title`, plus
 * optional text, brand, categories — a list or `|`-separated —, description, price).
 * Column aliases: user_id/userId, item_id/itemId/asin, time/ts/timestamp.
 */
import { FormatError } from '../../errors.js';
import { readLines } from '../../util/io.js';
import { delimitedRecords, splitDelimited, sniffSeparator } from '../delimited.js';
import type { RawDataset } from '../types.js';
import { isParquetFile, parquetRecords } from '../parquet.js';
import { RawBuilder, idOf, makeItem, timeOf, preview } from './common.js';

const FORMAT = 'jsonl';
const ALIASES: Record<string, string[]> = {
  user: ['user', 'user_id', 'userid', 'reviewerid'],
  item: ['item', 'item_id', 'itemid', 'asin', 'id'],
  timestamp: ['timestamp', 'time', 'ts', 'unixreviewtime', 'date'],
  title: ['title', 'name'],
};

function pick(rec: Record<string, unknown>, key: string): unknown {
  for (const a of ALIASES[key] ?? [key]) {
    for (const k of Object.keys(rec)) if (k.toLowerCase() === a) return rec[k];
  }
  return undefined;
}

/** Iterate records of a JSONL or delimited file as loose objects; malformed lines are reported. */
async function* records(file: string, b: RawBuilder, what: string): AsyncGenerator<[number, Record<string, unknown>]> {
  if (await isParquetFile(file)) {
    yield* parquetRecords(file); // one row group at a time
    return;
  }
  let header: string[] | undefined;
  // Until a CSV header sets the separator (and always in JSON mode) records are whole lines.
  let sep = '\n';
  let mode: 'json' | 'delimited' | undefined;
  for await (const [n, line, fields] of delimitedRecords(readLines(file), () => sep)) {
    if (!line.trim()) continue;
    if (!mode) mode = line.trimStart().startsWith('{') ? 'json' : 'delimited';
    if (mode === 'json') {
      try {
        const r = JSON.parse(line) as unknown;
        if (typeof r === 'object' && r !== null && !Array.isArray(r)) {
          yield [n, r as Record<string, unknown>];
          continue;
        }
      } catch {
        /* reported below */
      }
      b.malformed.bad(file, n, 'not a JSON object', what);
      continue;
    }
    if (!header) {
      sep = sniffSeparator(line);
      header = (splitDelimited(line, sep) ?? []).map((h) => h.trim());
      if (header.length < 2) throw new FormatError(file, `not a ${what} file: first line is neither JSON nor a CSV/TSV header (${preview(line)})`);
      continue;
    }
    const f = fields;
    if (!f || f.length !== header.length) {
      b.malformed.bad(file, n, f ? `expected ${header.length} fields, got ${f.length}` : 'unclosed quote', what);
      continue;
    }
    const rec: Record<string, unknown> = {};
    header.forEach((h, i) => (rec[h] = f[i]));
    yield [n, rec];
  }
}

/** Load generic interactions (+ optional items). Without timestamps, file order is time. */
export async function loadGeneric(opts: { interactions: string; items?: string }): Promise<RawDataset> {
  const b = new RawBuilder(FORMAT);
  const what = `${FORMAT} interactions (user,item,timestamp)`;
  for await (const [n, r] of records(opts.interactions, b, what)) {
    const user = idOf(pick(r, 'user'));
    const item = idOf(pick(r, 'item'));
    const rawTs = pick(r, 'timestamp');
    const ts = rawTs === undefined ? n : timeOf(rawTs);
    if (!user || !item || ts === undefined) {
      b.malformed.bad(opts.interactions, n, 'missing or invalid user or item, or bad timestamp', what);
      continue;
    }
    b.malformed.ok(opts.interactions);
    b.addInteraction(opts.interactions, n, { user, item, timestamp: ts });
  }
  b.malformed.finish(opts.interactions, what);
  if (opts.items) {
    const iw = `${FORMAT} items (id,title,...)`;
    for await (const [n, r] of records(opts.items, b, iw)) {
      const id = idOf(pick(r, 'item'));
      if (!id) {
        b.malformed.bad(opts.items, n, 'missing or invalid id', iw);
        continue;
      }
      b.malformed.ok(opts.items);
      const str = (k: string) => (typeof r[k] === 'string' && r[k] !== '' ? (r[k] as string) : undefined);
      const cats = r.categories;
      const categories = Array.isArray(cats) ? cats.filter((c): c is string => typeof c === 'string') : typeof cats === 'string' && cats ? cats.split('|') : undefined;
      const title = pick(r, 'title');
      const item = makeItem(id, {
        title: typeof title === 'string' ? title : undefined,
        brand: str('brand'),
        categories,
        description: str('description'),
        price: r.price !== undefined && r.price !== '' ? Number(r.price) : undefined,
      });
      const text = str('text');
      if (text) item.text = text;
      b.addItem(opts.items, n, item);
    }
    b.malformed.finish(opts.items, iw);
  }
  return b.build();
}
