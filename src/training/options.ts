/**
 * The options of a training job (`semrec train`, `trainModel` in train.ts), shared by the
 * model kinds of kinds.ts.
 */
import type { FusionOptions } from './fusion.js';
import type { TransitionShape } from '../serving/model/transition.js';
import type { TransitionSelectOptions } from './transition-select.js';
import type { DecoderTrainOptions } from './train-decoder.js';
import type { SasrecOptions } from './sasrec.js';

/**
 * Model kinds `semrec train` produces, by user-facing name (`decoder` / `bigram` are accepted
 * aliases); each is one object of training/kinds.ts.
 */
export type TrainKind = 'fused' | 'transformer' | 'llm' | 'transition' | 'sasrec';

/** Options of `trainModel` (train.ts). */
export interface TrainOptions {
  /** Dataset directory (train split is used; the validation split chooses the fusion weight). */
  data: string;
  /** Index directory the model is trained on. */
  index: string;
  /** Output model directory (written atomically). */
  out: string;
  /** Replace a semrec artifact of another kind at `out` (never unrelated files, never the inputs). */
  force?: boolean;
  /** The job's inputs (files or directories): a forced replacement never removes a directory holding one. */
  inputs?: readonly string[];
  /**
   * `fused` (default), `transformer`, `llm` (the transformer with the Llama-family block, or a
   * fine-tuned checkpoint with `decoder.finetune`), `transition` (aliases: `decoder`, `bigram`) or
   * `sasrec`.
   */
  arch?: string;
  /** SASRec's recipe (kind `sasrec`). */
  sasrec?: SasrecOptions;
  /** Transformer settings (kinds `fused`, `transformer`, `llm`). */
  decoder?: DecoderTrainOptions;
  /** Fusion-weight selection (kind `fused`). */
  fusion?: Omit<FusionOptions, 'onProgress'>;
  /** Progress of the fusion-weight selection (decoded validation requests). */
  onFusionProgress?: (done: number, total: number) => void;
  /** Pseudo-count of the popularity prior (transition model). */
  beta?: number;
  /**
   * The transition model's window, history and decay: `auto` (default) chooses them on the
   * validation split; a fixed shape skips the choice (`{}` or 1/1/1: the first-order model).
   */
  transitionShape?: TransitionShape | 'auto';
  /** Shape selection settings (when `transitionShape` is `auto`). */
  transitionSelect?: Omit<TransitionSelectOptions, 'onProgress' | 'beta'>;
  /** Progress of the shape selection (decoded validation requests). */
  onTransitionProgress?: (done: number, total: number) => void;
  /**
   * What the stored transition counts are fitted on: `train` (default) or `train+valid` — each
   * user's validation target appended, as a test-time model may (the validation interaction is
   * known then). The fusion weight is always chosen with train-only counts; a model stored with
   * train+valid counts cannot be evaluated on the validation split (it has seen its targets).
   */
  transitionFit?: 'train' | 'train+valid';
  /** History items kept in prompts (default 20). */
  maxHistory?: number;
  /**
   * The model's default seen-item policy (`params.seen`): `auto` (default) decides on the
   * validation split whether excluding history items raises Recall@10 (seen-select.ts); `keep` /
   * `exclude` fix it. A request's `excludeSeen` overrides the default.
   */
  seen?: 'auto' | 'keep' | 'exclude';
  /** Progress of the seen-item policy choice (decoded validation requests). */
  onSeenProgress?: (done: number, total: number) => void;
  /**
   * Kind `fused`: take the transformer of this model directory (transformer or fused, trained on
   * the same index) instead of training one — refit the transition part and choose the weight
   * again, e.g. after a new transition shape or more data. Its trainer settings are kept.
   */
  transformerFrom?: string;
}

/** A fixed seen-item policy (`params.seen` when not chosen on validation). */
export interface FixedSeenPolicy {
  exclude: boolean;
  criterion: 'fixed by the trainer';
}
