/**
 * Shared bookkeeping of the adversarial suites: run one hostile case with a time limit and
 * classify its outcome the way the fuzz suite does — refused with a typed SemrecError (the
 * expected code when one is given), identical to a reference, silent (a result that is not the
 * reference, or success where a refusal was due), untyped (any other error) or a hang.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { SemrecError } from '../../../src/errors.js';
import { run } from '../cli-helpers.js';

export type Outcome = 'refused' | 'identical' | 'silent' | 'untyped' | 'hang';

/** Counts per outcome, with the first few failures described. */
export class Tally {
  readonly counts: Record<Outcome, number> = { refused: 0, identical: 0, silent: 0, untyped: 0, hang: 0 };
  readonly failures: string[] = [];
  constructor(readonly name: string) {}

  add(outcome: Outcome, label: string, detail = ''): void {
    this.counts[outcome]++;
    if ((outcome === 'silent' || outcome === 'untyped' || outcome === 'hang') && this.failures.length < 20) this.failures.push(`${outcome}: ${label} ${detail}`.trim());
  }

  get total(): number {
    return Object.values(this.counts).reduce((a, b) => a + b, 0);
  }

  /** One line, like the fuzz suite's. */
  line(): string {
    const c = this.counts;
    return `adversarial ${this.name}: ${this.total} cases — ${c.refused} refused, ${c.identical} identical, ${c.silent} silent, ${c.untyped} untyped, ${c.hang} hangs`;
  }
}

/**
 * Run `fn` within `ms`. `want`: the reference result (a success equal to it is `identical`);
 * undefined: the case must be refused (any success is `silent`). `code`: the refusal's expected code.
 */
export async function classify(fn: () => Promise<unknown>, opts: { ms?: number; want?: string; code?: string | RegExp } = {}): Promise<{ outcome: Outcome; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'__hang__'>((resolve) => (timer = setTimeout(() => resolve('__hang__'), opts.ms ?? 8000)));
  try {
    const got = await Promise.race([fn(), hang]);
    if (got === '__hang__') return { outcome: 'hang', detail: '' };
    if (opts.want !== undefined && got === opts.want) return { outcome: 'identical', detail: '' };
    return { outcome: 'silent', detail: String(got).slice(0, 160) };
  } catch (err) {
    if (err instanceof SemrecError) {
      const ok = opts.code === undefined || (typeof opts.code === 'string' ? err.code === opts.code : opts.code.test(err.code));
      return ok ? { outcome: 'refused', detail: err.code } : { outcome: 'untyped', detail: `expected ${String(opts.code)}, got ${err.code}: ${err.message.slice(0, 160)}` };
    }
    return { outcome: 'untyped', detail: String((err as Error)?.stack ?? err).slice(0, 300) };
  } finally {
    clearTimeout(timer);
  }
}

/** Make a FIFO (mkfifo). */
export function mkfifo(file: string): void {
  const r = spawnSync('mkfifo', [file]);
  if (r.status !== 0) throw new Error(`mkfifo ${file} failed: ${String(r.stderr)}`);
}

/**
 * Release anything blocked reading `fifo` (a thread stuck in open(2) would otherwise be lost to
 * the process): open it for writing without blocking, then close it — a blocked reader sees EOF.
 */
export function unblockFifo(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    /* no reader waiting (ENXIO) or gone */
  }
}

/**
 * Run the CLI in-process as a case: a typed refusal (exit 2, one `semrec: error [CODE]` line)
 * becomes a thrown SemrecError, an untyped failure a plain Error, success a result (silent).
 */
export async function cli(args: string[]): Promise<string> {
  const r = await run(args);
  const code = /^semrec: error \[(E_[A-Z_]+)\]/m.exec(r.err)?.[1];
  if (r.code === 2 && code) throw new SemrecError(code as 'E_INPUT', r.err.trim());
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err.slice(0, 300)}`);
  return `exit 0: ${r.out.slice(0, 100)} ${r.err.slice(0, 200)}`;
}
