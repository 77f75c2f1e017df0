/**
 * The worker's health endpoint (CONTRACT 6.9) and a loopback-only trigger for the meter job, so
 * the self-test and the suite can run the daily job now instead of waiting for its schedule. The
 * same report also answers on the stack's own probe path (WORKER_PROBE_PATH), which stays when the
 * `worker_command` variant takes the public `/health` away.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { WORKER_PROBE_PATH } from '../lib/config';
import { hasFault } from '../lib/faults';
import { QUEUES } from '../lib/queue';

export type JobState = { state: string; output: unknown };

export type HealthDeps = {
  pool: pg.Pool;
  /** pg-boss schema holding `job` and `archive`. */
  schema?: string;
  enqueueMeter(data: { now?: string }): Promise<string>;
  jobState(id: string): Promise<JobState | null>;
  /** How long a health probe may wait for the database before answering 503. */
  dbTimeoutMs?: number;
  /** False under the `worker_command` variant: public Powernode has no worker health URL. */
  publicHealth?: boolean;
};

export type HealthReport = {
  status: 'ok';
  failed: Record<string, number>;
  queues: Record<string, Record<string, number>>;
};

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const FINAL_STATES = new Set(['completed', 'failed', 'cancelled']);

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

export async function healthReport(pool: pg.Pool, schema = 'pgboss'): Promise<HealthReport> {
  const failed: Record<string, number> = Object.fromEntries(Object.values(QUEUES).map((name) => [name, 0]));
  const failedRows = await pool.query<{ name: string; count: number }>(
    `SELECT name, count(*)::int AS count FROM (
       SELECT name FROM ${schema}.job WHERE state = 'failed' AND completed_on > now() - interval '24 hours'
       UNION ALL
       SELECT name FROM ${schema}.archive WHERE state = 'failed' AND completed_on > now() - interval '24 hours'
     ) recent GROUP BY name`,
  );
  for (const row of failedRows.rows) failed[row.name] = row.count;
  // A worker that no longer runs (or renamed) the meter job: its health says nothing of it.
  if (hasFault('meter_job_unlisted')) delete failed[QUEUES.meter];

  const queues: Record<string, Record<string, number>> = Object.fromEntries(Object.values(QUEUES).map((name) => [name, {}]));
  const stateRows = await pool.query<{ name: string; state: string; count: number }>(
    `SELECT name, state::text AS state, count(*)::int AS count FROM ${schema}.job GROUP BY name, state`,
  );
  for (const row of stateRows.rows) (queues[row.name] ??= {})[row.state] = row.count;
  return { status: 'ok', failed, queues };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 10_000) throw new RangeError('request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('expects a JSON object');
  return parsed as Record<string, unknown>;
}

async function waitForJob(deps: HealthDeps, id: string, timeoutMs: number): Promise<JobState | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await deps.jobState(id);
    if (job && FINAL_STATES.has(job.state)) return job;
    if (Date.now() >= deadline) return job;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function handle(deps: HealthDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return send(res, 403, { error: 'loopback only' });
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');

  if (url.pathname === WORKER_PROBE_PATH || (url.pathname === '/health' && deps.publicHealth !== false)) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'use GET' });
    try {
      return send(res, 200, await withTimeout(healthReport(deps.pool, deps.schema), deps.dbTimeoutMs ?? 2_000));
    } catch (error) {
      return send(res, 503, { status: 'degraded', error: `database: ${(error as Error).message}` });
    }
  }

  if (url.pathname === '/jobs/meter') {
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
    let body: Record<string, unknown>;
    try {
      body = await readJson(req);
    } catch (error) {
      return send(res, 400, { error: `invalid body: ${(error as Error).message}` });
    }
    const now = body.now;
    if (now !== undefined && (typeof now !== 'string' || Number.isNaN(Date.parse(now)))) {
      return send(res, 400, { error: 'now: expects an ISO 8601 time' });
    }
    const id = await deps.enqueueMeter(now === undefined ? {} : { now });
    const wait = url.searchParams.get('wait');
    if (wait !== 'true' && wait !== '1') return send(res, 202, { job_id: id, queue: QUEUES.meter });
    const job = await waitForJob(deps, id, 15_000);
    return send(res, 200, { job_id: id, queue: QUEUES.meter, state: job?.state ?? 'unknown', output: job?.output ?? null });
  }

  send(res, 404, { error: 'not found' });
}

export async function startHealthServer(deps: HealthDeps, port: number, host = '127.0.0.1'): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 503, { status: 'degraded', error: (error as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
