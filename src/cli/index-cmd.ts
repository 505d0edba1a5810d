/** `semrec index build|add|stats|lookup|dump`. */
import type { Command } from 'commander';
import { loadIndex, type CollisionMode } from '../../quantizer/index.js';
import { readCatalogue } from '../data/items.js';
import { loadDataset } from '../data/store.js';
import type { EmbeddingSource } from '../indexing/embed/index.js';
import { InputError, NotFoundError } from '../errors.js';
import { addItemsJob, buildIndexJob, removeItemsJob } from '../indexing/jobs.js';
import { stagedProgress } from '../util/progress.js';
import { MAX_LIST_FILE_BYTES } from '../util/io.js';
import { readRegularText } from '../../quantizer/core/index.js';
import { intOpt, reportMalformed } from './common.js';

function embeddingSource(
  flags: { embeddings?: string; encoder?: string; dim?: string; seed?: string; embed?: string; cfDim?: string; cfWindow?: string },
  sequences: string[][] | undefined,
): EmbeddingSource | undefined {
  if (flags.embeddings && flags.encoder) throw new InputError('give either --embeddings or --encoder, not both');
  const embed = flags.embed ?? 'text';
  if (embed !== 'text' && embed !== 'cf' && embed !== 'text+cf') throw new InputError(`--embed must be text, cf or text+cf, got ${JSON.stringify(embed)}`);
  if (embed !== 'text') {
    if (flags.embeddings || flags.encoder) throw new InputError(`--embed ${embed} uses the built-in text encoder; it cannot be combined with --embeddings or --encoder`);
    if (!sequences) throw new InputError(`--embed ${embed} needs training sequences: give a dataset directory as --items or pass --data`);
    return { kind: embed, sequences, textDim: intOpt('--dim', flags.dim, 1), dim: intOpt('--cf-dim', flags.cfDim, 1), window: intOpt('--cf-window', flags.cfWindow, 1), seed: intOpt('--seed', flags.seed, 0) };
  }
  if (flags.embeddings) return { kind: 'file', file: flags.embeddings };
  if (flags.encoder) return { kind: 'onnx', dir: flags.encoder };
  return flags.dim || flags.seed ? { kind: 'tfidf', dim: intOpt('--dim', flags.dim, 1), seed: intOpt('--seed', flags.seed, 0) } : undefined;
}

function collisionsOpt(v: string | undefined): CollisionMode | undefined {
  if (v === undefined) return undefined;
  if (v !== 'extra-level' && v !== 'reassign') throw new InputError(`--collisions must be extra-level or reassign, got ${JSON.stringify(v)}`);
  return v;
}

