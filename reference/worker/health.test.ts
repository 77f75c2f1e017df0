import type { Server } from 'node:http';
import type PgBoss from 'pg-boss';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../db/pool';
import { startTestDatabase, type TestDatabase } from '../db/test-database';
import { createBoss, ensureQueues, QUEUES } from '../lib/queue';
import { WORKER_PROBE_PATH } from '../lib/config';
import { startHealthServer, type HealthDeps } from './health';
import { METER_JOB_CLASS, workerState } from './state';

let db: TestDatabase;
let boss: PgBoss;
let server: Server;
let base: string;

function depsFor(pool: HealthDeps['pool']): HealthDeps {
  return {
    pool,
    enqueueMeter: async (data) => (await boss.send(QUEUES.meter, data))!,
    jobState: async (id) => {
      const job = await boss.getJobById(QUEUES.meter, id, { includeArchive: true });
      return job ? { state: job.state, output: job.output } : null;
    },
  };
}

beforeAll(async () => {
  db = await startTestDatabase();
  boss = createBoss(db.url);
  await boss.start();
  await ensureQueues(boss);
  const started = await startHealthServer(depsFor(db.pool), 0);
  server = started.server;
  base = `http://127.0.0.1:${started.port}`;
}, 60_000);

afterAll(async () => {
  server?.close();
  await boss?.stop({ graceful: false });
  await db?.stop();
});

describe('worker health server', () => {
  it('reports zero failures for every queue on a fresh database', async () => {
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ status: 'ok', failed: { [QUEUES.provision]: 0, [QUEUES.meter]: 0 } });
    expect(body.queues).toHaveProperty(QUEUES.meter);
  });

  it('counts failed jobs by name, from the live table and the archive', async () => {
    const id = await boss.send(QUEUES.meter, {});
    const [job] = await boss.fetch(QUEUES.meter);
    expect(job?.id).toBe(id);
    await boss.fail(QUEUES.meter, id!, { message: 'rollup answered 401' });
    // Archiving moves a row out of pgboss.job; it must still count.
    await db.pool.query(`INSERT INTO pgboss.archive SELECT *, now() FROM pgboss.job WHERE id = $1`, [id]);
    await db.pool.query('DELETE FROM pgboss.job WHERE id = $1', [id]);
    const second = await boss.send(QUEUES.meter, {});
    await boss.fetch(QUEUES.meter);
    await boss.fail(QUEUES.meter, second!, { message: 'again' });

    const body = await (await fetch(`${base}/health`)).json();

    expect(body.failed[QUEUES.meter]).toBe(2);
    expect(body.failed[QUEUES.provision]).toBe(0);
    expect(body.queues[QUEUES.meter].failed).toBe(1);
  });

  it('queues a meter job on POST /jobs/meter', async () => {
    const response = await fetch(`${base}/jobs/meter`, { method: 'POST', body: JSON.stringify({ now: '2026-05-17T03:00:00Z' }) });
    expect(response.status).toBe(202);
    const { job_id } = await response.json();
    const job = await boss.getJobById<{ now: string }>(QUEUES.meter, job_id);
    expect(job?.data).toEqual({ now: '2026-05-17T03:00:00Z' });
  });

  it('rejects a bad body with 400 and a wrong method with 405', async () => {
    expect((await fetch(`${base}/jobs/meter`, { method: 'POST', body: '{"now": 5}' })).status).toBe(400);
    expect((await fetch(`${base}/jobs/meter`, { method: 'POST', body: 'not json' })).status).toBe(400);
    expect((await fetch(`${base}/jobs/meter`)).status).toBe(405);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('answers 503 degraded when the database does not answer', async () => {
    const deadPool = createPool('postgres://m1:m1@127.0.0.1:1/none', 1);
    const dead = await startHealthServer({ ...depsFor(deadPool), dbTimeoutMs: 500 }, 0);
    try {
      const response = await fetch(`http://127.0.0.1:${dead.port}/health`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'degraded' });
    } finally {
      dead.server.close();
      await deadPool.end();
    }
  });
});

describe('the worker_command variant', () => {
  it('takes /health away but keeps the stack’s own probe and the meter trigger', async () => {
    const hidden = await startHealthServer({ ...depsFor(db.pool), publicHealth: false }, 0);
    const at = `http://127.0.0.1:${hidden.port}`;
    try {
      expect((await fetch(`${at}/health`)).status).toBe(404);
      const probe = await fetch(`${at}${WORKER_PROBE_PATH}`);
      expect(probe.status).toBe(200);
      expect(await probe.json()).toMatchObject({ status: 'ok' });
      const trigger = await fetch(`${at}/jobs/meter`, { method: 'POST', body: '{}' });
      expect(trigger.status).toBe(202);
    } finally {
      hidden.server.close();
    }
  });

  it('answers the probe path beside /health with no variant named', async () => {
    expect((await fetch(`${base}${WORKER_PROBE_PATH}`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('prints worker state as {"running", "failed":{"BillingProvisioningMeterJob": n}}', async () => {
    const failedMeters = (await (await fetch(`${base}/health`)).json()).failed[QUEUES.meter] as number;
    expect(await workerState(db.pool, async () => true)).toEqual({ running: true, failed: { [METER_JOB_CLASS]: failedMeters } });
    expect(await workerState(db.pool, async () => false)).toEqual({ running: false, failed: { BillingProvisioningMeterJob: failedMeters } });
  });
});
