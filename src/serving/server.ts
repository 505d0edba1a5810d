/**
 * `semrec serve`: the HTTP service (fastify, zod request schemas, prom-client metrics, pino logs).
 *
 *   POST /v1/recommend      {history, k?, beamWidth?, excludeSeen?, allow?, deny?} → items
 *   GET  /healthz           alive (200 while the process runs)
 *   GET  /readyz            ready (200 once a model is loaded; 503 while shutting down)
 *   GET  /metrics           Prometheus text
 *   POST /v1/admin/reload   {model?, index?}: load + verify off the request path, then switch
 *   GET  /openapi.json      the OpenAPI 3 document of these routes (generated from the zod schemas)
 *
 * The admin route is closed unless a token is configured (`adminToken`, compared in constant
 * time) or, without one, `adminOpen` serves it to loopback connections only; a reload loads only
 * directories under `reloadRoots` and has a deadline; its errors never echo a path (admin.ts).
 * While shutting down, new requests get 503 `E_CLOSED` (Retry-After) until the running ones are
 * done; then the listener closes.
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
import { MAX_BEAM, MAX_K, Recommender, SERVE_PROCESS_WARMUP, type LoadOptions } from './recommender.js';
import swagger from '@fastify/swagger';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import path from 'node:path';
import { allowedDir, checkToken, DEFAULT_RELOAD_TIMEOUT_MS, isLoopback, resolveRoots, tokenMatches } from './admin.js';
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
  /**
   * The admin token (at least 16 characters): /v1/admin/* requires `Authorization: Bearer <token>`.
   * Without a token (and without `adminOpen`) the admin routes are disabled.
   */
  adminToken?: string;
  /** Without a token: serve /v1/admin/* to connections made to a loopback address only (logged as a warning). */
  adminOpen?: boolean;
  /**
   * Directories under which a reload may load a model or an index named in its body (default: the
   * parent directories of the model and index the server started with).
   */
  reloadRoots?: string[];
  /** Deadline of a reload (load + verify), ms (default 120,000): a reload past it is abandoned and reported. */
  reloadTimeoutMs?: number;
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
  const adminToken = checkToken(opts.adminToken);
  if (adminToken !== undefined && opts.adminOpen) throw new SemrecError('E_INPUT', 'adminOpen is for a server without a token; give one or the other');
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
  const life = opts.lifecycleLogger ?? opts.logger;
  const roots = await resolveRoots(opts.reloadRoots ?? [path.dirname(path.resolve(opts.model)), path.dirname(path.resolve(opts.index ?? slot.current.recommender.config.indexDir ?? opts.model))]).catch(async (err: unknown) => {
    await slot.close();
    throw err;
  });
  if (adminToken === undefined && opts.adminOpen) life?.warn({ reloadRoots: roots }, 'ADMIN API OPEN WITHOUT A TOKEN: POST /v1/admin/reload is served to loopback connections only — configure a token (SEMREC_ADMIN_TOKEN or --admin-token-file) for anything else');

  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger | undefined,
    bodyLimit: limits.bodyBytes,
    return503OnClosing: false, // the onRequest hook answers with a typed 503 E_CLOSED
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  await app.register(swagger, {
    openapi: { openapi: '3.0.3', info: { title: 'semrec', description: 'Generative recommendation with semantic item IDs: the HTTP API of `semrec serve` (docs/serving.md).', version: '1' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } },
    transform: jsonSchemaTransform,
  });

  // metrics for every request, by route pattern
  const started = new WeakMap<object, bigint>();
  app.addHook('onRequest', async (req, reply) => {
    started.set(req, process.hrtime.bigint());
    // draining: new requests are answered at once with a typed 503 (the probes too), running ones finish
    if (closing && req.url !== '/healthz') {
      void reply.header('Retry-After', '1');
      return sendError(reply, 503, 'E_CLOSED', 'the server is shutting down');
    }
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
    // the details (which may name files) go to the log, not to the client
    return sendError(reply, 500, 'E_INTERNAL', 'internal error; the server log has the details');
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

  const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }).passthrough() });
  const errors = { 400: ErrorBody, 422: ErrorBody, 503: ErrorBody };
  const RecommendReply = z.object({
    items: z.array(z.object({ itemId: z.string(), score: z.number(), codes: z.array(z.number().int()) })),
    skipped: z.array(z.string()),
    unknownCandidates: z.array(z.string()),
    generation: z.number().int(),
  });
  app.post('/v1/recommend', { schema: { summary: 'Recommend the next items for a history (oldest first)', body: RecommendBody, response: { 200: RecommendReply, ...errors } } }, async (req) => {
    const release = await admission.acquire(limits.timeoutMs);
    const work = slot.recommend(req.body.history, req.body);
    work.finally(release).catch(() => undefined);
    const res = await deadline(work, limits.timeoutMs);
    return res;
  });

  const Described = z.object({ generation: z.number().int(), model: z.string(), modelHash: z.string(), indexHash: z.string(), items: z.number().int(), excludeSeenByDefault: z.boolean(), loadedAt: z.string() });
  app.get('/healthz', { schema: { summary: 'Liveness', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({ status: 'ok' as const }));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/readyz', { schema: { summary: 'Readiness and the model being served', response: { 200: Described.extend({ ready: z.literal(true) }), 503: ErrorBody } } }, async (_req, reply) => {
    if (closing) return sendError(reply, 503, 'E_CLOSED', 'shutting down');
    return { ready: true as const, ...describe(slot.current) };
  });
  app.get('/metrics', { schema: { summary: 'Prometheus metrics (text exposition format)', produces: ['text/plain'] } }, async (_req, reply) => {
    void reply.header('Content-Type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  const reload = async (p?: { model?: string; index?: string }): Promise<Generation> => {
    const next = p?.model || p?.index ? { model: p.model ?? paths.model, index: p.index ?? (p.model ? undefined : paths.index) } : paths;
    try {
      const g = await slot.reload(loaderFor(next), { timeoutMs: opts.reloadTimeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS });
      paths = next;
      metrics.reloads.inc({ result: 'ok' });
      showModel(g);
      life?.info({ ...describe(g) }, 'reloaded');
      return g;
    } catch (err) {
      metrics.reloads.inc({ result: 'error' });
      life?.error({ err }, 'reload failed; the previous model keeps serving');
      throw err;
    }
  };

  // no body at all (`curl -X POST …/reload`) reloads the same directories
  const ReloadBody = z.object({ model: z.string().min(1).max(4096).optional(), index: z.string().min(1).max(4096).optional() }).strict().nullish();
  const adminErrors = { 401: ErrorBody, 403: ErrorBody, 422: ErrorBody, 503: ErrorBody };
  app.post('/v1/admin/reload', { schema: { summary: 'Load and verify a model (the same directories, or others under the reload roots), then switch', security: [{ bearer: [] }], body: ReloadBody, response: { 200: Described.extend({ reloaded: z.literal(true) }), ...adminErrors } } }, async (req, reply) => {
    if (adminToken === undefined && !opts.adminOpen) return sendError(reply, 403, 'E_UNAUTHORIZED', 'the admin API is disabled: start the server with an admin token (SEMREC_ADMIN_TOKEN or --admin-token-file)');
    if (adminToken !== undefined && !tokenMatches(req.headers.authorization, adminToken)) return sendError(reply, 401, 'E_UNAUTHORIZED', 'admin requests need Authorization: Bearer <token>');
    if (adminToken === undefined && !isLoopback(req.socket.localAddress)) return sendError(reply, 403, 'E_UNAUTHORIZED', 'the admin API without a token answers loopback connections only');
    const body = req.body ?? undefined;
    const asked: { model?: string; index?: string } = {};
    for (const key of ['model', 'index'] as const) {
      const v = body?.[key];
      if (v === undefined) continue;
      const real = await allowedDir(v, roots);
      // one answer for a missing directory and one outside the roots: no probe of the file system
      if (!real) return sendError(reply, 403, 'E_UNAUTHORIZED', `${key}: not a directory this server may load (only directories under its reload roots)`);
      asked[key] = real;
    }
    try {
      return { reloaded: true as const, ...describe(await reload(body ? asked : undefined)) };
    } catch (err) {
      const code = err instanceof SemrecError ? err.code : 'E_INTERNAL';
      return sendError(reply, code === 'E_TIMEOUT' ? 503 : 422, code, `reload failed (${code}), still serving generation ${slot.current.id}; the server log has the details`, { serving: describe(slot.current) });
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
      // drain: new requests get 503 E_CLOSED while the listener stays open; then close
      const until = Date.now() + limits.timeoutMs + 1000;
      while ((admission.inFlight > 0 || admission.queued > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      await app.close();
      await slot.close();
    },
  };
}
