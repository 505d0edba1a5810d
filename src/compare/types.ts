/**
 * The result types of a comparison, in a module of their own: the harness produces them and the
 * reports read them, without either importing the other's code.
 */
import type { IndexStats } from '../../quantizer/index.js';
import type { Dataset } from '../data/store.js';
import type { EvalReport, RankerReport } from '../eval/evaluate.js';
import type { DecoderTrainOptions } from '../training/train-decoder.js';
import type { SasrecOptions } from '../training/sasrec.js';

/** One finished run (scheme × seed). */
export interface RunResult {
  run: string;
  /** The scheme's label in the report: its factory string, with `@embed` when it has its own embeddings. */
  scheme: string;
  seed: number;
  /** The settings this run was made with (a run is reused only when they are equal). */
  settings: RunSettings;
  /**
   * {@link datasetFingerprint} of the data the run was made from; a finished run is reused only
   * when it equals the current data's (absent in runs made before it was recorded: those are
   * reused on equal settings, and the report says so).
   */
  dataHash?: string;
  index: { seconds: number; hash: string; stats: IndexStats };
  train: { seconds: number; params: Record<string, unknown> };
  eval: EvalReport;
  /** Kind fused: its transformer part alone, on the same users (the unfused figures). */
  parts?: { transformer?: EvalReport };
  finishedAt: string;
}

/**
 * Everything that determines a trained baseline's result (SASRec, one per seed): its recipe, the
 * evaluation settings, and the index it is served through (the seed's first scheme; SASRec's
 * search is exact, so the index does not change its ranking, only its item numbering).
 */
export interface BaselineSettings extends EvalSettings {
  baseline: 'sasrec';
  sasrec: Omit<SasrecOptions, 'seed' | 'onEvent'>;
}

/** The settings every run of a comparison has: how it is evaluated, on what data, with which index and seed. */
export interface EvalSettings {
  beamWidth: number;
  limit: number | null;
  split: 'test' | 'valid';
  data: string;
  counts: Dataset['meta']['counts'];
  scheme: string;
  seed: number;
  /** Collaborative item embeddings (absent: text, as before this setting existed). */
  embed?: 'cf' | 'text+cf';
}

/** One trained baseline run (`runs/sasrec-seed<k>/`). */
export interface BaselineRun {
  run: string;
  name: 'sasrec';
  seed: number;
  settings: BaselineSettings;
  /** {@link datasetFingerprint} of the data it was made from. */
  dataHash?: string;
  train: { seconds: number; params: Record<string, unknown> };
  /** Scored by the same evaluator, on the same users as the schemes' runs (with per-user ranks). */
  eval: EvalReport;
  finishedAt: string;
}

/** Everything a comparison produced. */
export interface CompareResults {
  format: 'semrec-compare';
  formatVersion: 1;
  data: { dir: string; users: number; items: number; interactions: number };
  config: { schemes: string[]; seeds: number; arch: string; train: Record<string, unknown>; beamWidth: number; limit?: number; split: string; embed?: string; sasrec?: Record<string, unknown> };
  runs: RunResult[];
  /**
   * Reference rankers on the same users (popularity; first-order Markov over item ids, not
   * ID-constrained), scored by the same code as every model (evaluateRankers).
   */
  baselines?: RankerReport[];
  /** Trained baselines (SASRec with `sasrec` set), one run per seed, on the same users. */
  baselineRuns?: BaselineRun[];
  /** What made these results: semrec version, git commit (when run from a checkout), command, date, hardware. */
  meta?: { semrec: string; commit?: string; command: string; date: string; node: string; hardware: { cpus: number; cpuModel: string; memoryGb: number } };
  /** Things the reader must know (e.g. a model kind that cannot tell schemes apart). */
  warnings?: string[];
  /** Wall time of this invocation (reused runs cost nothing). */
  seconds: number;
}

/**
 * Everything that determines a run's result (a finished run is reused only when these are equal;
 * `data`, the dataset's path, is left out when both runs carry the same data fingerprint).
 */
export interface RunSettings extends EvalSettings {
  arch: string;
  train: Omit<DecoderTrainOptions, 'seed' | 'onEvent'>;
}
