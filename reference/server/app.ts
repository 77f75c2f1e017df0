/**
 * The reference stack's API server: CONTRACT 4 under /api/v1, the built web UI on the
 * same origin, one JSON log line per request. `buildApp` takes every dependency so tests drive it
 * with app.inject against a real Postgres.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import type Stripe from 'stripe';
import { workerProbeUrl, type StackConfig } from '../lib/config';
import { hasFault, PAGE_FAULTS } from '../lib/faults';
import { hasVariant, VARIANTS, type VariantName, type Variants } from '../lib/variants';
import type { RouteContext } from './context';
import { ApiError, errorBody, errorHandler, type ErrorStyle } from './http/errors';
import { JournalLog } from './http/journal-log';
import { RequestLog, type BackendLog } from './http/request-log';
import { isPageRequest, registerWebUi, sendShell, webUiAvailable } from './http/web';
import { MissionEventHub } from './mission-events';
import { registerAiRoutes } from './routes/ai';
import { registerAuthRoutes } from './routes/auth';
import { registerBillingRoutes } from './routes/billing';
import { registerCredentialRoutes } from './routes/credentials';
import { registerSystemRoutes, registerUp } from './routes/system';
import type { Faults } from './services/faults';
import type { Queue } from './services/missions';
import { StreamTickets } from './stream-tickets';

export const DEFAULT_WEB_DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist');
export const HEARTBEAT_MS = 15_000;
const WORKER_HEALTH_TIMEOUT_MS = 1_000;

export type AppDeps = {
  config: StackConfig;
  pool: pg.Pool;
  /** pg-boss (or anything with its `send`); approve enqueues the provisioning job through it. */
  queue: Queue;
  stripe: Stripe;
  /** Default: GET the worker's internal probe (lib/config.ts workerProbeUrl) with a 1 s timeout. */
  workerHealthy?: () => Promise<boolean>;
  /** Default: a hub with its own LISTEN connection to config.databaseUrl. */
  missionEvents?: MissionEventHub;
  /** Default: an in-memory store on the wall clock (tests inject one on their own clock). */
  streamTickets?: StreamTickets;
  /** Default: reference/web/dist; null serves no UI. */
  webDistDir?: string | null;
  /** Default: <STACK_DIR>/logs/backend.log (backend.journal under log_journald); null writes no log. */
  logFile?: string | null;
  /** Default: the process's STACK_FAULTS. */
  faults?: Faults;
  /** Default: the process's STACK_VARIANTS. */
  variants?: Variants;
  now?: () => Date;
  heartbeatMs?: number;
};

export function workerHealthCheck(url: string): () => Promise<boolean> {
  return async () => {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(WORKER_HEALTH_TIMEOUT_MS) });
      await response.body?.cancel();
      return response.ok;
    } catch {
      return false;
    }
  };
}

/** Router-level rejections (malformed URL encoding, an over-long path segment) get the envelope too. */
function routerError(style: ErrorStyle) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    const apiError =
      error.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? new ApiError(404, 'not_found', 'The requested resource was not found')
        : new ApiError(400, 'bad_request', 'The request URL is malformed');
    void reply.status(apiError.statusCode).send(errorBody(apiError, style));
  };
}

/** The JSON log in backend.log, or under `log_journald` the journal lines in backend.journal (and no backend.log). */
function backendLog(deps: AppDeps, variants: Variants): BackendLog {
  const journald = variants('log_journald');
  const file = deps.logFile === undefined ? join(deps.config.stackDir, 'logs', journald ? 'backend.journal' : 'backend.log') : deps.logFile;
  return journald ? new JournalLog(file, deps.now) : new RequestLog(file);
}

/** Where this API server writes its backend log (absolute), or null when it writes none. */
function backendLogPath(deps: AppDeps, variants: Variants): string | null {
  const file = deps.logFile === undefined ? join(deps.config.stackDir, 'logs', variants('log_journald') ? 'backend.journal' : 'backend.log') : deps.logFile;
  return file === null ? null : resolve(file);
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const variants = deps.variants ?? hasVariant;
  const activeVariants = (Object.keys(VARIANTS) as VariantName[]).filter((name) => variants(name));
  const faults = deps.faults ?? hasFault;
  const pageFaults = PAGE_FAULTS.filter((name) => faults(name));
  const errorStyle: ErrorStyle = variants('errors_flat') ? 'flat' : 'nested';
  const log = backendLog(deps, variants);
  const logPath = backendLogPath(deps, variants);
  // A line among the JSON ones that no scan can read: a log reader must say so, not skip it.
  if (faults('backend_log_unreadable') && logPath) {
    mkdirSync(dirname(logPath), { recursive: true });
    appendFileSync(logPath, `API server started (pid ${process.pid})\n`);
  }
  const ownsHub = !deps.missionEvents;
  const ctx: RouteContext = {
    config: deps.config,
    pool: deps.pool,
    queue: deps.queue,
    stripe: deps.stripe,
    faults,
    variants,
    errorStyle,
    workerHealthy: deps.workerHealthy ?? workerHealthCheck(workerProbeUrl(deps.config.workerHealthUrl)),
    missionEvents: deps.missionEvents ?? new MissionEventHub(deps.config.databaseUrl),
    streamTickets: deps.streamTickets ?? new StreamTickets(),
    log,
    now: deps.now ?? (() => new Date()),
    heartbeatMs: deps.heartbeatMs ?? HEARTBEAT_MS,
    openStreams: new Set(),
  };
  const webDist = deps.webDistDir === undefined ? DEFAULT_WEB_DIST : deps.webDistDir;

  const app = Fastify({
    logger: false,
    genReqId: () => randomUUID(),
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    frameworkErrors: routerError(errorStyle),
  });
  app.decorateRequest('auth', null);

  // JSON only: anything else is a 415. An empty body with a JSON content type counts as no body.
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') {
      done(null, undefined);
      return;
    }
    json(request, text, done);
  });

  app.setErrorHandler(errorHandler((request, error) => log.bug(request, error), errorStyle));
  app.setNotFoundHandler((request, reply) => {
    if (isPageRequest(request)) return sendShell(reply, webDist, activeVariants, pageFaults);
    return reply
      .status(404)
      .send(errorBody(new ApiError(404, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`), errorStyle));
  });
  app.addHook('onRequest', async (request) => log.started(request));
  app.addHook('onResponse', async (request, reply) => log.request(request, reply));
  // Event streams never end on their own; close them so shutdown does not wait on them.
  app.addHook('preClose', async () => {
    for (const end of [...ctx.openStreams]) end();
  });
  app.addHook('onClose', async () => {
    if (ownsHub) await ctx.missionEvents.close();
    await log.close();
  });

  registerUp(app, ctx, { checkout: deps.config.checkout, backendLog: logPath });
  await app.register(
    async (api) => {
      registerSystemRoutes(api, ctx);
      registerAuthRoutes(api, ctx);
      registerBillingRoutes(api, ctx);
      registerAiRoutes(api, ctx);
      registerCredentialRoutes(api, ctx);
    },
    { prefix: '/api/v1' },
  );
  if (webUiAvailable(webDist)) await registerWebUi(app, webDist, activeVariants, pageFaults);
  return app;
}
