/**
 * The Postgres-backed job queue (pg-boss 10). Queue names and payloads are defined here once;
 * the API server only sends, the worker works them.
 */
import PgBoss from 'pg-boss';

export const QUEUES = {
  /** Payload: ProvisionJob. Sent by approve; the worker creates the NodeInstance and the VM. */
  provision: 'provisioning.execute',
  /** Payload: { now?: string }. Daily; posts to the internal rollup endpoint. */
  meter: 'billing.provisioning_meter',
} as const;

export type ProvisionJob = { mission_id: string; account_id: string; credential_id: string };

export function createBoss(databaseUrl: string): PgBoss {
  const boss = new PgBoss({ connectionString: databaseUrl, schema: 'pgboss', max: 4 });
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
