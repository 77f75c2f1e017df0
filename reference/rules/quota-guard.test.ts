import { describe, expect, it } from 'vitest';
import { checkQuota, limitOf } from './quota-guard';

const free = { slug: 'free', name: 'Free', limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 } };
const pro = { slug: 'pro_cloud', name: 'Pro Cloud', limits: { max_node_instances: 50, max_monthly_provisioning_usd: 500 } };
const discordPlan = { instance_count: 1, monthly_usd: 5.04 };

describe('QuotaGuard', () => {
  it('allows the first instance on free', () => {
    expect(checkQuota(free, { node_instance_count: 0, monthly_provisioning_usd: 0 }, discordPlan)).toEqual({ allowed: true });
  });

  it('denies the second instance on free with exactly the contract body', () => {
    const decision = checkQuota(free, { node_instance_count: 1, monthly_provisioning_usd: 5.04 }, discordPlan);
    expect(decision).toEqual({
      allowed: false,
      reason: 'max_node_instances',
      message: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.',
      details: {
        reason: 'max_node_instances',
        plan_slug: 'free',
        limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
        current_usage: { node_instance_count: 1, monthly_provisioning_usd: 5.04 },
      },
    });
  });

  it('denies on the monthly cap when the instance count is fine', () => {
    const decision = checkQuota(free, { node_instance_count: 0, monthly_provisioning_usd: 15 }, discordPlan);
    expect(decision.allowed).toBe(false);
    if (!decision.allowed) {
      expect(decision.reason).toBe('max_monthly_provisioning_usd');
      expect(decision.message).toBe('Free plan limit reached: $20/mo of provisioning. Upgrade to Pro Cloud for more.');
    }
  });

  it('allows landing exactly on the cap', () => {
    expect(checkQuota(free, { node_instance_count: 0, monthly_provisioning_usd: 14.96 }, discordPlan).allowed).toBe(true);
  });

  it('counts every instance a plan creates', () => {
    expect(checkQuota(free, { node_instance_count: 0, monthly_provisioning_usd: 0 }, { instance_count: 2, monthly_usd: 18 }).allowed).toBe(false);
  });

  it('does not suggest an upgrade from the top plan', () => {
    const decision = checkQuota(pro, { node_instance_count: 50, monthly_provisioning_usd: 10 }, discordPlan);
    expect(!decision.allowed && decision.message).toBe('Pro Cloud plan limit reached: 50 instances.');
  });

  it('treats stale limits (missing keys) as unlimited', () => {
    const stale = { ...free, limits: {} };
    expect(checkQuota(stale, { node_instance_count: 40, monthly_provisioning_usd: 9999 }, discordPlan)).toEqual({ allowed: true });
    const half = { ...free, limits: { max_monthly_provisioning_usd: 20 } };
    expect(checkQuota(half, { node_instance_count: 40, monthly_provisioning_usd: 0 }, discordPlan)).toEqual({ allowed: true });
  });

  it('reads limits defensively', () => {
    expect(limitOf({ max_node_instances: '3' }, 'max_node_instances')).toBe(3);
    expect(limitOf({ max_node_instances: null }, 'max_node_instances')).toBeNull();
    expect(limitOf({ max_node_instances: 'lots' }, 'max_node_instances')).toBeNull();
    expect(limitOf({ max_node_instances: -1 }, 'max_node_instances')).toBeNull();
    expect(limitOf({ max_node_instances: 0 }, 'max_node_instances')).toBe(0);
  });
});
