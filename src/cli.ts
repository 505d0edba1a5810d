#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * The `semrec` command line. Every semrec error (bad input, damaged files, setup) is printed as one
 * line with its code (`semrec: error [E_FORMAT] ...`) and exit status 2; anything else is a bug:
 * one line `semrec: unexpected error [E_INTERNAL] ...` (the stack with SEMREC_DEBUG=1), status 1.
 *
 * The shebang starts node with 2 MB young-generation semi-spaces (src/util/runtime.ts: full GCs
 * out of the serving tail); `node dist/src/cli.js` does not, so pass the flag there yourself.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fsError } from '../quantizer/core/index.js';
import { SemrecError } from './errors.js';
import { registerData } from './cli/data.js';
import { registerDemo } from './cli/demo.js';
import { registerIndex } from './cli/index-cmd.js';
import { registerTrain } from './cli/train-cmd.js';
import { registerRecommend } from './cli/recommend-cmd.js';
import { registerCompare } from './cli/compare.js';
import { registerServe } from './cli/serve-cmd.js';
import { registerLlm } from './cli/llm-cmd.js';
import { registerBatch } from './cli/batch-cmd.js';

/** The package version, from the nearest package.json above this file (works from src/ and dist/). */
function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const f = path.join(dir, 'package.json');
    if (existsSync(f)) return (JSON.parse(readFileSync(f, 'utf8')) as { version: string }).version;
    dir = path.dirname(dir);
  }
  return '0.0.0';
}

/** The command being run (for naming flags in error messages). */
let active: Command | undefined;

/** The flag of `cmd` whose value is the library parameter `param` (commander's attribute name). */
function flagOf(cmd: Command | undefined, param: string | undefined): string | undefined {
  if (!cmd || !param) return undefined;
  return cmd.options.find((o) => o.attributeName() === param)?.long;
}

/** Build the CLI program (exported for tests). */
function buildProgram(): Command {
  const program = new Command();
  program.hook('preAction', (_root, cmd) => {
    active = cmd;
  });
  program
    .name('semrec')
    .description('generative recommendation with semantic item IDs')
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  registerData(program);
  registerIndex(program);
  registerTrain(program);
  registerLlm(program);
  registerBatch(program);
  registerRecommend(program);
  registerServe(program);
  registerCompare(program);
  registerDemo(program);
  return program;
}

/** Run the CLI with `argv` (defaults to process.argv); resolves to the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  active = undefined;
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (thrown) {
    // a file-system failure nothing caught closer (permission, full disk, name too long): typed
    const err = !(thrown instanceof SemrecError) && errnoOf(thrown) ? fsError(thrown, String((thrown as NodeJS.ErrnoException).path ?? 'standard output'), 'file') : thrown;
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors (unknown option, missing argument) are bad input: 2
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (err instanceof SemrecError) {
      const flag = flagOf(active, err.param);
      process.stderr.write(`semrec: error [${err.code}] ${err.message}${flag ? ` [${flag}]` : ''}\n`);
      return 2;
    }
    // a bug or an environment failure that no check anticipated: one short line (the stack with
    // SEMREC_DEBUG=1), exit 1
    const e = err as Error;
    const where = e?.stack?.split('\n').find((l) => l.includes(' at '))?.trim();
    process.stderr.write(`semrec: unexpected error [E_INTERNAL] ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}${where ? ` (${where})` : ''}\n`);
    if (process.env.SEMREC_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write('semrec: set SEMREC_DEBUG=1 for the stack trace; please report it\n');
    return 1;
  }
}

/** The errno code of a Node system error (`ENOSPC`, `EACCES`, …), if it is one. */
function errnoOf(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && typeof (err as NodeJS.ErrnoException).syscall === 'string' ? code : undefined;
}

/** The first error an output stream reported (a full disk, a closed pipe), if any. */
const outputErrors = new Map<NodeJS.WriteStream, NodeJS.ErrnoException>();

const invokedDirectly = ((): boolean => {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
})();
/** Resolve once everything written to `stream` so far has been handed to the OS. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) resolve();
    else stream.write('', () => resolve());
  });
}

/** Exit code and message when writing the output failed: results lost are never an exit 0. */
function outputFailure(code: number): number {
  const err = outputErrors.get(process.stdout);
  if (!err || err.code === 'EPIPE') return code; // a reader that stopped early (`| head`) is not a failure
  const typed = fsError(err, 'standard output', 'output');
  process.stderr.write(`semrec: error [${(typed as SemrecError).code ?? 'E_IO'}] ${typed.message}: the output was not written in full\n`);
  return 2;
}

if (invokedDirectly) {
  // never exit before stdout is flushed: on a pipe (`semrec index dump DIR | wc -l`) writes are
  // asynchronous, and process.exit() would drop what is still queued
  for (const s of [process.stdout, process.stderr]) s.on('error', (err: NodeJS.ErrnoException) => void (outputErrors.has(s) || outputErrors.set(s, err)));
  main().then(async (code) => {
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    await new Promise((r) => setImmediate(r)); // a failed write to a file or device reports on the next tick
    process.exit(outputFailure(code));
  });
}
