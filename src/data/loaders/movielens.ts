/**
 * MovieLens-1M: `ratings.dat` (`UserID::MovieID::Rating::Timestamp`) and `movies.dat`
 * (`MovieID::Title::Genre|Genre`), `::`-separated and Latin-1 encoded.
 */
import type { RawDataset } from '../types.js';
import { readLines } from '../../util/io.js';
import { RawBuilder, idOf, makeItem, timeOf } from './common.js';

const FORMAT = 'movielens';

/** Load MovieLens-1M ratings (+ optional movies). Every rating counts as an interaction. */
export async function loadMovieLens(opts: { ratings: string; movies?: string }): Promise<RawDataset> {
  const b = new RawBuilder(FORMAT);
  for await (const [n, line] of readLines(opts.ratings, { encoding: 'latin1' })) {
    if (!line.trim()) continue;
    const f = line.split('::');
    const user = idOf(f[0]);
    const item = idOf(f[1]);
    const ts = timeOf(f[3]);
    if (f.length !== 4 || !user || !item || ts === undefined || !/^\d+$/.test(f[0]) || !/^\d+$/.test(f[1])) {
      b.malformed.bad(opts.ratings, n, 'expected UserID::MovieID::Rating::Timestamp', `${FORMAT} ratings.dat`);
      continue;
    }
    b.malformed.ok(opts.ratings);
    b.addInteraction(opts.ratings, n, { user, item, timestamp: ts });
  }
  b.malformed.finish(opts.ratings, `${FORMAT} ratings.dat`);
  if (opts.movies) {
    for await (const [n, line] of readLines(opts.movies, { encoding: 'latin1' })) {
      if (!line.trim()) continue;
      const f = line.split('::');
      const id = idOf(f[0]);
      if (f.length !== 3 || !id || !/^\d+$/.test(id) || !f[1].trim()) {
        b.malformed.bad(opts.movies, n, 'expected MovieID::Title::Genres', `${FORMAT} movies.dat`);
        continue;
      }
      b.malformed.ok(opts.movies);
      b.addItem(opts.movies, n, makeItem(id, { title: f[1], categories: f[2].split('|').filter(Boolean) }));
    }
    b.malformed.finish(opts.movies, `${FORMAT} movies.dat`);
  }
  return b.build();
}
