/**
 * The worker process: consumes `provisioning.execute` and `billing.provisioning_meter` from the
 * Postgres-backed queue (pg-boss 10), schedules the meter job daily, and serves its health on
 * 127.0.0.1:<port of WORKER_HEALTH_URL>. Run: `node --import tsx reference/worker/main.ts`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import { createPool } from '../db/pool';
import { portOf, readStackConfig, type StackConfig } from '../lib/config';
import { parseFaults } from '../lib/faults';
import { hasVariant, parseVariants } from '../lib/variants';
import { createBoss, ensureQueues, QUEUES, type ProvisionJob } from '../lib/queue';
import { startGate } from '../stack/start-gate';
import { startHealthServer } from './health';
import { runMeterJob } from './meter';
import { DEFAULT_POLL_INTERVAL_MS, provisionMission } from './provision';

/** Missions provisioned at once; each consumer takes one job at a time. */
const PROVISION_CONSUMERS = 4;
/** pg-boss 10's floor; the suite waits on job pickup, so poll as fast as it allows. */
const POLLING_INTERVAL_SECONDS = 0.5;
/** Consumers' polls this far apart; the meter's own poll takes the slot after the last one. */
const POLL_STAGGER_MS = (POLLING_INTERVAL_SECONDS * 1_000) / (PROVISION_CONSUMERS + 1);
const METER_CRON = '0 3 * * *';
const STOP_TIMEOUT_MS = 5_000;

function log(message: string): void {
  process.stdout.write(`${new Date().toISOString()} worker: ${message}\n`);
}

function pollIntervalFrom(env: NodeJS.ProcessEnv): number {
  const raw = env.PROVISION_POLL_INTERVAL_MS;
  if (raw === undefined || raw === '') return DEFAULT_POLL_INTERVAL_MS;
  if (!/^\d+$/.test(raw) || Number(raw) < 50) throw new Error('PROVISION_POLL_INTERVAL_MS: expects a whole number of milliseconds, at least 50');
  return Number(raw);
}

function readSettings(): { config: StackConfig; pollIntervalMs: number } {
  try {
    const config = readStackConfig();
    parseFaults(config.faults);
    parseVariants(config.variants);
    return { config, pollIntervalMs: pollIntervalFrom(process.env) };
  } catch (error) {
    process.stderr.write(`worker: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const { config, pollIntervalMs } = readSettings();
  const pool = createPool(config.databaseUrl, PROVISION_CONSUMERS + 4);
  // One pool for the missions and the queue: each connection is a Postgres backend process.
  const boss = createBoss(config.databaseUrl, { pool });
  const shutdown = new AbortController();
  // Under the stack: loaded while Postgres initialises, connects once it is ready.
  await startGate();

  await boss.start();
  await ensureQueues(boss);

  const provisionHandler = async (jobs: PgBoss.Job<ProvisionJob>[]) => {
    const outcomes = [];
    for (const job of jobs) {
      const started = Date.now();
      const outcome = await provisionMission(
        {
          pool,
          settings: {
            vultrApiUrl: config.vultrApiUrl,
            credentialsEncryptionKey: config.credentialsEncryptionKey,
            provisionTimeoutMs: config.provisionTimeoutMs,
            pollIntervalMs,
          },
          signal: shutdown.signal,
        },
        job.data,
      );
      const detail = outcome.outcome === 'failed' ? ` error_code=${outcome.error_code}` : outcome.outcome === 'skipped' ? ` reason="${outcome.reason}"` : '';
      log(`${QUEUES.provision} job=${job.id} mission=${job.data.mission_id} outcome=${outcome.outcome}${detail} in ${Date.now() - started} ms`);
      outcomes.push(outcome);
    }
    return outcomes.length === 1 ? outcomes[0] : outcomes;
  };
  // One consumer polls from the start; the others, and the meter's, join a slot apart, so the idle
  // fetches take turns on one pooled connection instead of each holding a Postgres backend.
  const inSlot = (slot: number, register: () => Promise<unknown>) =>
    sleep(slot * POLL_STAGGER_MS, undefined, { signal: shutdown.signal })
      .then(register)
      .catch((error: unknown) => {
        if (!shutdown.signal.aborted) log(`starting a queue consumer: ${(error as Error).message}`);
      });
  const consumeProvision = () => boss.work<ProvisionJob>(QUEUES.provision, { batchSize: 1, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, provisionHandler);
  await consumeProvision();
  for (let slot = 1; slot < PROVISION_CONSUMERS; slot++) void inSlot(slot, consumeProvision);
  void inSlot(PROVISION_CONSUMERS, () =>
    boss.work<{ now?: string }>(QUEUES.meter, { batchSize: 1, pollingIntervalSeconds: POLLING_INTERVAL_SECONDS }, async ([job]) => {
      try {
        const result = await runMeterJob({ baseUrl: config.baseUrl, internalApiToken: config.internalApiToken }, job?.data ?? {});
        log(`${QUEUES.meter} job=${job?.id} completed ${JSON.stringify(result)}`);
        return result;
      } catch (error) {
        log(`${QUEUES.meter} job=${job?.id} failed: ${(error as Error).message}`);
        throw error;
      }
    }),
  );
  await boss.schedule(QUEUES.meter, METER_CRON, {}, { tz: 'UTC' });

  const health = await startHealthServer(
    {
      pool,
      enqueueMeter: async (data) => {
        const id = await boss.send(QUEUES.meter, data);
        if (!id) throw new Error('the meter job was not queued');
        return id;
      },
      jobState: async (id) => {
        const job = await boss.getJobById(QUEUES.meter, id, { includeArchive: true });
        return job ? { state: job.state, output: job.output ?? null } : null;
      },
      publicHealth: !hasVariant('worker_command'),
    },
    portOf(config.workerHealthUrl),
  );
  log(hasVariant('worker_command') ? 'ready; no public health URL (variant worker_command)' : `ready; health on ${config.workerHealthUrl}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    // In-flight missions see the abort and end `failed` (worker_stopped) instead of hanging in running.
    shutdown.abort(new Error('worker stopping'));
    health.server.close();
    health.server.closeAllConnections();
    boss
      .stop({ graceful: true, timeout: STOP_TIMEOUT_MS })
      .catch((error: unknown) => log(`stopping the queue: ${(error as Error).message}`))
      .then(() => pool.end())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: ${(error as Error).message}\n`);
  process.exit(1);
});
