/**
 * Parser for Python literal expressions as written by `repr()` / `str()` of dicts: the Amazon 2014
 * metadata files hold one such dict per line (single-quoted strings, `True`/`False`/`None`,
 * tuples), which `JSON.parse` cannot read and `eval` must never be used on.
 *
 * Supported: dict, list, tuple, set (as array), str (single/double/triple quotes, escapes, u/r/b
 * prefixes), int, float (incl. inf/nan), True, False, None, and the JSON spellings true/false/null.
 */

/** Raised with the character offset where parsing failed. */
export class PyLiteralError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = 'PyLiteralError';
  }
}

/** A parsed Python literal. Dicts become plain objects (keys stringified), tuples/sets arrays. */
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Parse one complete Python literal; trailing non-space text is an error. */
export function parsePyLiteral(src: string): PyValue {
  const p = new Parser(src);
  const v = p.value();
  p.ws();
  if (p.i < src.length) throw new PyLiteralError('unexpected trailing text', p.i);
  return v;
}

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 9 || c === 10 || c === 13) this.i++;
      else break;
    }
  }

  value(): PyValue {
    this.ws();
    const c = this.s[this.i];
    if (c === undefined) throw new PyLiteralError('unexpected end of input', this.i);
    if (c === '{') return this.dictOrSet();
    if (c === '[') return this.seq('[', ']');
    if (c === '(') return this.seq('(', ')');
    if (c === "'" || c === '"') return this.str();
    if (/[uUrRbB]/.test(c) && /['"]/.test(this.s[this.i + 1] ?? '')) return this.str();
    if (/[-+0-9.]/.test(c)) return this.num();
    return this.word();
  }

  private expect(ch: string): void {
    this.ws();
    if (this.s[this.i] !== ch) throw new PyLiteralError(`expected '${ch}'`, this.i);
    this.i++;
  }

  private dictOrSet(): PyValue {
    this.i++; // {
    const obj: { [key: string]: PyValue } = {};
    const setItems: PyValue[] = [];
    let isSet = false;
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return obj;
    }
    for (;;) {
      const key = this.value();
      this.ws();
      if (this.s[this.i] === ':' && !isSet) {
        this.i++;
        const v = this.value();
        obj[typeof key === 'string' ? key : JSON.stringify(key)] = v;
      } else {
        isSet = true;
        setItems.push(key);
      }
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === '}') {
          this.i++;
          break;
        }
        continue;
      }
      this.expect('}');
      break;
    }
    return isSet ? setItems : obj;
  }

  private seq(open: string, close: string): PyValue[] {
    this.i++; // open
    const out: PyValue[] = [];
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') {
        this.i++;
        this.ws();
        if (this.s[this.i] === close) {
          this.i++;
          return out;
        }
        continue;
      }
      if (this.s[this.i] === close) {
        this.i++;
        return out;
      }
      throw new PyLiteralError(`expected ',' or '${open === '[' ? ']' : ')'}'`, this.i);
    }
  }

  private str(): string {
    const s = this.s;
    let raw = false;
    while (/[uUrRbB]/.test(s[this.i])) {
      if (s[this.i] === 'r' || s[this.i] === 'R') raw = true;
      this.i++;
    }
    const q = s[this.i];
    const triple = s[this.i + 1] === q && s[this.i + 2] === q;
    const start = this.i;
    this.i += triple ? 3 : 1;
    let out = '';
    for (;;) {
      if (this.i >= s.length) throw new PyLiteralError('unterminated string', start);
      const c = s[this.i];
      if (c === q && (!triple || (s[this.i + 1] === q && s[this.i + 2] === q))) {
        this.i += triple ? 3 : 1;
        break;
      }
      if (c === '\\') {
        const n = s[this.i + 1];
        if (n === undefined) throw new PyLiteralError('unterminated escape', this.i);
        if (raw) {
          out += c + n;
          this.i += 2;
          continue;
        }
        this.i += 2;
        switch (n) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case 'a': out += '\x07'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'v': out += '\v'; break;
          case '\\': out += '\\'; break;
          case "'": out += "'"; break;
          case '"': out += '"'; break;
          case '\n': break;
          case 'x': out += this.hex(2); break;
          case 'u': out += this.hex(4); break;
          case 'U': out += this.hex(8); break;
          default: out += '\\' + n;
        }
        continue;
      }
      out += c;
      this.i++;
    }
    // Adjacent string literals concatenate, as in Python.
    const save = this.i;
    this.ws();
    if (this.s[this.i] === "'" || this.s[this.i] === '"') return out + this.str();
    this.i = save;
    return out;
  }

  private hex(n: number): string {
    const h = this.s.slice(this.i, this.i + n);
    if (h.length !== n || !/^[0-9a-fA-F]+$/.test(h)) throw new PyLiteralError('bad hex escape', this.i);
    this.i += n;
    return String.fromCodePoint(parseInt(h, 16));
  }

  private num(): number {
    const m = /^[-+]?(?:inf|nan|(?:\d[\d_]*)?\.?\d*(?:[eE][-+]?\d+)?)[jJlL]?/.exec(this.s.slice(this.i, this.i + 64));
    if (!m || m[0] === '' || m[0] === '-' || m[0] === '+') throw new PyLiteralError('bad number', this.i);
    this.i += m[0].length;
    const t = m[0].replace(/_/g, '').replace(/[lL]$/, '');
    if (/inf$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
    if (/nan$/.test(t)) return NaN;
    const v = Number(t);
    if (Number.isNaN(v)) throw new PyLiteralError('bad number', this.i);
    return v;
  }

  private word(): PyValue {
    const m = /^[A-Za-z_][A-Za-z_0-9]*/.exec(this.s.slice(this.i, this.i + 16));
    const w = m?.[0];
    switch (w) {
      case 'True': case 'true': this.i += w.length; return true;
      case 'False': case 'false': this.i += w.length; return false;
      case 'None': case 'null': this.i += w.length; return null;
      default: throw new PyLiteralError(`unexpected token '${w ?? this.s[this.i]}'`, this.i);
    }
  }
}
