import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SEMI_SPACE_FLAG, SERVING_SEMI_SPACE_MB, semiSpaceMb, youngGenerationAdvice } from '../../src/util/runtime.js';

describe('young-generation setting (src/util/runtime.ts)', () => {
  it('reads --max-semi-space-size from node arguments and NODE_OPTIONS, in both spellings, the command line winning', () => {
    expect(semiSpaceMb([], undefined)).toBeUndefined();
    expect(semiSpaceMb(['--import', 'tsx'], '--enable-source-maps')).toBeUndefined();
    expect(semiSpaceMb(['--max-semi-space-size=2'], undefined)).toBe(2);
    expect(semiSpaceMb(['--max_semi_space_size', '3'], undefined)).toBe(3);
    expect(semiSpaceMb([], '--enable-source-maps  --max-semi-space-size=1')).toBe(1);
    expect(semiSpaceMb(['--max-semi-space-size=4'], '--max-semi-space-size=1')).toBe(4);
    // the later of two on one command line, as node applies them
    expect(semiSpaceMb(['--max-semi-space-size=8', '--max-semi-space-size=2'], undefined)).toBe(2);
    // not a size: ignored, not misread
    expect(semiSpaceMb(['--max-semi-space-size=big'], undefined)).toBeUndefined();
    expect(semiSpaceMb(['--max-semi-space-size'], undefined)).toBeUndefined();
  });

  it('sees the flag node was really started with', () => {
    const script = `import('${new URL('../../src/util/runtime.ts', import.meta.url).href}').then((m) => console.log(JSON.stringify(m.semiSpaceMb() ?? null)))`;
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) => JSON.parse(execFileSync(process.execPath, [...args, '--import', 'tsx', '-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } })) as number | null;
    expect(run([SEMI_SPACE_FLAG])).toBe(SERVING_SEMI_SPACE_MB);
    expect(run([], { NODE_OPTIONS: '--max-semi-space-size=3' })).toBe(3);
    expect(run([])).toBeNull();
  });

  it('advises only when the young generation is the default or large', () => {
    expect(youngGenerationAdvice(2)).toBeUndefined();
    expect(youngGenerationAdvice(4)).toBeUndefined();
    expect(youngGenerationAdvice(undefined)).toMatch(/default young generation.*--max-semi-space-size=2/);
    expect(youngGenerationAdvice(16)).toMatch(/16 MB semi-spaces/);
  });

  it('the semrec command starts node with the serving setting (its shebang)', () => {
    const first = readFileSync(new URL('../../src/cli.ts', import.meta.url), 'utf8').split('\n')[0];
    expect(first).toBe(`#!/usr/bin/env -S node ${SEMI_SPACE_FLAG}`);
  });
});
