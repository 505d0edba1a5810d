/**
 * Delimited-text helpers (CSV / TSV with CSV-style quoting, as RecBole atomic files use):
 * a field may be wrapped in double quotes, inside which `""` stands for one `"`.
 */

/**
 * Split one line into fields. Returns `null` when a quoted field is not closed (a malformed line).
 */
export function splitDelimited(line: string, sep: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= n) return null;
        const c = line[i];
        if (c === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += c;
        i++;
      }
      // Text after the closing quote up to the separator is kept verbatim (lenient, like Python's csv).
      const end = line.indexOf(sep, i);
      if (end < 0) {
        out.push(v + line.slice(i));
        return out;
      }
      out.push(v + line.slice(i, end));
      i = end + sep.length;
    } else {
      const end = line.indexOf(sep, i);
      if (end < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, end));
      i = end + sep.length;
    }
  }
}

/** Guess the separator of a header line: tab if present, else comma. */
export function sniffSeparator(header: string): string {
  return header.includes('\t') ? '\t' : ',';
}

/** Longest record (in physical lines) a quoted field may span before the line counts as malformed. */
const MAX_RECORD_LINES = 20;

/**
 * Join physical lines into delimited records: a quoted field may contain newlines (CSV rules).
 * Yields `[firstLineNumber, fields]`, or `[firstLineNumber, null]` for a record whose quote never
 * closes within {@link MAX_RECORD_LINES} lines (those lines are then re-read as separate records).
 */
export async function* delimitedRecords(
  lines: AsyncIterable<[number, string]>,
  sep: () => string,
): AsyncGenerator<[number, string, string[] | null]> {
  let pending: [number, string][] = [];
  const flush = function* (): Generator<[number, string, string[] | null]> {
    // Unclosed quote: report the first line, re-scan the rest on their own.
    while (pending.length) {
      const [n, l] = pending.shift()!;
      const f = splitDelimited(l, sep());
      yield [n, l, f];
    }
  };
  for await (const [n, line] of lines) {
    if (pending.length === 0) {
      const f = splitDelimited(line, sep());
      if (f || !line.includes('"')) {
        yield [n, line, f];
        continue;
      }
      pending.push([n, line]);
      continue;
    }
    pending.push([n, line]);
    const joined = pending.map((p) => p[1]).join('\n');
    const f = splitDelimited(joined, sep());
    if (f) {
      const first = pending[0][0];
      pending = [];
      yield [first, joined, f];
    } else if (pending.length >= MAX_RECORD_LINES) {
      yield* flush();
    }
  }
  yield* flush();
}
