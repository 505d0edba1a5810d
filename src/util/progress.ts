/**
 * Progress output for long jobs, on stderr. On a terminal it draws a cli-progress bar; otherwise
 * (CI, pipes, log files) it prints a plain line at most every few seconds, so logs stay readable.
 * Set `SEMREC_QUIET=1` to silence it.
 */
import cliProgress from 'cli-progress';

/** A running progress indicator. */
export interface Progress {
  /** Advance by `n` (default 1); `extra` replaces the free-text suffix (e.g. "loss 2.31"). */
  tick(n?: number, extra?: string): void;
  /** Set the absolute position. */
  update(value: number, extra?: string): void;
  /** Finish and release the terminal line. */
  stop(): void;
}

const quiet = (): boolean => process.env.SEMREC_QUIET === '1';

/** Start a progress indicator for `total` units of work (0 or undefined: unknown total). */
export function startProgress(label: string, total?: number, unit = ''): Progress {
  if (quiet()) return { tick() {}, update() {}, stop() {} };
  const known = total !== undefined && total > 0;
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: known ? `${label} [{bar}] {percentage}% {value}/{total}${unit} {eta_formatted} {extra}` : `${label} {value}${unit} {extra}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(known ? total : 0, 0, { extra: '' });
    let v = 0;
    return {
      tick(n = 1, extra) {
        v += n;
        bar.update(v, extra !== undefined ? { extra } : undefined);
      },
      update(value, extra) {
        v = value;
        bar.update(v, extra !== undefined ? { extra } : undefined);
      },
      stop() {
        bar.stop();
      },
    };
  }
  let v = 0;
  let last = Date.now();
  const t0 = last;
  let lastExtra = '';
  const print = (final: boolean) => {
    const pct = known ? ` ${((100 * v) / total).toFixed(0)}% (${v}/${total}${unit})` : ` ${v}${unit}`;
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    process.stderr.write(`${label}${pct} ${lastExtra}${final ? ` done in ${secs}s` : ''}\n`);
  };
  return {
    tick(n = 1, extra) {
      this.update(v + n, extra);
    },
    update(value, extra) {
      v = value;
      if (extra !== undefined) lastExtra = extra;
      const now = Date.now();
      if (now - last >= 5000) {
        last = now;
        print(false);
      }
    },
    stop() {
      print(true);
    },
  };
}

/**
 * A progress callback `(stage, done, total)` for jobs with several stages: starts a new bar
 * whenever the stage name changes. Call `stop()` when the job ends.
 */
export function stagedProgress(prefix = ''): { cb: (stage: string, done: number, total: number, detail?: string) => void; stop: () => void } {
  let stage: string | undefined;
  let bar: Progress | undefined;
  return {
    cb(s, done, total, detail) {
      if (s !== stage) {
        bar?.stop();
        stage = s;
        bar = startProgress(prefix + s, total);
      }
      bar?.update(done, detail);
    },
    stop() {
      bar?.stop();
    },
  };
}
