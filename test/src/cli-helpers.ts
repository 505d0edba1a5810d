/** Run the CLI in-process and capture its output. */
import { vi } from 'vitest';
import { main } from '../../src/cli.js';

export async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(['node', 'semrec', ...args]);
    return { code, out, err };
  } finally {
    log.mockRestore();
    so.mockRestore();
    se.mockRestore();
  }
}
