/**
 * Running the PyTorch trainer (`python3 -m trainer ...`) as a child process: JSON config in,
 * JSON lines out. The interpreter is `/usr/bin/python3` (the Debian one that sees python3-torch)
 * unless `SEMREC_PYTHON` names another.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SemrecError } from '../errors.js';

/** The trainer failed (non-zero exit); `stderr` holds its last lines. */
export class TrainerError extends SemrecError {
  constructor(message: string) {
    super('E_TRAINER', message);
  }
}

/** Directory that contains the `trainer/` package. */
export function trainerRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(path.join(dir, 'trainer', '__main__.py'))) return dir;
    dir = path.dirname(dir);
  }
  throw new TrainerError('cannot find the trainer/ package next to this installation');
}

/** The Python interpreter to use. */
export function pythonPath(): string {
  return process.env.SEMREC_PYTHON ?? '/usr/bin/python3';
}

/** A free TCP port on localhost (for the DDP rendezvous). */
async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Run `python3 -m trainer args...`; every JSON line on stdout goes to `onEvent`.
 * With `nproc > 1` it starts that many processes with the environment torchrun gives its workers
 * (MASTER_ADDR/PORT, WORLD_SIZE, RANK, LOCAL_RANK): the trainer is torchrun-compatible, and
 * launching it ourselves also works where Debian's torchrun (torch 1.13 on Python 3.11) is broken.
 */
export async function runTrainer(args: string[], onEvent: (e: Record<string, unknown>) => void, opts: { nproc?: number; threads?: number } = {}): Promise<Record<string, unknown>[]> {
  const py = pythonPath();
  if (!existsSync(py)) throw new TrainerError(`Python not found at ${py}: run \`npm run setup\` (installs python3-torch) or set SEMREC_PYTHON`);
  const nproc = opts.nproc ?? 1;
  const base = { ...process.env, PYTHONPATH: trainerRoot(), PYTHONUNBUFFERED: '1', SEMREC_CHILD: '1' } as Record<string, string>;
  if (opts.threads) base.OMP_NUM_THREADS = String(opts.threads);
  const port = nproc > 1 ? await freePort() : 0;
  const events: Record<string, unknown>[] = [];
  const runs = Array.from({ length: nproc }, (_, rank) => {
    const env = nproc > 1 ? { ...base, MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), WORLD_SIZE: String(nproc), RANK: String(rank), LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(nproc) } : base;
    return runOne(py, args, env, rank === 0 ? (e) => {
      events.push(e);
      onEvent(e);
    } : () => {});
  });
  const results = await Promise.allSettled(runs);
  const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
  if (failed) throw failed.reason;
  return events;
}

async function runOne(py: string, args: string[], env: Record<string, string>, onEvent: (e: Record<string, unknown>) => void): Promise<void> {
  const child = spawn(py, ['-m', 'trainer', ...args], { cwd: trainerRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      try {
        onEvent(JSON.parse(line) as Record<string, unknown>);
      } catch {
        err += line + '\n';
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-8000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) {
    const tail = err.trim().split('\n').slice(-12).join('\n');
    if (/No module named 'torch'/.test(err)) throw new TrainerError(`${py} cannot import torch: run \`npm run setup\` (Debian python3-torch) or set SEMREC_PYTHON\n${tail}`);
    throw new TrainerError(`trainer exited with status ${code}:\n${tail}`);
  }
}
