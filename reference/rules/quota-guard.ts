/**
 * QuotaGuard (CONTRACT 6.7 a): may this account provision what the plan asks for, under the
 * limits of its subscription's plan? A plan row whose limits lack a key is "stale" and that key is
 * unlimited — the RUNBOOK pre-flight 2 hazard (CONTRACT 6.1), reproduced on purpose.
 */

export type QuotaReason = 'max_node_instances' | 'max_monthly_provisioning_usd';
export type QuotaPlan = { slug: string; name: string; limits: Record<string, unknown> };
export type QuotaUsage = { node_instance_count: number; monthly_provisioning_usd: number };
export type QuotaRequest = { instance_count: number; monthly_usd: number };

export type QuotaDenial = {
  allowed: false;
  reason: QuotaReason;
  message: string;
  details: { reason: QuotaReason; plan_slug: string; limits: Record<string, unknown>; current_usage: QuotaUsage };
};
export type QuotaDecision = { allowed: true } | QuotaDenial;

/** The plan everyone can upgrade to; its own limits are not followed by an upgrade hint. */
export const UPGRADE_PLAN = { slug: 'pro_cloud', name: 'Pro Cloud' } as const;

/** A usable limit, or null when the key is absent or not a number (unlimited). */
export function limitOf(limits: Record<string, unknown>, key: QuotaReason): number | null {
  const value = limits[key];
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function cents(usd: number): number {
  return Math.round((usd + Number.EPSILON) * 100) / 100;
}

function limitMessage(plan: QuotaPlan, reason: QuotaReason, limit: number): string {
  const what = reason === 'max_node_instances' ? `${limit} instance${limit === 1 ? '' : 's'}` : `$${limit}/mo of provisioning`;
  const upgrade = plan.slug === UPGRADE_PLAN.slug ? '' : ` Upgrade to ${UPGRADE_PLAN.name} for more.`;
  return `${plan.name} plan limit reached: ${what}.${upgrade}`;
}

export function checkQuota(plan: QuotaPlan, usage: QuotaUsage, request: QuotaRequest): QuotaDecision {
  const current_usage = { node_instance_count: usage.node_instance_count, monthly_provisioning_usd: cents(usage.monthly_provisioning_usd) };
  const deny = (reason: QuotaReason, limit: number): QuotaDenial => ({
    allowed: false,
    reason,
    message: limitMessage(plan, reason, limit),
    details: { reason, plan_slug: plan.slug, limits: plan.limits, current_usage },
  });

  const maxInstances = limitOf(plan.limits, 'max_node_instances');
  if (maxInstances !== null && usage.node_instance_count + Math.max(1, request.instance_count) > maxInstances) {
    return deny('max_node_instances', maxInstances);
  }
  const maxMonthly = limitOf(plan.limits, 'max_monthly_provisioning_usd');
  if (maxMonthly !== null && cents(usage.monthly_provisioning_usd + request.monthly_usd) > maxMonthly) {
    return deny('max_monthly_provisioning_usd', maxMonthly);
  }
  return { allowed: true };
}
