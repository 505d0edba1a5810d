/**
 * decoding/ — prefix trie over code tuples, trie-constrained beam search, the token layout and
 * the prompt format, StepModel fusion, and semrec's error base class. Model-agnostic (a {@link StepModel} is all it needs); never imports from src/.
 */
export { PrefixTrie, ChildStarts } from './trie.js';
export type { Children } from './trie.js';
export { beamSearch, beamSearchesRun } from './beam-search.js';
export { warmUp, DEFAULT_WARMUP_SEARCHES, WARMUP_ROUND } from './warmup.js';
export type { WarmUpOptions, WarmUpReport } from './warmup.js';
export type { BeamRequest, BeamSearchOptions, BeamHit } from './beam-search.js';
export { TokenLayout, SPECIAL_TOKENS, NUM_SPECIAL } from './token-layout.js';
export type { TokenLayoutSpec } from './token-layout.js';
export type { StepModel, StepOutput, CandidateFilter } from './step-model.js';
export { RemappedStepModel } from './remap.js';
export { FusedStepModel } from './fused.js';
export type { FusedPart, FusedState } from './fused.js';
export { SemrecError, DecodingError, DecodingInputError, InputError, FormatError, NotFoundError, IoError } from './errors.js';
export type { SemrecErrorCode } from './errors.js';
