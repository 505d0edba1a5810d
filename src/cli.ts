#!/usr/bin/env node
/**
 * The `semrec` command line. Errors on bad input are printed as one line with their code
 * (`semrec: error [E_FORMAT] ...`) and exit status 2; unexpected failures print a stack, status 1.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync, realpathSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SemrecError } from './errors.js';
import { registerData } from './cli/data.js';
import { registerDemo } from './cli/demo.js';
import { registerIndex } from './cli/index-cmd.js';
import { registerTrain } from './cli/train-cmd.js';
import { registerRecommend } from './cli/recommend-cmd.js';
import { registerCompare } from './cli/compare.js';
import { registerServe } from './cli/serve-cmd.js';
import { QuantizerError } from '../quantizer/errors.js';
import { DecodingError } from '../decoding/errors.js';

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

/** Build the CLI program (exported for tests). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('semrec')
    .description('generative recommendation with semantic item IDs')
    .version(version())
    .showHelpAfterError()
    .exitOverride();
  registerData(program);
  registerIndex(program);
  registerTrain(program);
  registerRecommend(program);
  registerServe(program);
  registerCompare(program);
  registerDemo(program);
  return program;
}

/** Run the CLI with `argv` (defaults to process.argv); resolves to the exit code. */
export async function main(argv: string[] = process.argv): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors (unknown option, missing argument) are bad input: 2
      return err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (err instanceof SemrecError || err instanceof QuantizerError || err instanceof DecodingError) {
      process.stderr.write(`semrec: error [${err.code}] ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`semrec: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}

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

if (invokedDirectly) {
  // never exit before stdout is flushed: on a pipe (`semrec index dump DIR | wc -l`) writes are
  // asynchronous, and process.exit() would drop what is still queued
  main().then(async (code) => {
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    process.exit(code);
  });
}
