/**
 * The P5 / "How to Index Item IDs" preprocessed form: `sequential_data.txt` with one line per
 * user, `user_id item_id item_id ...` (chronological), plus `datamaps.json` mapping P5's integer
 * ids back to the original ids (`id2item`: P5 id → ASIN, `id2user`). Item text can be joined from
 * a RecBole `.item` file keyed by the original id (that is what `../shared/data/amazon-beauty` holds).
 */
import { FormatError } from '../../errors.js';
import { readJson, readLines } from '../../util/io.js';
import type { RawDataset } from '../types.js';
import { RawBuilder, idOf } from './common.js';
import { readRecboleItems } from './recbole.js';

const FORMAT = 'p5';
const TOKEN = /^[A-Za-z0-9_.:-]+$/;

/** Load P5 sequences, mapping ids through datamaps (when given) and joining RecBole item text. */
export async function loadP5(opts: { sequences: string; datamaps?: string; items?: string }): Promise<RawDataset> {
  const b = new RawBuilder(FORMAT);
  let id2item: Record<string, string> | undefined;
  let id2user: Record<string, string> | undefined;
  if (opts.datamaps) {
    const dm = (await readJson(opts.datamaps)) as Record<string, unknown> | null;
    if (!dm || typeof dm !== 'object' || typeof dm.id2item !== 'object' || dm.id2item === null) {
      throw new FormatError(opts.datamaps, 'not a P5 datamaps.json: no "id2item" object');
    }
    id2item = dm.id2item as Record<string, string>;
    id2user = typeof dm.id2user === 'object' && dm.id2user !== null ? (dm.id2user as Record<string, string>) : undefined;
  }
  for await (const [n, line] of readLines(opts.sequences)) {
    if (!line.trim()) continue;
    const parts = line.trim().split(/\s+/);
    if (!parts.every((p) => TOKEN.test(p))) {
      b.malformed.bad(opts.sequences, n, 'ids must be plain tokens (letters, digits, _ . : -)', `${FORMAT} sequential_data`);
      continue;
    }
    if (parts.length < 2) {
      b.malformed.bad(opts.sequences, n, 'a user with no items', `${FORMAT} sequential_data`);
      continue;
    }
    const user = idOf(id2user?.[parts[0]] ?? parts[0]);
    const mapped = parts.slice(1).map((p) => (id2item ? id2item[p] : p));
    const bad = mapped.findIndex((m) => !idOf(m));
    if (!user || bad >= 0) {
      b.malformed.bad(opts.sequences, n, user ? `item ${parts[bad + 1]} is not in datamaps id2item` : 'bad user id', `${FORMAT} sequential_data`);
      continue;
    }
    b.malformed.ok(opts.sequences);
    // P5 files carry no timestamps: the position in the line is the time.
    mapped.forEach((item, pos) => b.interactions.push({ user, item: item!, timestamp: pos }));
  }
  b.malformed.finish(opts.sequences, `${FORMAT} sequential_data`);
  if (opts.items) for (const [id, it] of await readRecboleItems(opts.items, b.malformed)) b.items.set(id, it);
  return b.build();
}
