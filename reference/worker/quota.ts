/**
 * QuotaGuard as the worker runs it: the instance-count check under the `quota_after_vultr` fault
 * (the defect where the check happens only after the VM was created), and the whole check before
 * any step under the `paywall_in_chat` variant (public Powernode, where a denial becomes a chat
 * message). The rule itself is rules/quota-guard.ts, shared with the API server's approve; this
 * only reads its inputs.
 */
import type { FaultName } from '../lib/faults';
import type { Variants } from '../lib/variants';
import { HOURS_PER_MONTH, HOURS_PER_MONTH_730 } from '../rules/cost';
import { checkQuota, UPGRADE_PLAN, type QuotaDecision, type QuotaDenial, type QuotaPlan, type QuotaReason } from '../rules/quota-guard';
import { liveSpend, type UsageRow } from '../rules/spend';
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

type PlannedCost = { cost_estimate?: { monthly_usd?: number; lines?: { count?: number }[] } } | null;

/**
 * The whole QuotaGuard check of an approved mission, as approve runs it (CONTRACT 6.7 a): its
 * instances and its monthly cost against the plan's limits. Null when allowed.
 */
export async function checkMissionQuota(
  db: Queryable,
  accountId: string,
  plan: PlannedCost,
  switches: { faults: (name: FaultName) => boolean; variants: Variants },
  now = new Date(),
): Promise<QuotaDenial | null> {
  const quotaPlan = await currentQuotaPlan(db, accountId);
  const count = await activeInstanceCount(db, accountId);
  const usage = await db.query<UsageRow>(
    `SELECT node_instance_id, event, hourly_price, metered_at FROM billing_provisioning_usage_records WHERE account_id = $1`,
    [accountId],
  );
  // As the API server's spendHours (server/services/faults.ts): what live spend counts in a month.
  const hours = switches.faults('live_spend_730h') || switches.variants('cost_730h') ? HOURS_PER_MONTH_730 : HOURS_PER_MONTH;
  const spend = liveSpend(usage.rows, now, { hoursPerMonth: hours });
  const instances = (plan?.cost_estimate?.lines ?? []).reduce((sum, line) => sum + (line.count ?? 0), 0);
  const decision = checkQuota(
    quotaPlan,
    { node_instance_count: count, monthly_provisioning_usd: spend.monthly_run_rate_usd },
    { instance_count: instances, monthly_usd: Number(plan?.cost_estimate?.monthly_usd ?? 0) },
  );
  return decision.allowed ? null : decision;
}

/** Public Powernode's names for QuotaGuard's reasons (CONTRACT 9 `paywall_in_chat`). */
export const CORE_UPGRADE_REASONS: Record<QuotaReason, string> = {
  max_node_instances: 'max_active_instances_exceeded',
  max_monthly_provisioning_usd: 'max_monthly_spend_exceeded',
};

export const UPGRADE_URL = `/checkout?plan=${UPGRADE_PLAN.slug}`;

export type UpgradeRequiredMetadata = { requires_upgrade: true; reason: string; cap: number | null; upgrade_url: string };

export function upgradeRequiredMetadata(denial: QuotaDenial): UpgradeRequiredMetadata {
  const cap = denial.details.limits[denial.reason];
  return {
    requires_upgrade: true,
    reason: CORE_UPGRADE_REASONS[denial.reason],
    cap: typeof cap === 'number' ? cap : cap === undefined || cap === null ? null : Number(cap),
    upgrade_url: UPGRADE_URL,
  };
}

/** The assistant's chat message that carries the paywall, in the mission's conversation. */
export async function postUpgradeRequired(
  db: Queryable,
  mission: { id: string; account_id: string; conversation_id: string },
  denial: QuotaDenial,
): Promise<void> {
  const metadata = { mission_id: mission.id, mission_phase: 'execution', upgrade_required: upgradeRequiredMetadata(denial) };
  await db.query(
    `INSERT INTO ai_messages (conversation_id, account_id, role, content, metadata, created_at, updated_at)
     VALUES ($1, $2, 'assistant', $3, $4, clock_timestamp(), clock_timestamp())`,
    [mission.conversation_id, mission.account_id, denial.message, JSON.stringify(metadata)],
  );
}
