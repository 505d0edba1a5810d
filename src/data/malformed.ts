/**
 * Collects malformed input lines (count + first examples with line numbers) and decides when a
 * file is simply not in the format it was read as.
 */
import { FormatError } from '../errors.js';
import type { MalformedLine, MalformedReport } from './types.js';

/** How many leading lines must all be malformed before a file is declared "not this format". */
const SNIFF_LINES = 50;
const MAX_EXAMPLES = 20;

/** Per-file malformed-line tracker shared by all loaders. */
export class MalformedCollector {
  private readonly report: MalformedReport = { count: 0, examples: [] };
  private readonly perFile = new Map<string, { good: number; bad: number; firstReason?: MalformedLine }>();

  private stats(file: string) {
    let s = this.perFile.get(file);
    if (!s) {
      s = { good: 0, bad: 0 };
      this.perFile.set(file, s);
    }
    return s;
  }

  /** Record a good record from `file`. */
  ok(file: string): void {
    this.stats(file).good++;
  }

  /**
   * Record a malformed line. Throws a {@link FormatError} when the first {@link SNIFF_LINES}
   * records of a file are all malformed: that file is not in the expected format.
   */
  bad(file: string, line: number, reason: string, format: string): void {
    const s = this.stats(file);
    s.bad++;
    const entry = { file, line, reason };
    s.firstReason ??= entry;
    this.report.count++;
    if (this.report.examples.length < MAX_EXAMPLES) this.report.examples.push(entry);
    if (s.good === 0 && s.bad >= SNIFF_LINES) this.notFormat(file, format);
  }

  /**
   * Record a well-formed line that was still not used as it is (a duplicate): reported with the
   * malformed lines, but not counted against the file's format.
   */
  note(file: string, line: number, reason: string): void {
    this.report.count++;
    if (this.report.examples.length < MAX_EXAMPLES) this.report.examples.push({ file, line, reason });
  }

  /** At end of a file: throw a {@link FormatError} if it had malformed lines and no good ones. */
  finish(file: string, format: string): void {
    const s = this.stats(file);
    if (s.good === 0 && s.bad > 0) this.notFormat(file, format);
  }

  private notFormat(file: string, format: string): never {
    const s = this.stats(file);
    const first = s.firstReason;
    throw new FormatError(
      file,
      `not a ${format} file: no valid record in its first ${s.bad} line(s)` +
        (first ? ` (line ${first.line}: ${first.reason})` : ''),
    );
  }

  /** The summary so far. */
  get summary(): MalformedReport {
    return { count: this.report.count, examples: [...this.report.examples] };
  }
}
