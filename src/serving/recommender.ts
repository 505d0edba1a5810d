/**
 * Recommender: the service-facing facade. Load once, then call `recommend(history)` per request.
 *
 *   const rec = await Recommender.load('model/', 'index/');
 *   const { items, skipped } = await rec.recommend(['B004756YJA', 'B0020YLEYK'], { k: 10 });
 *
 * Every result is a real item (trie-constrained decoding). Calls are safe to run concurrently:
 * the loaded state is immutable, and concurrent requests arriving in the same tick are decoded
 * together in one batched beam search (one model call per code level for all of them).
 */
import { beamSearch, warmUp, DEFAULT_WARMUP_SEARCHES, TokenLayout, type PrefixTrie, type BeamRequest, type StepModel, type WarmUpOptions, type WarmUpReport } from '../../decoding/index.js';
import { loadIndex, type ItemIndex } from '../../quantizer/index.js';
import { readArtifact, Rng } from '../../quantizer/core/index.js';
import { beamRequestOf, historyRows } from './request.js';
import { EmptyHistoryError, InputError, ModelError } from '../errors.js';
import type { ModelConfig } from './model/model-dir.js';
import { candidateTrie } from '../indexing/jobs.js';
import { openModel } from './model/open-model.js';
import type { ModelPart } from './model/kinds.js';

/** Options of {@link Recommender.load}. */
export interface LoadOptions {
  /** onnxruntime intra-op threads (default: all cores). */
  threads?: number;
  /**
   * Serve one part of a fused model alone — `transformer` or `transition` — for ablations
   * (default `fused`: both, with the weight chosen on validation at training time).
   */
  part?: ModelPart;
  /** Override a fused model's transition weight (in [0, 1]). */
  fusionWeight?: number;
  /**
   * Override the model's default seen-item policy (`config.params.seen.exclude`, chosen on
   * validation by `semrec train`; false when absent). A request's `excludeSeen` still wins.
   */
  excludeSeen?: boolean;
  /**
   * Beam searches run on random full-length histories before `load` returns (default
   * {@link DEFAULT_WARMUP_SEARCHES} single ones, then more in rounds of 16 while a round still
   * takes more than 2 page faults per search, up to {@link WARMUP_MAX_FACTOR}× as many; then one
   * batch of 16; 0: none), so the first requests after a load or a hot swap do not pay for memory
   * growth — measured 2-3× the median latency for the first ~30 requests of an ONNX transformer
   * and ≈ 50 page faults each over the next 100 (docs/decoding.md). Costs ≈ 0.4 s at the Beauty
   * shape on the 2-core machine when the process is already warm, up to ≈ 1.3 s when it is not.
   */
  warmup?: number;
  /**
   * With a warm-up, also go on until this process has run this many beam searches in all — V8
   * compiles the decoding code over a process's first few hundred searches, and each compile's
   * memory growth lands in a request as page faults (docs/decoding.md, "Warm-up"). Paid once per
   * process: a later load in the same process stops as soon as its own faults settle. Default 0;
   * `semrec serve` / `createServer` use {@link SERVE_PROCESS_WARMUP}. At most
   * {@link WARMUP_MAX_MS} of extra rounds.
   */
  processWarmup?: number;
}

/** A load's warm-up runs at most this many times its `warmup` searches while page faults have not settled. */
const WARMUP_MAX_FACTOR = 8;

/** Searches a serving process runs before its first load returns (measured: 512 leaves 0 page faults per request at the Beauty shape, ≈ 2.3 s there). */
export const SERVE_PROCESS_WARMUP = 512;

/** Longest a load's extra warm-up rounds may take, ms. */
const WARMUP_MAX_MS = 5000;

/**
 * The bounds of a load's warm-up (see {@link LoadOptions.warmup}, {@link LoadOptions.processWarmup}):
 * `searches` single searches, extra rounds up to {@link WARMUP_MAX_FACTOR}× as many (or up to
 * `processWarmup`), at most {@link WARMUP_MAX_MS} of them. The benches warm up with the same.
 */
