/**
 * The admin surface's guards: closed unless a token is configured (or, without one, only for
 * connections to a loopback address, said loudly in the log), the token compared in constant time,
 * and reloads limited to directories under configured roots. HTTP clients never see a path: a
 * reload's errors name a code and the generation still serving; the details go to the server log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { InputError } from '../errors.js';
import { readRegularText } from '../../quantizer/core/index.js';

/** Shortest admin token accepted (characters). */
export const MIN_TOKEN_CHARS = 16;
/** Default deadline of a reload (load + verify), in ms. */
export const DEFAULT_RELOAD_TIMEOUT_MS = 120_000;

/** How the admin routes are secured. */
export interface AdminPolicy {
  /** The bearer token (at least {@link MIN_TOKEN_CHARS} characters), or undefined. */
  token?: string;
  /** Without a token: serve admin routes to connections made to a loopback address only. */
  openOnLoopback: boolean;
  /** Real paths of the directories under which a reload may load a model or an index. */
  roots: string[];
}

/** Check a configured token. */
export function checkToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) throw new InputError(`the admin token must be at least ${MIN_TOKEN_CHARS} characters without whitespace (e.g. openssl rand -hex 24)`, { param: 'adminToken' });
  return token;
}

/**
 * The admin token from a file (`--admin-token-file`, trimmed; a regular file of at most 4 KB) or the
 * environment variable `SEMREC_ADMIN_TOKEN`; the file wins.
 */
export async function readAdminToken(file: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const raw = file !== undefined ? (await readRegularText(file, { what: 'admin token file', maxBytes: 4096 })).trim() : env.SEMREC_ADMIN_TOKEN || undefined;
  return checkToken(raw);
}

/** Whether an `Authorization` header carries `Bearer <token>` (compared in constant time). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const given = typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7) : '';
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b) && given.length > 0;
}

/** Whether an address (a socket's local or remote address, or a --host value) is a loopback one. */
export function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  if (addr === 'localhost') return true;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** Real paths of reload roots (each must be an existing directory). */
export async function resolveRoots(dirs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    let real: string;
    try {
      real = await fs.realpath(d);
    } catch {
      throw new InputError(`reload root ${d} does not exist`, { param: 'reloadRoots' });
    }
    if (!(await fs.stat(real)).isDirectory()) throw new InputError(`reload root ${d} is not a directory`, { param: 'reloadRoots' });
    out.push(real);
  }
  return out;
}

/**
 * The real path of `p` if it is an existing directory under one of `roots`, else undefined — the
 * caller answers the same way for a missing path and one outside the roots (no file-system probe).
 */
export async function allowedDir(p: string, roots: readonly string[]): Promise<string | undefined> {
  let real: string;
  try {
    real = await fs.realpath(p);
    if (!(await fs.stat(real)).isDirectory()) return undefined;
  } catch {
    return undefined;
  }
  return roots.some((r) => real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep)) ? real : undefined;
}
