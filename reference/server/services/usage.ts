/** Live usage read straight from the tables QuotaGuard and the spend tracker share. */
import { liveSpend, type LiveSpend, type SpendOptions, type UsageRow } from '../../rules/spend';
import type { Db } from './db';

export async function accountSpend(db: Db, accountId: string, now: Date, options: SpendOptions): Promise<LiveSpend> {
  const { rows } = await db.query<UsageRow>(
    `SELECT node_instance_id, event, hourly_price, metered_at FROM billing_provisioning_usage_records WHERE account_id = $1`,
    [accountId],
  );
  return liveSpend(rows, now, options);
}

/** Instances that count against the plan: everything not terminated or failed. */
export async function activeInstanceCount(db: Db, accountId: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM system_node_instances WHERE account_id = $1 AND status NOT IN ('terminated', 'error')`,
    [accountId],
  );
  return rows[0]?.n ?? 0;
}

/** Marks pending usage records up to `now` as rolled up; the daily meter job's endpoint. */
export async function rollUpUsage(db: Db, now: Date): Promise<{ metered_count: number; invoiced_count: number }> {
  const { rows } = await db.query<{ account_id: string }>(
    `UPDATE billing_provisioning_usage_records
        SET status = 'rolled_up', rolled_up_at = now(), updated_at = now()
      WHERE status = 'pending' AND metered_at <= $1
      RETURNING account_id`,
    [now],
  );
  return { metered_count: rows.length, invoiced_count: new Set(rows.map((r) => r.account_id)).size };
}
