/**
 * The node runtime settings that shape a serving process's latency tail (docs/decoding.md,
 * "Young generation"): V8's young generation size.
 *
 * Every onnxruntime-node graph call returns its outputs as new ArrayBuffers over memory
 * onnxruntime allocated for that call (≈ 0.8 MB per request at the Beauty shape). V8 counts that
 * external memory towards starting a full mark-compact, and with its default young generation
 * (16 MB semi-spaces) the full GCs come first — about one per 30 requests, 2-8 ms each, landing in
 * the slowest 3 % of requests. With 2 MB semi-spaces a cheap scavenge (≈ 0.6 ms, every ≈ 9
 * requests) frees those buffers first and full GCs stop (measured: `npm run bench:decode-tail`).
 * The semi-space size can only be set when node starts: the `semrec` command's shebang does, and a
 * service embedding the library should start node with it (`NODE_OPTIONS=--max-semi-space-size=2`).
 */

/** The semi-space size, in MB, that semrec's own command starts node with. */
export const SERVING_SEMI_SPACE_MB = 2;

/** Node's flag for it. */
export const SEMI_SPACE_FLAG = `--max-semi-space-size=${SERVING_SEMI_SPACE_MB}`;

/** Whether a node argument is `--max-semi-space-size` (either spelling, with or without `=N`). */
export function isSemiSpaceArg(arg: string): boolean {
  return /^--max[-_]semi[-_]space[-_]size(?:=|$)/.test(arg);
}

/**
 * The `--max-semi-space-size` (MB) this process was started with — from node's own arguments or
 * NODE_OPTIONS, the later one winning as node applies them — or undefined when it was not set
 * (V8's default, 16 MB on 64-bit systems). Accepts `--max-semi-space-size=N`,
 * `--max-semi-space-size N` and the underscore spelling.
 */
export function semiSpaceMb(execArgv: readonly string[] = process.execArgv, nodeOptions: string | undefined = process.env.NODE_OPTIONS): number | undefined {
  let found: number | undefined;
  // NODE_OPTIONS is applied first, the command line after it (the command line wins)
  for (const args of [(nodeOptions ?? '').split(/\s+/).filter(Boolean), execArgv]) {
    for (let i = 0; i < args.length; i++) {
      if (!isSemiSpaceArg(args[i])) continue;
      const eq = args[i].indexOf('=');
      const v = Number(eq >= 0 ? args[i].slice(eq + 1) : args[i + 1]);
      if (Number.isFinite(v) && v > 0) found = v;
    }
  }
  return found;
}

/**
 * A one-line advice when this process runs with a young generation that makes full GCs land in
 * the latency tail (not set, or over 4 MB), else undefined.
 */
export function youngGenerationAdvice(mb: number | undefined = semiSpaceMb()): string | undefined {
  if (mb !== undefined && mb <= 4) return undefined;
  return `node runs with ${mb === undefined ? "V8's default young generation (16 MB semi-spaces)" : `${mb} MB semi-spaces`}: full GCs will land in the slowest requests (p99 ≈ 2.3× p50 instead of ≈ 1.5× at the Beauty shape); start node with ${SEMI_SPACE_FLAG} (the installed \`semrec\` command does; see docs/serving.md)`;
}
