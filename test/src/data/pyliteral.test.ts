import { describe, expect, it } from 'vitest';
import { parsePyLiteral, PyLiteralError } from '../../../src/data/pyliteral.js';

describe('parsePyLiteral', () => {
  it('parses what Python repr() writes', () => {
    expect(parsePyLiteral(`{'a': 1, "b": [1.5, -2e3, True, False, None], 'c': ('x', 'y',), 'd': {}}`)).toEqual({
      a: 1,
      b: [1.5, -2000, true, false, null],
      c: ['x', 'y'],
      d: {},
    });
  });

  it('handles escapes, quotes inside strings, unicode and adjacent literals', () => {
    expect(parsePyLiteral(String.raw`'it\'s "fine"\n\x41\u00e9'`)).toBe('it\'s "fine"\nAé');
    expect(parsePyLiteral(`"don't"`)).toBe("don't");
    expect(parsePyLiteral(`u'caf\\xe9' 'bar'`)).toBe('cafébar');
    expect(parsePyLiteral(`r'a\\b'`)).toBe('a\\b');
    expect(parsePyLiteral(`'''tri'ple'''`)).toBe("tri'ple");
  });

  it('agrees with JSON.parse on JSON input', () => {
    const v = { x: [1, 2, { y: 'z', n: null, t: true }], s: 'q"uote' };
    expect(parsePyLiteral(JSON.stringify(v))).toEqual(v);
  });

  it('rejects malformed input with an offset', () => {
    for (const bad of [`{'a': }`, `{'a' 1}`, `'open`, `[1, 2`, `{'a': 1} trailing`, `os.system('x')`]) {
      expect(() => parsePyLiteral(bad)).toThrow(PyLiteralError);
    }
  });
});
