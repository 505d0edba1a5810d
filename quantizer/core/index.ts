/**
 * quantizer/core — the general utilities every part of semrec shares: crash-safe file and
 * directory writes (verified artifact directories with a manifest and a generation pointer),
 * the seeded PRNG, and the sparse/dense linear algebra behind the embeddings.
 *
 * Self-contained: it imports only Node, zod and the error family (`../errors.js`), never the
 * quantizer proper, decoding/ or src/ — so quantizer/, decoding/ and src/ can all use it without
 * breaking the dependency rule. It lives inside quantizer/ because the design brief fixes the
 * top-level layout; this file is its one entry point (src/ imports nothing deeper).
 */
export { writeFileAtomic } from './atomic.js';
export { writeArtifact, readArtifact, resolveArtifact, artifactKind, checkWritable, ArtifactExistsError, POINTER_FILE } from './artifact.js';
export type { WriteArtifactOptions } from './artifact.js';
export { withWriteLock, lockFileOf, pidAlive, LOCK_WAIT_MS } from './lock.js';
export { openRegular, readRegular, readRegularText, readExactly, fsError, fileTypeOf, lstatOrUndefined } from './safe-fs.js';
export type { OpenRegularOptions, OpenedFile } from './safe-fs.js';
export { openArtifact, openUnverified, openRequired, resealArtifact, writeManifest, zodIssues, ArtifactFormatError, MANIFEST_FILE, MAX_MANIFEST_BYTES, SAFE_NAME } from './manifest.js';
export type { Artifact, FileSource } from './manifest.js';
export { Rng } from './rng.js';
export { randomizedSvd, symmetricEigen, csrFromRows, normalizeRows } from './linalg.js';
export { allocateOccurrences, sumOccurrences } from './occurrences.js';
export type { Occurrences, PairCounts } from './occurrences.js';
export type { Csr, SvdResult } from './linalg.js';
