import { describe, expect, it } from 'vitest';
import { stalePlans } from './health';

const fresh = [
  { slug: 'free', limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 } },
  { slug: 'pro_cloud', limits: { max_node_instances: 50, max_monthly_provisioning_usd: 500, extra: true } },
];

describe('stalePlans', () => {
  it('accepts the runbook values (other keys allowed)', () => {
    expect(stalePlans(fresh)).toEqual([]);
  });

  it('names a stale or missing plan and what is wrong', () => {
    expect(stalePlans([{ slug: 'free', limits: {} }])).toEqual([
      'free (max_node_instances is null, expected 1; max_monthly_provisioning_usd is null, expected 20)',
      'pro_cloud (no plan row)',
    ]);
  });
});
