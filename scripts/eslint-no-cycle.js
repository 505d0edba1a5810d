// ESLint plugin `semrec`, rule `no-cycle`: no import cycle among the project's own modules —
// type-only imports included (eslint-plugin-import's no-cycle skips those, and a type cycle still
// ties two modules together for every reader and refactor). The graph is read from the files on
// disk once per lint run: every relative `import … from`, `export … from` and `import()` of
// src/, quantizer/ and decoding/, `./x.js` resolved to `x.ts` (or `x/index.ts`); its strongly
// connected components (Tarjan) are the cycles, and every import that stays inside one is reported.
import fs from 'node:fs';
import path from 'node:path';

const ROOTS = ['src', 'quantizer', 'decoding'];
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** The module file an import specifier names, or undefined (not one of ours). */
export function resolveSpec(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec).replace(/\.(js|ts|mjs)$/, '');
  for (const cand of [`${base}.ts`, path.join(base, 'index.ts')]) if (fs.existsSync(cand)) return cand;
  return undefined;
}

function walk(dir, out) {
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
}

/** Component id of every file that sits on a cycle (Tarjan's strongly connected components). */
export function cycles(root) {
  const files = [];
  for (const r of ROOTS) walk(path.join(root, r), files);
  const graph = new Map();
  for (const f of files) {
    const deps = new Set();
    for (const m of fs.readFileSync(f, 'utf8').matchAll(SPEC)) {
      const t = resolveSpec(f, m[1]);
      if (t) deps.add(t);
    }
    graph.set(f, deps);
  }
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const comp = new Map();
  const members = [];
  let n = 0;
  const visit = (v) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const c = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1) {
        for (const f of c) comp.set(f, members.length);
        members.push(c.map((f) => path.relative(root, f)).sort());
      }
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return { comp, members };
}

let cached;
const analysis = (cwd) => (cached ??= cycles(cwd));

const rule = {
  meta: { type: 'problem', docs: { description: 'no import cycle among the project modules, type-only imports included' }, schema: [] },
  create(context) {
    const file = context.filename;
    const { comp, members } = analysis(context.cwd);
    const mine = comp.get(file);
    if (mine === undefined) return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = resolveSpec(file, spec);
      if (target && comp.get(target) === mine) context.report({ node, message: `import cycle: ${members[mine].join(' → ')} (type-only imports count too)` });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { 'no-cycle': rule } };
