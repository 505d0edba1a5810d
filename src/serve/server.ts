/**
 * `semrec serve`: the HTTP service (fastify, zod request schemas, prom-client metrics, pino logs).
 *
 *   POST /v1/recommend      {history, k?, beamWidth?, excludeSeen?, allow?, deny?} → items
 *   GET  /healthz           alive (200 while the process runs)
 *   GET  /readyz            ready (200 once a model is loaded; 503 while shutting down)
 *   GET  /metrics           Prometheus text
 *   POST /v1/admin/reload   {model?, index?}: load + verify off the request path, then switch
 *
 * Everything is bounded: body size, history and candidate-list lengths, k and beam width, time
 * per request, requests running and waiting. Past the limits a request is answered at once —
 * 413 / 400 for oversized input, 503 + Retry-After when the queue is full or the time limit is
 * hit — never queued without bound. Errors are JSON `{ error: { code, message } }` with the
 * typed error code. See docs/serving.md.
 */
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import { hasZodFastifySchemaValidationErrors, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { z } from 'zod';
import { SemrecError, UnavailableError } from '../errors.js';
import { MAX_BEAM, MAX_K, Recommender, SERVE_PROCESS_WARMUP, type LoadOptions } from '../recommender.js';
import { Admission } from './admission.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { RecommenderSlot, type Generation } from './slot.js';

/** Limits of the server (all enforced per request). */
export interface ServeLimits {
  /** Largest request body in bytes (default 1 MiB). */
  bodyBytes: number;
  /** Most history items per request (default 1,000; the model reads its last maxHistory). */
  maxHistory: number;
  /** Most ids in `allow` or `deny` (default 10,000). */
  maxCandidates: number;
  /** Longest item id in characters (default 256). */
  maxIdLength: number;
  /** Time limit per request, waiting included, in ms (default 10,000). */
  timeoutMs: number;
  /** Recommendation requests decoded at once (default 64). */
  maxInFlight: number;
  /** Requests that may wait for a place (default 256); beyond: 503. */
  maxQueue: number;
}

/** Default {@link ServeLimits}. */
export const DEFAULT_LIMITS: ServeLimits = { bodyBytes: 1 << 20, maxHistory: 1000, maxCandidates: 10_000, maxIdLength: 256, timeoutMs: 10_000, maxInFlight: 64, maxQueue: 256 };

/** Options of {@link createServer}. */
export interface ServeOptions {
  /** Model directory. */
  model: string;
  /** Index directory (default: the one recorded with the model). */
  index?: string;
  /** How the model is loaded (threads, part, fusion weight; `processWarmup` defaults to {@link SERVE_PROCESS_WARMUP} here). */
  load?: LoadOptions;
  limits?: Partial<ServeLimits>;
  /** pino logger for structured logs (default: none). */
  logger?: Logger;
  /** Logger for reloads (default: `logger`), e.g. one that logs them whatever the request log level. */
  lifecycleLogger?: Logger;
  /** If set, /v1/admin/* requires `Authorization: Bearer <token>`. */
  adminToken?: string;
}

/** A running (or ready to listen) server. */
export interface SemrecServer {
  app: FastifyInstance;
  slot: RecommenderSlot;
  admission: Admission;
  metrics: ServerMetrics;
  limits: ServeLimits;
  /** Reload (same directories, or new ones); resolves to the new generation, rejects and keeps the old one on failure. */
  reload(paths?: { model?: string; index?: string }): Promise<Generation>;
  /** Stop accepting, finish running requests, release the model. */
  close(): Promise<void>;
}

const HTTP_STATUS: Record<string, number> = {
  E_INPUT: 400,
  E_EMPTY_HISTORY: 422,
  E_NOT_FOUND: 404,
  E_UNAUTHORIZED: 401,
  E_OVERLOADED: 503,
  E_TIMEOUT: 503,
  E_CLOSED: 503,
};

/** JSON error body. */
function sendError(reply: FastifyReply, status: number, code: string, message: string, extra: Record<string, unknown> = {}): FastifyReply {
  return reply.status(status).send({ error: { code, message, ...extra } });
}

function describe(gen: Generation) {
  const r = gen.recommender;
  return { generation: gen.id, model: r.modelName, modelHash: r.modelHash, indexHash: r.index.hash(), items: r.trie.numItems, excludeSeenByDefault: r.excludeSeenByDefault, loadedAt: gen.loadedAt.toISOString() };
}

/** Settle `p` or reject with E_TIMEOUT after `ms` (the work itself runs on; its result is dropped). */
function deadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('E_TIMEOUT', `request took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Load the model and build the server (call `app.listen` to serve). */
export async function createServer(opts: ServeOptions): Promise<SemrecServer> {
  const limits: ServeLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  let paths = { model: opts.model, index: opts.index };
  // a serving process warms V8's compiler on its first load (later loads stop once their own faults settle)
  const loaderFor = (p: { model: string; index?: string }) => () => Recommender.load(p.model, p.index, { processWarmup: SERVE_PROCESS_WARMUP, ...opts.load });
  const slot = await RecommenderSlot.open(loaderFor(paths));
  const admission = new Admission(limits.maxInFlight, limits.maxQueue);
  const metrics = createMetrics(() => ({ inFlight: admission.inFlight, queued: admission.queued }));
  const showModel = (g: Generation) => {
    metrics.model.reset();
    const d = describe(g);
    metrics.model.set({ model: d.model, model_hash: d.modelHash, index_hash: d.indexHash, generation: String(d.generation) }, 1);
    metrics.items.set({ state: 'live' }, g.recommender.trie.numItems);
    metrics.items.set({ state: 'retired' }, g.recommender.index.retiredRows.length);
  };
  showModel(slot.current);
  let closing = false;

  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger | undefined,
    bodyLimit: limits.bodyBytes,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // metrics for every request, by route pattern
  const started = new WeakMap<object, bigint>();
  app.addHook('onRequest', async (req) => {
    started.set(req, process.hrtime.bigint());
  });
  // while shutting down, answers close their connection, so that no keep-alive socket holds the
  // server open after the last running request
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('Connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const t0 = started.get(req);
    if (t0 !== undefined) metrics.duration.observe({ route }, Number(process.hrtime.bigint() - t0) / 1e9);
    metrics.requests.inc({ route, status: String(reply.statusCode) });
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'E_NOT_FOUND', `no route ${req.method} ${req.url}`));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({ path: v.instancePath || '/', message: v.message }));
      return sendError(reply, 400, 'E_INPUT', `invalid request: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, { issues });
    }
    if (err instanceof UnavailableError) {
      void reply.header('Retry-After', String(err.retryAfter));
      return sendError(reply, 503, err.code, err.message);
    }
    if (err instanceof SemrecError || (err as { code?: unknown }).code === 'E_INPUT') {
      const code = String((err as { code: string }).code);
      return sendError(reply, HTTP_STATUS[code] ?? 422, code, err.message, err instanceof SemrecError && 'skipped' in err ? { skipped: (err as { skipped: string[] }).skipped } : {});
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'E_TOO_LARGE', `request body over ${limits.bodyBytes} bytes`);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendError(reply, err.statusCode, 'E_INPUT', err.message);
    req.log.error({ err }, 'unexpected error');
    return sendError(reply, 500, 'E_INTERNAL', err.message);
  });

  const itemId = z.string().min(1).max(limits.maxIdLength);
  const RecommendBody = z
    .object({
      history: z.array(itemId).min(1).max(limits.maxHistory),
      k: z.number().int().min(1).max(MAX_K).optional(),
      beamWidth: z.number().int().min(1).max(MAX_BEAM).optional(),
      excludeSeen: z.boolean().optional(),
      allow: z.array(itemId).max(limits.maxCandidates).optional(),
      deny: z.array(itemId).max(limits.maxCandidates).optional(),
    })
    .strict();

  app.post('/v1/recommend', { schema: { body: RecommendBody } }, async (req) => {
    const release = await admission.acquire(limits.timeoutMs);
    const work = slot.recommend(req.body.history, req.body);
    work.finally(release).catch(() => undefined);
    const res = await deadline(work, limits.timeoutMs);
    return res;
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (closing) return sendError(reply, 503, 'E_CLOSED', 'shutting down');
    return { ready: true, ...describe(slot.current) };
  });
  app.get('/metrics', async (_req, reply) => {
    void reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const reload = async (p?: { model?: string; index?: string }): Promise<Generation> => {
    const next = p?.model || p?.index ? { model: p.model ?? paths.model, index: p.index ?? (p.model ? undefined : paths.index) } : paths;
    try {
      const g = await slot.reload(loaderFor(next));
      paths = next;
      metrics.reloads.inc({ result: 'ok' });
      showModel(g);
      (opts.lifecycleLogger ?? opts.logger)?.info({ ...describe(g) }, 'reloaded');
      return g;
    } catch (err) {
      metrics.reloads.inc({ result: 'error' });
      (opts.lifecycleLogger ?? opts.logger)?.error({ err }, 'reload failed; the previous model keeps serving');
      throw err;
    }
  };

  // no body at all (`curl -X POST …/reload`) reloads the same directories
  const ReloadBody = z.object({ model: z.string().min(1).optional(), index: z.string().min(1).optional() }).strict().nullish();
  app.post('/v1/admin/reload', { schema: { body: ReloadBody } }, async (req, reply) => {
    if (opts.adminToken !== undefined && req.headers.authorization !== `Bearer ${opts.adminToken}`) return sendError(reply, 401, 'E_UNAUTHORIZED', 'admin requests need Authorization: Bearer <token>');
    try {
      return { reloaded: true, ...describe(await reload(req.body ?? undefined)) };
    } catch (err) {
      const e = err as { code?: string; message?: string };
      return sendError(reply, 422, e.code ?? 'E_INTERNAL', `reload failed, still serving generation ${slot.current.id}: ${e.message}`, { serving: describe(slot.current) });
    }
  });

  return {
    app: app as unknown as FastifyInstance,
    slot,
    admission,
    metrics,
    limits,
    reload,
    async close() {
      closing = true;
      await app.close();
      await slot.close();
    },
  };
}
