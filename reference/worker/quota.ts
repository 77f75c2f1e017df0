/**
 * QuotaGuard's instance-count check as the worker runs it under the `quota_after_vultr` fault
 * (the defect where the check happens only after the VM was created). The rule itself is
 * rules/quota-guard.ts, shared with the API server's approve; this only reads its inputs.
 */
import { checkQuota, type QuotaDecision, type QuotaPlan } from '../rules/quota-guard';
import type { Queryable } from './db';

/** The plan of the account's active subscription, else `free` (CONTRACT 6.7). */
export async function currentQuotaPlan(db: Queryable, accountId: string): Promise<QuotaPlan> {
  const result = await db.query<QuotaPlan>(
    `SELECT p.slug, p.name, p.limits
       FROM saas_plans p
      WHERE p.id = COALESCE(
              (SELECT s.saas_plan_id FROM subscriptions s
                WHERE s.account_id = $1 AND s.status = 'active'
                ORDER BY s.created_at DESC LIMIT 1),
              (SELECT id FROM saas_plans WHERE slug = 'free'))`,
    [accountId],
  );
  // No plan rows at all: nothing to enforce, like a stale plan.
  return result.rows[0] ?? { slug: 'free', name: 'Free', limits: {} };
}

/** Instances that count against the limit: every one not terminated or failed. */
export async function activeInstanceCount(db: Queryable, accountId: string, excludingInstanceId?: string): Promise<number> {
  const result = await db.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM system_node_instances
      WHERE account_id = $1 AND status NOT IN ('terminated', 'error') AND ($2::uuid IS NULL OR id <> $2::uuid)`,
    [accountId, excludingInstanceId ?? null],
  );
  return result.rows[0]?.count ?? 0;
}

/** Would this one instance exceed the plan's `max_node_instances`? (Spend is not re-checked here.) */
export async function checkInstanceQuota(db: Queryable, accountId: string, instanceId: string): Promise<QuotaDecision> {
  const plan = await currentQuotaPlan(db, accountId);
  const count = await activeInstanceCount(db, accountId, instanceId);
  return checkQuota(plan, { node_instance_count: count, monthly_provisioning_usd: 0 }, { instance_count: 1, monthly_usd: 0 });
}