export function loadWarmUpOptions(searches: number, processWarmup = 0): WarmUpOptions {
  return { searches, maxSearches: Math.max(WARMUP_MAX_FACTOR * searches, processWarmup), processSearches: processWarmup, maxMs: WARMUP_MAX_MS };
}

/** Options of {@link Recommender.recommend}. */
export interface RecommendOptions {
  /** Results to return (1..200, default 10). */
  k?: number;
  /** Beams per level (k..500, default max(k, 20)). */
  beamWidth?: number;
  /**
   * Never return items of the history (pruned during decoding, so k results still come back).
   * Default: the model's policy ({@link Recommender.excludeSeenByDefault}).
   */
  excludeSeen?: boolean;
  /** Candidate allow-list: return only these items (unknown ids are reported in `unknownCandidates`). */
  allow?: readonly string[];
  /** Candidate deny-list: never return these items (pruned during decoding like `excludeSeen`). */
  deny?: readonly string[];
}

/** One recommended item. */
export interface Recommendation {
  itemId: string;
  /** Joint log-probability of the item's tuple under the model. */
  score: number;
  codes: number[];
}

/** Result of {@link Recommender.recommend}. */
export interface RecommendResult {
  items: Recommendation[];
  /** History items that are not in the index (ignored). */
  skipped: string[];
  /** Ids of `allow` / `deny` that are not in the index (ignored). */
  unknownCandidates: string[];
}

export { ONNX_MAX_BATCH } from './model/kinds.js';

/** Upper bounds on k and beamWidth. */
export const MAX_K = 200;
export const MAX_BEAM = 500;

interface Pending {
  req: BeamRequest;
  k: number;
  skipped: string[];
  unknownCandidates: string[];
  resolve: (r: RecommendResult) => void;
  reject: (e: unknown) => void;
}

export class Recommender {
  private queue = new Map<number, Pending[]>();
  private scheduled = false;

  private constructor(
    readonly config: ModelConfig,
    readonly index: ItemIndex,
    readonly model: StepModel<unknown>,
    readonly trie: PrefixTrie,
    readonly layout: TokenLayout,
    /** Requests decoded together in one beam search (bounds the batch's memory). */
    readonly maxBatch = 64,
    /** What is served, e.g. `fused (transition weight 0.3)`. */
    readonly modelName: string = config.architecture,
    private readonly closer: () => Promise<void> = async () => {},
    /** Content hash of the model directory (every file), see `modelDirHash`. */
    readonly modelHash: string = '',
    /** Whether requests exclude history items unless they say otherwise (see {@link LoadOptions.excludeSeen}). */
    readonly excludeSeenByDefault = false,
  ) {}

  /** What the load's warm-up did (searches 0 when none ran). */
  warmedUp: WarmUpReport = { searches: 0, ms: 0 };

  /**
   * Run beam searches on random full-length histories of known items (seeded: the same ones on
   * every load) and discard the results: see {@link LoadOptions.warmup} and
   * {@link LoadOptions.processWarmup}. `load` calls it.
   */
  async warmUp(searches = DEFAULT_WARMUP_SEARCHES, beamWidth = 20, processWarmup = 0): Promise<WarmUpReport> {
    const rng = new Rng(0);
    const n = this.index.size;
    const len = Math.max(1, Math.min(this.config.maxHistory, 50));
    const prompts = n === 0 ? [] : Array.from({ length: 8 }, () => this.promptOf(Array.from({ length: len }, () => rng.int(n))));
    const report = await warmUp(this.model, this.trie, this.layout, prompts, { ...loadWarmUpOptions(searches, processWarmup), beamWidth, batch: searches > 0 ? Math.min(16, this.maxBatch) : 0 });
    this.warmedUp = report;
    return report;
  }

  /** Release the model's native resources (onnxruntime session). The instance is unusable afterwards. */
  async close(): Promise<void> {
    await this.closer();
  }

