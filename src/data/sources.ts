/**
 * One entry point over all loaders: {@link loadSource} picks the loader for a format name and
 * checks that the files it needs were given.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { InputError } from '../errors.js';
import { loadAmazon2014, loadGeneric, loadMovieLens, loadP5, loadRecbole } from './loaders/index.js';
import type { RawDataset } from './types.js';

/** Supported input formats. */
export const FORMATS = ['amazon2014', 'p5', 'recbole', 'movielens', 'jsonl', 'parquet'] as const;
/** A supported input format. */
export type SourceFormat = (typeof FORMATS)[number];

/** Input files, by role. Which are required depends on the format (see {@link loadSource}). */
export interface SourceFiles {
  /** amazon2014: `reviews_<Cat>_5.json(.gz)` */
  reviews?: string;
  /** amazon2014: `meta_<Cat>.json(.gz)` */
  meta?: string;
  /** p5 (or recbole joined to p5): `sequential_data.txt(.gz)` */
  sequences?: string;
  /** p5: `datamaps.json(.gz)` */
  datamaps?: string;
  /** recbole: `<name>.inter` */
  inter?: string;
  /** p5 / recbole: RecBole `<name>.item`; jsonl: items file (JSONL or CSV) */
  items?: string;
  /** movielens: directory holding ratings.dat and movies.dat */
  dir?: string;
  /** movielens: `ratings.dat` */
  ratings?: string;
  /** movielens: `movies.dat` */
  movies?: string;
  /** jsonl / parquet: interactions file (JSONL, CSV/TSV with a header, or Parquet) */
  interactions?: string;
}

function need(format: string, files: SourceFiles, ...keys: (keyof SourceFiles)[]): void {
  const missing = keys.filter((k) => !files[k]);
  if (missing.length) {
    throw new InputError(`format ${format} needs the source file(s) ${missing.join(', ')}`, { param: missing[0] });
  }
}

async function firstExisting(...cands: string[]): Promise<string | undefined> {
  for (const c of cands) {
    try {
      await fs.access(c);
      return c;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/**
 * Load a source dataset in one of {@link FORMATS}.
 *
 * - `amazon2014`: reviews (+ meta)
 * - `p5`: sequences (+ datamaps, + items = RecBole .item joined through datamaps)
 * - `recbole`: inter (+ items), or sequences + datamaps + items (P5 sequences with RecBole item text)
 * - `movielens`: dir, or ratings (+ movies)
 * - `jsonl` (alias `parquet`): interactions (+ items), each JSONL, CSV/TSV or Parquet
 */
export async function loadSource(format: string, files: SourceFiles): Promise<RawDataset> {
  switch (format) {
    case 'amazon2014':
      need(format, files, 'reviews');
      return loadAmazon2014({ reviews: files.reviews!, meta: files.meta });
    case 'p5':
      need(format, files, 'sequences');
      return loadP5({ sequences: files.sequences!, datamaps: files.datamaps, items: files.items });
    case 'recbole':
      if (files.inter) return loadRecbole({ inter: files.inter, item: files.items });
      if (files.sequences) {
        need(format, files, 'datamaps', 'items');
        const raw = await loadP5({ sequences: files.sequences, datamaps: files.datamaps, items: files.items });
        return { ...raw, source: 'recbole+p5' };
      }
      throw new InputError('format recbole needs inter (with optional items), or sequences, datamaps and items', { param: 'inter' });
    case 'movielens': {
      let { ratings, movies } = files;
      if (files.dir) {
        ratings ??= await firstExisting(path.join(files.dir, 'ratings.dat'), path.join(files.dir, 'ratings.dat.gz'));
        movies ??= await firstExisting(path.join(files.dir, 'movies.dat'), path.join(files.dir, 'movies.dat.gz'));
        if (!ratings) throw new InputError(`dir ${files.dir} has no ratings.dat`, { param: 'dir' });
      }
      need(format, { ...files, ratings }, 'ratings');
      return loadMovieLens({ ratings: ratings!, movies });
    }
    case 'jsonl':
    case 'parquet': // the same loader: it tells JSONL, CSV/TSV and Parquet apart by content
      need(format, files, 'interactions');
      return loadGeneric({ interactions: files.interactions!, items: files.items });
    default:
      throw new InputError(`unknown format ${JSON.stringify(format)}; expected one of ${FORMATS.join(', ')}`, { param: 'format' });
  }
}
