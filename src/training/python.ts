/**
 * Running the PyTorch trainer (`python3 -m trainer ...`) as a child process: JSON config in,
 * JSON lines out. The interpreter is `/usr/bin/python3` (the Debian one that sees python3-torch)
 * unless `SEMREC_PYTHON` names another.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, SemrecError } from '../errors.js';

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
 * Several machines training one model (DDP across nodes, as torchrun's `--nnodes`): every node
 * runs the same command with its own `rank`; node 0 hosts the rendezvous at `addr:port`, and its
 * first process is global rank 0 (the one that writes the checkpoint).
 */
export interface TrainerNodes {
  /** Number of nodes (≥ 2). */
  count: number;
  /** This node's rank, 0..count−1. */
  rank: number;
  /** Address of node 0, reachable from every node (torchrun's --master_addr). */
  addr: string;
  /** A free TCP port on node 0 (torchrun's --master_port). */
  port: number;
}

/** Check a node spec; throws InputError naming the bad field. */
export function checkNodes(nodes: TrainerNodes): TrainerNodes {
  const bad = (why: string) => new InputError(`multi-node training: ${why}`, { param: 'nodes' });
  if (!Number.isInteger(nodes.count) || nodes.count < 2) throw bad(`--nnodes must be an integer ≥ 2, got ${nodes.count}`);
  if (!Number.isInteger(nodes.rank) || nodes.rank < 0 || nodes.rank >= nodes.count) throw bad(`--node-rank must be an integer in 0..${nodes.count - 1}, got ${nodes.rank}`);
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(nodes.addr)) throw bad(`--master-addr must be a host name or address, got ${JSON.stringify(nodes.addr)}`);
  if (!Number.isInteger(nodes.port) || nodes.port < 1 || nodes.port > 65535) throw bad(`--master-port must be a TCP port (1..65535), got ${nodes.port}`);
  return nodes;
}

/**
 * Run `python3 -m trainer args...`; every JSON line on stdout goes to `onEvent`.
 * With `nproc > 1` it starts that many processes with the environment torchrun gives its workers
 * (MASTER_ADDR/PORT, WORLD_SIZE, RANK, LOCAL_RANK): the trainer is torchrun-compatible, and
 * launching it ourselves also works where Debian's torchrun (torch 1.13 on Python 3.11) is broken.
 * With `nodes`, this node's `nproc` processes are global ranks `nodes.rank · nproc + local` of a
 * world of `nodes.count · nproc`, meeting at `nodes.addr:nodes.port`; events come from global rank
 * 0 only (none on the other nodes).
 */
export async function runTrainer(args: string[], onEvent: (e: Record<string, unknown>) => void, opts: { nproc?: number; threads?: number; nodes?: TrainerNodes; exitGraceMs?: number } = {}): Promise<Record<string, unknown>[]> {
  const py = pythonPath();
  if (!existsSync(py)) throw new TrainerError(`Python not found at ${py}: run \`npm run setup\` (installs python3-torch) or set SEMREC_PYTHON`);
  const nproc = opts.nproc ?? 1;
  const nodes = opts.nodes ? checkNodes(opts.nodes) : undefined;
  const base = { ...process.env, PYTHONPATH: trainerRoot(), PYTHONUNBUFFERED: '1', SEMREC_CHILD: '1' } as Record<string, string>;
  if (opts.threads) base.OMP_NUM_THREADS = String(opts.threads);
  const world = nproc * (nodes?.count ?? 1);
  const addr = nodes?.addr ?? '127.0.0.1';
  const port = nodes ? nodes.port : nproc > 1 ? await freePort() : 0;
  const first = (nodes?.rank ?? 0) * nproc;
  const events: Record<string, unknown>[] = [];
  const children: ChildProcess[] = [];
  const runs = Array.from({ length: nproc }, (_, local) => {
    const rank = first + local;
    const env = world > 1 ? { ...base, MASTER_ADDR: addr, MASTER_PORT: String(port), WORLD_SIZE: String(world), RANK: String(rank), LOCAL_RANK: String(local), LOCAL_WORLD_SIZE: String(nproc), GROUP_RANK: String(nodes?.rank ?? 0) } : base;
    return runOne(py, args, env, rank === 0 ? (e) => {
      events.push(e);
      onEvent(e);
    } : () => {}, (c) => (children[local] = c));
  });
  // A rank that fails stops the others at once: they would wait in a collective for ever. Once
  // global rank 0 has finished (the checkpoint written, every rank past the final barrier), the
  // others get RANK_EXIT_GRACE_MS to leave: a DDP teardown can hang on a rendezvous rank 0 no
  // longer serves (seen on CI: rank 1 spinning for minutes after rank 0 exited 0).
  const stopped = new Set<number>();
  const stop = (except: number) => children.forEach((c, i) => {
    if (i !== except && c.exitCode === null && c.signalCode === null) {
      stopped.add(i);
      c.kill('SIGKILL');
    }
  });
  let grace: NodeJS.Timeout | undefined;
  runs.forEach((run, local) => run.then(
    () => {
      if (first + local === 0 && nproc > 1) grace = setTimeout(() => stop(local), opts.exitGraceMs ?? RANK_EXIT_GRACE_MS);
    },
    () => stop(local),
  ));
  const results = await Promise.allSettled(runs);
  clearTimeout(grace);
  const rank0Done = first === 0 && results[0].status === 'fulfilled';
  const failed = results.find((r, i) => r.status === 'rejected' && !(stopped.has(i) && rank0Done)) as PromiseRejectedResult | undefined;
  // the first failure that was not a stopped straggler: the cause, not a rank we killed because of it
  const cause = results.find((r, i) => r.status === 'rejected' && !stopped.has(i)) as PromiseRejectedResult | undefined;
  if (failed) throw (cause ?? failed).reason;
  return events;
}

/** How long the other local ranks may take to exit once global rank 0 has finished (then they are stopped). */
const RANK_EXIT_GRACE_MS = 20_000;

async function runOne(py: string, args: string[], env: Record<string, string>, onEvent: (e: Record<string, unknown>) => void, onSpawn: (c: ChildProcess) => void = () => {}): Promise<void> {
  const child = spawn(py, ['-m', 'trainer', ...args], { cwd: trainerRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn(child);
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
