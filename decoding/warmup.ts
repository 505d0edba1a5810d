/**
 * Warm-up: beam searches run before serving, so that the first real requests do not pay what a
 * process pays once. Measured on the 2-core machine with an ONNX transformer of the Beauty shape
 * (docs/decoding.md, "Warm-up"): without it the first ~30 requests each take ≈ 500 minor page
 * faults (the C allocator and onnxruntime's arena growing to their working size) and 2-3× the
 * median latency — which is most of a 300-request p99. After 32 searches a request takes 0-10 on
 * average, but the process keeps growing for a while: over the next 100 requests ≈ 50 faults each
 * (≈ 13 µs per fault on that VM), then 0. So a warm-up can go on in rounds until the page faults
 * per search settle ({@link WarmUpOptions.maxSearches}).
 *
 * Some of that growth belongs to the process, not to the model: V8 compiles the decoding code in
 * the background over a process's first few hundred searches, and each compile grows a C
 * allocator arena of a helper thread (bursts of 600-1,000 page faults, 2-4 MB, at unpredictable
 * requests 50-300 after a 100-search warm-up). A serving process's first load can therefore go on
 * until the process has run {@link WarmUpOptions.processSearches} searches in all (measured, 512:
 * 0 faults per request afterwards, p99 / p50 of the next 300 requests 1.46-1.76 against 1.65-2.25).
 */
import { beamSearch, beamSearchesRun, type BeamRequest } from './beam-search.js';
import { DecodingInputError } from './errors.js';
import type { StepModel } from './step-model.js';
import type { TokenLayout } from './token-layout.js';
import type { PrefixTrie } from './trie.js';

/** Single-request searches a warm-up runs by default. */
export const DEFAULT_WARMUP_SEARCHES = 32;

/** Options of {@link warmUp}. */
export interface WarmUpOptions {
  /** Beam width of the searches (use the one served most; default 20). */
  beamWidth?: number;
  /** Single-request searches (default {@link DEFAULT_WARMUP_SEARCHES}). */
  searches?: number;
  /**
   * Then one batched search of this many requests (default 16), so that the first burst of
   * concurrent requests finds the memory a batch needs; 0 or 1: none.
   */
  batch?: number;
  /**
   * Keep going after `searches`, in rounds of {@link WARMUP_ROUND} single searches, while a round
   * still takes more than `steadyFaults` minor page faults per search — up to this many single
   * searches in all (default `searches`: no extra rounds).
   */
  maxSearches?: number;
  /** Page faults per search at which the process counts as warm (default 2). */
  steadyFaults?: number;
  /**
   * Also keep going, in the same rounds and within `maxSearches`, until this process has run at
   * least this many beam searches in all ({@link beamSearchesRun}: warm-ups and real requests, any
   * model) — V8's compiler warm-up, paid once per process (default 0: not a reason to go on).
   */
  processSearches?: number;
  /** Stop starting extra rounds after this many ms of warm-up (default: no limit). */
  maxMs?: number;
  /** The process's minor page faults so far (default `process.resourceUsage().minorPageFault`; tests pass their own). */
  faults?: () => number;
}

/** Single searches per extra warm-up round. */
export const WARMUP_ROUND = 16;

/** What a warm-up did. */
export interface WarmUpReport {
  /** Beam searches run (the single ones and the batched one). */
  searches: number;
  /** Wall time, ms. */
  ms: number;
  /** Minor page faults per search in the last round of single searches (absent when none ran). */
  faultsPerSearch?: number;
}

/**
 * Run `searches` single-request beam searches over `prompts` (cycling), then one batched search,
 * and discard the results. Use the longest prompts the service will see (the model's
 * `maxHistory`): they set the largest shapes. Nothing is cached: the model's results are the same
 * before and after.
 */
export async function warmUp<S>(model: StepModel<S>, trie: PrefixTrie, layout: TokenLayout, prompts: readonly Int32Array[], opts: WarmUpOptions = {}): Promise<WarmUpReport> {
  const searches = opts.searches ?? DEFAULT_WARMUP_SEARCHES;
  const batch = opts.batch ?? 16;
  const beamWidth = opts.beamWidth ?? 20;
  const maxSearches = opts.maxSearches ?? searches;
  const steadyFaults = opts.steadyFaults ?? 2;
  const processSearches = opts.processSearches ?? 0;
  const maxMs = opts.maxMs ?? Infinity;
  const faults = opts.faults ?? (() => process.resourceUsage().minorPageFault);
  if (!(steadyFaults >= 0)) throw new DecodingInputError(`warm-up steadyFaults must be ≥ 0, got ${steadyFaults}`);
  if (!(maxMs >= 0)) throw new DecodingInputError(`warm-up maxMs must be ≥ 0, got ${maxMs}`);
  for (const [name, v] of [['searches', searches], ['batch', batch], ['maxSearches', maxSearches], ['processSearches', processSearches]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new DecodingInputError(`warm-up ${name} must be a non-negative integer, got ${v}`);
  }
  const t0 = performance.now();
  if (!prompts.length || trie.numItems === 0 || (searches === 0 && batch < 2)) return { searches: 0, ms: 0 };
  const req = (i: number): BeamRequest => ({ prompt: prompts[i % prompts.length] });
  const k = Math.min(beamWidth, 10);
  // single searches in rounds: the first `searches`, then rounds of WARMUP_ROUND while the last one
  // still faulted or the process has not run `processSearches` yet (within maxSearches and maxMs)
  let done = 0;
  let perSearch: number | undefined;
  const more = () => done < maxSearches && performance.now() - t0 < maxMs && ((perSearch !== undefined && perSearch > steadyFaults) || beamSearchesRun() < processSearches);
  while (done < searches || more()) {
    const n = done < searches ? searches - done : Math.min(WARMUP_ROUND, maxSearches - done);
    const f0 = faults();
    for (let i = done; i < done + n; i++) await beamSearch(model, trie, layout, [req(i)], { beamWidth, k });
    perSearch = (faults() - f0) / n;
    done += n;
  }
  if (batch >= 2) await beamSearch(model, trie, layout, Array.from({ length: batch }, (_, i) => req(i)), { beamWidth, k });
  return { searches: done + (batch >= 2 ? 1 : 0), ms: performance.now() - t0, ...(perSearch !== undefined ? { faultsPerSearch: perSearch } : {}) };
}