/** Say which input lines were skipped (count + first examples); with --strict refuse them. */
/** Register the `index` command group. */
export function registerIndex(program: Command): void {
  const index = program.command('index').description('build, extend and inspect semantic-ID indexes');

  index
    .command('build')
    .description('give every item a collision-free code tuple')
    .requiredOption('--items <path>', 'items.jsonl, or a dataset directory (items + training sequences)')
    .option('--data <dir>', 'dataset directory with training sequences (sequential, collab, hybrid)')
    .option('--embeddings <file>', 'precomputed embeddings (.npy float32/float64 or .f32), rows in items order')
    .option('--encoder <dir>', 'ONNX sentence encoder directory (model.onnx + tokenizer.json)')
    .option('--dim <n>', 'TF-IDF + SVD embedding dimension for the built-in encoder (default 64)')
    .option('--embed <source>', 'text | cf | text+cf: built-in item embeddings from item text, from co-occurrence in the training sequences, or both (default text)')
    .option('--cf-dim <n>', 'collaborative embedding dimension (default 64)')
    .option('--cf-window <n>', 'co-occurrence window in positions (default 3)')
    .option('--scheme <factory>', 'rqkmeans:LxK | rqvae:LxK | random:LxK | sequential:LxK | collab:LxK | hybrid:LxK', 'rqkmeans:3x256')
    .option('--rqvae-epochs <n>', 'rqvae: training epochs (default 300)')
    .option('--rqvae-latent <n>', 'rqvae: latent width (default 32)')
    .option('--device <name>', 'rqvae: cpu | cuda | cuda:N (default cpu)')
    .option('--collisions <mode>', 'extra-level | reassign (default extra-level)')
    .option('--balanced', 'capacity-balanced k-means assignment at each level')
    .option('--iterations <n>', 'k-means iterations per level (default 20)')
    .option('--extra-level-size <n>', 'codes in the disambiguation level (default: max(8, 2 × largest group, rounded up to a power of two))')
    .option('--seed <n>', 'random seed (default 0)')
    .option('--train-sample <n>', 'rqkmeans: train the codebooks on a seeded random sample of N items, then assign every item in chunks (with --embeddings FILE the file is read in pieces: a build beyond memory)')
    .option('--chunk-rows <n>', 'rqkmeans with --train-sample: items assigned per chunk (default 65536)')
    .requiredOption('--out <dir>', 'output index directory (written atomically)')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not an index directory)')
    .option('--strict', 'refuse an items file with malformed lines instead of skipping them')
    .option('--allow-degenerate', 'save an index whose IDs carry no information (most items on one tuple, ...) instead of refusing it')
    .action(async (flags) => {
      const cat = await readCatalogue(flags.items);
      reportMalformed(flags.items, cat.malformed, !!flags.strict);
      let sequences = cat.sequences;
      if (flags.data) sequences = (await loadDataset(flags.data)).train.map((s) => s.items);
      const p = stagedProgress();
      const t0 = Date.now();
      let res;
      try {
        res = await buildIndexJob({
          items: cat.items,
          sequences,
          scheme: flags.scheme,
          collisions: collisionsOpt(flags.collisions),
          seed: intOpt('--seed', flags.seed, 0),
          balanced: !!flags.balanced,
          iterations: intOpt('--iterations', flags.iterations, 1),
          extraLevelSize: intOpt('--extra-level-size', flags.extraLevelSize, 1),
          embeddings: embeddingSource(flags, sequences),
          allowDegenerate: !!flags.allowDegenerate,
          trainSample: intOpt('--train-sample', flags.trainSample, 1),
          chunkRows: intOpt('--chunk-rows', flags.chunkRows, 1),
          rqvae: { epochs: intOpt('--rqvae-epochs', flags.rqvaeEpochs, 1), latentDim: intOpt('--rqvae-latent', flags.rqvaeLatent, 1), device: flags.device },
          out: flags.out,
          force: !!flags.force,
          inputs: [flags.items, flags.data].filter((v): v is string => typeof v === 'string'),
          onProgress: p.cb,
        });
      } finally {
        p.stop();
      }
      const st = res.index.stats();
      console.log(JSON.stringify({ out: flags.out, seconds: (Date.now() - t0) / 1000, hash: res.manifest.hash, skippedLines: cat.malformed.count, ...st }));
    });

  index
    .command('add')
    .description('give new items IDs with an existing index (no retraining); writes a new index version')
    .requiredOption('--index <dir>', 'existing index directory (left untouched unless --out is the same)')
    .requiredOption('--items <file>', 'new items (JSONL)')
    .option('--embeddings <file>', 'embeddings of the new items (default: the encoder stored with the index)')
    .option('--encoder <dir>', 'ONNX encoder directory for the new items')
    .option('--seed <n>', 'seed for schemes that place new items randomly')
    .requiredOption('--out <dir>', 'output directory for the new version')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not an index directory)')
    .option('--strict', 'refuse an items file with malformed lines instead of skipping them')
    .action(async (flags) => {
      const cat = await readCatalogue(flags.items);
      reportMalformed(flags.items, cat.malformed, !!flags.strict);
      const src = flags.embeddings ? { kind: 'file' as const, file: flags.embeddings } : flags.encoder ? { kind: 'onnx' as const, dir: flags.encoder } : undefined;
      const res = await addItemsJob({ index: flags.index, items: cat.items, embeddings: src, out: flags.out, seed: intOpt('--seed', flags.seed, 0), force: !!flags.force, inputs: [flags.items] });
      console.log(JSON.stringify({ out: flags.out, added: res.added, items: res.index.size, indexVersion: res.index.info.indexVersion, hash: res.manifest.hash }));
    });

  index
    .command('remove')
    .description('retire items: a new index version that never recommends them (their tuples are never reused; models trained on the old version still serve it)')
    .requiredOption('--index <dir>', 'existing index directory (left untouched unless --out is the same)')
    .option('--ids <list>', 'comma-separated item ids')
    .option('--ids-file <file>', 'item ids, one per line')
    .requiredOption('--out <dir>', 'output directory for the new version')
    .option('--force', 'replace whatever --out holds (default: refuse an existing directory that is not an index directory)')
    .action(async (flags: { index: string; ids?: string; idsFile?: string; out: string; force?: boolean }) => {
      if ((flags.ids === undefined) === (flags.idsFile === undefined)) throw new InputError('give exactly one of --ids or --ids-file');
      let text = flags.ids ?? '';
      if (flags.idsFile !== undefined) {
        text = await readRegularText(flags.idsFile, { what: 'ids file', maxBytes: MAX_LIST_FILE_BYTES });
      }
      const ids = text.replace(/^\uFEFF/, '').split(/[,\n\r]+/).map((x) => x.trim()).filter(Boolean);
      if (!ids.length) throw new InputError('no item ids given');
      const res = await removeItemsJob({ index: flags.index, ids, out: flags.out, force: !!flags.force, inputs: flags.idsFile ? [flags.idsFile] : [] });
      console.log(JSON.stringify({ out: flags.out, removed: res.removed, items: res.index.size, retired: res.index.retiredRows.length, indexVersion: res.index.info.indexVersion, hash: res.manifest.hash }));
    });

  index
    .command('stats')
    .description('print index statistics as JSON (items, levels, collisions resolved, utilisation, entropy)')
    .argument('<dir>', 'index directory')
    .action(async (dir: string) => {
      const idx = await loadIndex(dir);
      console.log(JSON.stringify({ ...idx.stats(), indexVersion: idx.info.indexVersion, addedItems: idx.info.addedItems, lineage: idx.info.lineage ?? [], mse: idx.info.mse, params: idx.info.params, hash: idx.hash() }, null, 2));
    });

  index
    .command('lookup')
    .description('codes of an item (--item) or the item of a code tuple (--codes)')
    .argument('<dir>', 'index directory')
    .option('--item <id>', 'item id')
    .option('--codes <list>', 'comma-separated codes, e.g. 12,7,200')
    .action(async (dir: string, flags: { item?: string; codes?: string }) => {
      if (!!flags.item === !!flags.codes) throw new InputError('give exactly one of --item or --codes');
      const idx = await loadIndex(dir);
      if (flags.item) {
        const codes = idx.codeOf(flags.item);
        if (!codes) throw new NotFoundError(flags.item, 'item in the index');
        const retired = idx.isRetired(idx.rowOf(flags.item)!);
        console.log(JSON.stringify({ item: flags.item, codes, ...(retired ? { retired } : {}) }));
      } else {
        const codes = flags.codes!.split(',').map((c) => Number(c.trim()));
        if (codes.some((c) => !Number.isInteger(c) || c < 0)) throw new InputError(`--codes must be comma-separated non-negative integers, got ${JSON.stringify(flags.codes)}`);
        if (codes.length !== idx.levels) throw new InputError(`the index has ${idx.levels} levels; got ${codes.length} codes`);
        const item = idx.itemOf(codes);
        if (item === undefined) throw new NotFoundError(codes.join(','), 'item with codes');
        console.log(JSON.stringify({ item, codes }));
      }
    });

  index
    .command('dump')
    .description('every item and its codes, as JSONL {"item","codes"} ("retired": true for retired items)')
    .argument('<dir>', 'index directory')
    .action(async (dir: string) => {
      const idx = await loadIndex(dir);
      const L = idx.levels;
      let buf = '';
      for (let i = 0; i < idx.size; i++) {
        buf += JSON.stringify({ item: idx.itemIds[i], codes: Array.from(idx.codes.subarray(i * L, (i + 1) * L)), ...(idx.isRetired(i) ? { retired: true } : {}) }) + '\n';
        if (buf.length > 1 << 16) {
          process.stdout.write(buf);
          buf = '';
        }
      }
      process.stdout.write(buf);
    });
}
