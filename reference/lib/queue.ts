/**
 * The Postgres-backed job queue (pg-boss 10). Queue names and payloads are defined here once;
 * the API server only sends, the worker works them.
 */
import type pg from 'pg';
import PgBoss from 'pg-boss';

export const QUEUES = {
  /** Payload: ProvisionJob. Sent by approve; the worker creates the NodeInstance and the VM. */
  provision: 'provisioning.execute',
  /** Payload: { now?: string }. Daily; posts to the internal rollup endpoint. */
  meter: 'billing.provisioning_meter',
} as const;

export type ProvisionJob = { mission_id: string; account_id: string; credential_id: string };

export type BossOptions = {
  /**
   * Run pg-boss's queries on this pool instead of a pool of its own. Every Postgres connection is
   * a backend process of 15-20 MB; a process that already has a pool needs no second one.
   */
  pool?: pg.Pool;
  /**
   * Only send jobs: no maintenance (archiving, expiry), no cron clock. Those run once, in the
   * process that works the queues; a second copy would only poll and hold connections.
   */
  sendOnly?: boolean;
};

export function createBoss(databaseUrl: string, options: BossOptions = {}): PgBoss {
  const { pool } = options;
  const boss = new PgBoss({
    schema: 'pgboss',
    ...(pool ? { db: { executeSql: (text: string, values?: unknown[]) => pool.query(text, values) } } : { connectionString: databaseUrl, max: 4 }),
    ...(options.sendOnly ? { supervise: false, schedule: false } : {}),
  });
  // pg-boss emits 'error' for transient maintenance failures; unhandled it would crash the process.
  boss.on('error', (error) => console.error(`pg-boss: ${error.message}`));
  return boss;
}

/** Creates the queues if missing (idempotent). */
export async function ensureQueues(boss: PgBoss): Promise<void> {
  for (const name of Object.values(QUEUES)) {
    const existing = await boss.getQueue(name);
    if (!existing) await boss.createQueue(name, { name, retryLimit: 0 });
  }
}
