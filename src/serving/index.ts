/**
 * semrec/serve — the HTTP service as a library (`semrec serve` uses it). A separate entry point
 * so that `import { Recommender } from 'semrec'` does not load fastify and prom-client.
 *
 *   import { createServer } from 'semrec/serve';
 *   const server = await createServer({ model: 'model/' });
 *   await server.app.listen({ port: 8080, host: '127.0.0.1' });
 *
 * @packageDocumentation
 */
export { createServer, DEFAULT_LIMITS } from './server.js';
export type { ServeLimits, ServeOptions, SemrecServer } from './server.js';
export { Admission } from './admission.js';
export { createMetrics } from './metrics.js';
export type { ServerMetrics } from './metrics.js';
export { RecommenderSlot, SlotClosedError, smokeTest } from './slot.js';
export { readAdminToken, checkToken, MIN_TOKEN_CHARS, DEFAULT_RELOAD_TIMEOUT_MS } from './admin.js';
export type { Generation, RecommenderLoader } from './slot.js';