  /**
   * Load a model directory and an index (default: the index directory recorded at training time,
   * relative to the model directory). The index must be the one the model was trained on or a
   * descendant of it (`semrec index add` / `index remove` record their parent's hash, and keep
   * every parent item's row and tuple): a model serves a grown catalogue without retraining, and
   * new items are candidates at once. Any other index is refused (E_MODEL).
   *
   * The directory is either semrec's own (`config.json` of format semrec-model: the transition
   * model or the ONNX transformer) or a Hugging Face-layout causal LM with `semrec.json` (see
   * docs/generator.md).
   */
  static async load(modelDir: string, indexDir?: string, opts: LoadOptions = {}): Promise<Recommender> {
    // every model file comes from one generation of the directory (see quantizer/core/artifact.ts)
    return readArtifact(modelDir, (resolved) => Recommender.loadAt(resolved, modelDir, indexDir, opts));
  }

  private static async loadAt(resolved: string, modelDir: string, indexDir: string | undefined, opts: LoadOptions): Promise<Recommender> {
    // semrec's directories: every file checked against MANIFEST.json before anything is loaded and
    // read only through the artifact; Hugging Face-layout ones through their own kind (open-model.ts)
    const opened = await openModel(resolved, modelDir);
    indexDir ??= opened.indexDir;
    if (!indexDir) throw new InputError(`no index given and ${modelDir}/config.json records none`);
    let index: ItemIndex;
    try {
      index = await loadIndex(indexDir);
    } catch (err) {
      if (indexDir !== opened.indexDir) throw err;
      throw new ModelError(`cannot load the index recorded with the model (${indexDir}): ${(err as Error).message}. Pass the index directory explicitly (index hash ${opened.indexHash.slice(0, 12)}… or a descendant)`);
    }
    if (!index.descendsFrom(opened.indexHash)) {
      throw new ModelError(`the model in ${modelDir} was trained on index ${opened.indexHash.slice(0, 12)}…, but ${indexDir} is ${index.hash().slice(0, 12)}… and does not descend from it — serve it with that index or one made from it by index add / index remove`);
    }
    const trie = candidateTrie(index);
    const m = await opened.load(index, trie, { threads: opts.threads, part: opts.part, fusionWeight: opts.fusionWeight });
    return Recommender.warm(new Recommender(m.config, index, m.loaded.model, trie, m.layout, m.loaded.maxBatch, m.loaded.name, m.loaded.close, opened.modelHash, opts.excludeSeen ?? m.excludeSeen), opts);
  }

  /** The load's warm-up; the model is closed when it fails. */
  private static async warm(rec: Recommender, opts: LoadOptions): Promise<Recommender> {
    const searches = opts.warmup ?? DEFAULT_WARMUP_SEARCHES;
    if (!Number.isInteger(searches) || searches < 0) {
      await rec.close();
      throw new InputError(`warmup must be a non-negative integer, got ${searches}`);
    }
    const processWarmup = opts.processWarmup ?? 0;
    if (!Number.isInteger(processWarmup) || processWarmup < 0) {
      await rec.close();
      throw new InputError(`processWarmup must be a non-negative integer, got ${processWarmup}`);
    }
    try {
      if (searches > 0) await rec.warmUp(searches, 20, processWarmup);
    } catch (err) {
      await rec.close();
      throw err;
    }
    return rec;
  }

  /**
   * Prompt tokens for a history of known item rows: BOS + the last maxHistory items' tuples (for
   * a Hugging Face-layout model: its template, tokenised by its tokenizer).
   */
  promptOf(rows: readonly number[]): Int32Array {
    return this.layout.prompt(this.index.codes, rows, this.config.maxHistory);
  }

