/**
 * Amazon Reviews 2014 (McAuley et al.): `reviews_<Cat>_5.json.gz` (one JSON object per line with
 * `reviewerID`, `asin`, `unixReviewTime`) and `meta_<Cat>.json.gz` (one *Python dict literal* per
 * line: `{'asin': ..., 'title': ..., 'categories': [[...]], 'brand': ..., 'description': ...}`).
 */
import type { RawDataset } from '../types.js';
import { readLines } from '../../util/io.js';
import { parsePyLiteral, type PyValue } from '../pyliteral.js';
import { RawBuilder, idOf, makeItem, timeOf } from './common.js';

const FORMAT = 'amazon2014';

/** Load Amazon 2014 reviews (+ optional metadata). Either file may be gzip-compressed. */
export async function loadAmazon2014(opts: { reviews: string; meta?: string }): Promise<RawDataset> {
  const b = new RawBuilder(FORMAT);
  for await (const [n, line] of readLines(opts.reviews)) {
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      b.malformed.bad(opts.reviews, n, 'not JSON', `${FORMAT} reviews`);
      continue;
    }
    const user = idOf(r?.reviewerID);
    const item = idOf(r?.asin);
    const ts = timeOf(r?.unixReviewTime);
    if (!user || !item || ts === undefined) {
      b.malformed.bad(opts.reviews, n, 'missing or invalid reviewerID, asin or unixReviewTime', `${FORMAT} reviews`);
      continue;
    }
    b.malformed.ok(opts.reviews);
    b.addInteraction(opts.reviews, n, { user, item, timestamp: ts });
  }
  b.malformed.finish(opts.reviews, `${FORMAT} reviews`);
  if (opts.meta) {
    for await (const [n, line] of readLines(opts.meta)) {
      if (!line.trim()) continue;
      let m: PyValue;
      try {
        m = parsePyLiteral(line);
      } catch (err) {
        b.malformed.bad(opts.meta, n, `not a Python dict literal (${(err as Error).message})`, `${FORMAT} meta`);
        continue;
      }
      if (typeof m !== 'object' || m === null || Array.isArray(m)) {
        b.malformed.bad(opts.meta, n, 'not a dict', `${FORMAT} meta`);
        continue;
      }
      const id = idOf(m.asin);
      if (!id) {
        b.malformed.bad(opts.meta, n, 'missing or invalid asin', `${FORMAT} meta`);
        continue;
      }
      b.malformed.ok(opts.meta);
      // categories: list of category paths; keep the first (most specific listing first in the data).
      let categories: string[] | undefined;
      if (Array.isArray(m.categories) && m.categories.length) {
        const first = m.categories[0];
        categories = Array.isArray(first) ? first.filter((c): c is string => typeof c === 'string') : undefined;
      }
      b.addItem(
        opts.meta,
        n,
        makeItem(id, {
          title: typeof m.title === 'string' ? m.title : undefined,
          brand: typeof m.brand === 'string' ? m.brand : undefined,
          categories,
          description: typeof m.description === 'string' ? m.description : undefined,
          price: typeof m.price === 'number' ? m.price : undefined,
        }),
      );
    }
    b.malformed.finish(opts.meta, `${FORMAT} meta`);
  }
  return b.build();
}
