/** `semrec serve`: the HTTP service (see src/serving/server.ts and docs/serving.md). */
import type { Command } from 'commander';
import { pino } from 'pino';
import { InputError, SemrecError } from '../errors.js';
import { isLoopback, readAdminToken } from '../serving/admin.js';
import { createServer, DEFAULT_LIMITS, type ServeLimits } from '../serving/server.js';
import { semiSpaceMb, youngGenerationAdvice } from '../util/runtime.js';
import { intOpt } from './common.js';
import { loadOptions, SEEN_HELP } from './recommend-cmd.js';

interface ServeFlags {
  model: string;
  index?: string;
  port: string;
  host: string;
  threads?: string;
  part?: string;
  fusionWeight?: string;
  seen?: string;
  maxInFlight?: string;
  maxQueue?: string;
  timeoutMs?: string;
  bodyLimit?: string;
  maxHistory?: string;
  logLevel: string;
  adminTokenFile?: string;
  adminOpen?: boolean;
  reloadRoot?: string[];
  reloadTimeoutMs?: string;
}

/** Listen, with the errors a bad --host or --port gives typed. */
async function listen(server: { app: { listen(o: { port: number; host: string }): Promise<string> } }, port: number, host: string): Promise<string> {
  try {
    return await server.app.listen({ port, host });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') throw new InputError(`--host ${JSON.stringify(host)} is not an address of this machine (${code})`, { param: 'host' });
    if (code === 'EADDRINUSE') throw new InputError(`--port ${port} on ${host} is already in use`, { param: 'port' });
    if (code === 'EACCES' || code === 'EPERM') throw new SemrecError('E_IO', `listening on ${host}:${port} is not permitted (${code}; ports below 1024 need privileges)`);
    throw err;
  }
}

/** Register `serve`. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve recommendations over HTTP: POST /v1/recommend, /healthz, /readyz, /metrics, POST /v1/admin/reload (SIGHUP reloads, SIGTERM drains and exits)')
    .requiredOption('--model <dir>', 'model directory')
    .option('--index <dir>', 'index directory (default: the one recorded with the model)')
    .option('--port <n>', 'TCP port (0: any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: all cores)')
    .option('--part <kind>', 'serve one part of a fused model: transformer | transition')
    .option('--fusion-weight <w>', "override a fused model's transition weight (0..1)")
    .option('--seen <policy>', `default for requests without excludeSeen — ${SEEN_HELP}`)
    .option('--max-in-flight <n>', `requests decoded at once (default ${DEFAULT_LIMITS.maxInFlight})`)
    .option('--max-queue <n>', `requests that may wait; beyond that 503 (default ${DEFAULT_LIMITS.maxQueue})`)
    .option('--timeout-ms <n>', `time limit per request, waiting included (default ${DEFAULT_LIMITS.timeoutMs})`)
    .option('--body-limit <bytes>', `largest request body (default ${DEFAULT_LIMITS.bodyBytes})`)
    .option('--max-history <n>', `most history items per request (default ${DEFAULT_LIMITS.maxHistory})`)
    .option('--log-level <level>', 'pino log level: fatal, error, warn, info, debug, trace, silent', 'info')
    .option('--admin-token-file <file>', 'file holding the admin token (≥ 16 characters; default: the SEMREC_ADMIN_TOKEN environment variable). Without a token the admin API is disabled')
    .option('--admin-open', 'no token: serve the admin API to loopback connections only (refused with a non-loopback --host; logged as a warning)')
    .option('--reload-root <dir>', 'a directory under which POST /v1/admin/reload may load models and indexes (repeatable; default: the parents of --model and the index)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--reload-timeout-ms <n>', 'deadline of a reload: past it the reload is abandoned and reported (default 120000)')
    .action(async (flags: ServeFlags) => {
      const levels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
      if (!levels.includes(flags.logLevel)) throw new InputError(`--log-level must be one of ${levels.join(', ')}, got ${JSON.stringify(flags.logLevel)}`);
      const limits: Partial<ServeLimits> = {};
      const set = (key: keyof ServeLimits, flag: string, v: string | undefined) => {
        const n = intOpt(flag, v, 1);
        if (n !== undefined) limits[key] = n;
      };
      set('maxInFlight', '--max-in-flight', flags.maxInFlight);
      set('maxQueue', '--max-queue', flags.maxQueue);
      set('timeoutMs', '--timeout-ms', flags.timeoutMs);
      set('bodyBytes', '--body-limit', flags.bodyLimit);
      set('maxHistory', '--max-history', flags.maxHistory);
      const port = intOpt('--port', flags.port, 0)!;
      if (port > 65535) throw new InputError(`--port must be in [0, 65535], got ${port}`);
      const logger = pino({ level: flags.logLevel, base: { pid: process.pid } });
      // start, reload and stop lines are written at any level but silent (request logs follow --log-level)
      const life = flags.logLevel === 'silent' ? logger : logger.child({}, { level: 'info' });
      const adminToken = await readAdminToken(flags.adminTokenFile);
      if (flags.adminOpen && adminToken !== undefined) throw new InputError('--admin-open is for a server without a token; give one or the other');
      if (flags.adminOpen && !isLoopback(flags.host)) throw new InputError(`--admin-open needs a loopback --host (127.0.0.1, ::1 or localhost), got ${JSON.stringify(flags.host)}: configure a token instead`);
      const reloadTimeoutMs = intOpt('--reload-timeout-ms', flags.reloadTimeoutMs, 1);
      const server = await createServer({ model: flags.model, index: flags.index, load: loadOptions(flags), limits, logger, lifecycleLogger: life, adminToken, adminOpen: !!flags.adminOpen, reloadRoots: flags.reloadRoot, reloadTimeoutMs });
      let address: string;
      try {
        address = await listen(server, port, flags.host);
      } catch (err) {
        await server.close();
        throw err;
      }
      const g = server.slot.current;
      const semiSpace = semiSpaceMb();
      life.info({ address, model: g.recommender.modelName, modelHash: g.recommender.modelHash, indexHash: g.recommender.index.hash(), items: g.recommender.trie.numItems, limits: server.limits, admin: adminToken ? 'token' : flags.adminOpen ? 'open on loopback' : 'disabled', v8SemiSpaceMb: semiSpace ?? 'default' }, 'semrec serving');
      const advice = youngGenerationAdvice(semiSpace);
      if (advice) life.warn(advice);
      await new Promise<void>((resolve) => {
        const onHup = () => {
          server.reload().catch(() => undefined); // logged by the server; the old model keeps serving
        };
        const stop = (signal: string) => {
          life.info({ signal }, 'shutting down: no new requests, finishing running ones');
          process.off('SIGHUP', onHup);
          server
            .close()
            .then(() => life.info('stopped'))
            .finally(() => resolve());
        };
        process.on('SIGHUP', onHup);
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