  private check(opts: RecommendOptions): { k: number; beamWidth: number } {
    const k = opts.k ?? 10;
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new InputError(`k must be an integer in [1, ${MAX_K}], got ${k}`);
    const beamWidth = opts.beamWidth ?? Math.max(k, 20);
    if (!Number.isInteger(beamWidth) || beamWidth < k || beamWidth > MAX_BEAM) throw new InputError(`beamWidth must be an integer in [k, ${MAX_BEAM}], got ${beamWidth}`);
    return { k, beamWidth };
  }

  /**
   * Recommend the next items for a history (oldest first). Never throws: bad input (a history
   * that is not an array of strings, k or beamWidth out of range, no known item) rejects with a
   * typed error.
   */
  recommend(history: readonly string[], opts: RecommendOptions = {}): Promise<RecommendResult> {
    let checked: { k: number; beamWidth: number };
    try {
      checked = this.check(opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!Array.isArray(history)) return Promise.reject(new InputError(`history must be an array of item ids, got ${history === null ? 'null' : typeof history}`));
    const bad = history.findIndex((id) => typeof id !== 'string');
    if (bad >= 0) return Promise.reject(new InputError(`history[${bad}] must be an item id (a string), got ${JSON.stringify(history[bad]) ?? typeof history[bad]}`));
    const { rows, skipped } = historyRows(this.index, history);
    if (rows.length === 0) return Promise.reject(new EmptyHistoryError(skipped));
    const unknownCandidates: string[] = [];
    let allow: number[] | undefined;
    let deny: number[] | undefined;
    try {
      allow = this.candidateRows('allow', opts.allow, unknownCandidates);
      deny = this.candidateRows('deny', opts.deny, unknownCandidates);
    } catch (err) {
      return Promise.reject(err);
    }
    const req = beamRequestOf(rows, this.promptOf(rows), { excludeSeen: opts.excludeSeen ?? this.excludeSeenByDefault, deny, allow });
    return new Promise<RecommendResult>((resolve, reject) => {
      let q = this.queue.get(checked.beamWidth);
      if (!q) this.queue.set(checked.beamWidth, (q = []));
      q.push({ req, k: checked.k, skipped, unknownCandidates, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Rows of an allow/deny list (unknown ids collected into `unknown`). */
  private candidateRows(name: string, ids: readonly string[] | undefined, unknown: string[]): number[] | undefined {
    if (ids === undefined) return undefined;
    if (!Array.isArray(ids)) throw new InputError(`${name} must be an array of item ids`);
    const rows: number[] = [];
    ids.forEach((id, i) => {
      if (typeof id !== 'string') throw new InputError(`${name}[${i}] must be an item id (a string), got ${JSON.stringify(id) ?? typeof id}`);
      const r = this.index.rowOf(id);
      if (r === undefined) unknown.push(id);
      else rows.push(r);
    });
    return rows;
  }

  /** Decode everything queued, one batched beam search per beam width. */
  private async flush(): Promise<void> {
    const batches = this.queue;
    this.queue = new Map();
    this.scheduled = false;
    for (const [beamWidth, all] of batches) {
      for (let s = 0; s < all.length; s += this.maxBatch) await this.decode(beamWidth, all.slice(s, s + this.maxBatch));
    }
  }

  private async decode(beamWidth: number, pending: Pending[]): Promise<void> {
    {
      try {
        const hits = await beamSearch(this.model, this.trie, this.layout, pending.map((p) => p.req), { beamWidth });
        // a NaN or infinite score is a broken model, never an answer
        for (const list of hits) {
          for (const h of list) if (!Number.isFinite(h.score)) throw new ModelError(`the model gave a non-finite score (${h.score}) for item ${this.index.itemIds[h.row]}: its weights or inputs are broken`);
        }
        pending.forEach((p, i) =>
          p.resolve({
            items: hits[i].slice(0, p.k).map((h) => ({ itemId: this.index.itemIds[h.row], score: h.score, codes: h.codes })),
            skipped: p.skipped,
            unknownCandidates: p.unknownCandidates,
          }),
        );
      } catch (err) {
        for (const p of pending) p.reject(err);
      }
    }
  }
}
