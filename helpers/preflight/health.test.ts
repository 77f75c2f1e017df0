import { describe, expect, it } from 'vitest';
import { stackOwnershipProblem, stalePlans } from './health';

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

describe('stackOwnershipProblem', () => {
  const expected = { checkout: '/root/m1', backendLog: '/root/m1/.stack/logs/backend.log' };

  it("accepts this checkout's own stack", () => {
    expect(stackOwnershipProblem({ status: 200, checkout: '/root/m1', backendLog: '/root/m1/.stack/logs/backend.log' }, expected)).toBeNull();
  });

  it('names the other checkout and how to stop its stack', () => {
    expect(stackOwnershipProblem({ status: 200, checkout: '/work/other', backendLog: '/work/other/.stack/logs/backend.log' }, expected)).toBe(
      'the stack at BASE_URL was started from /work/other, not from this checkout (/root/m1): stop it (cd /work/other && npm run stack -- --stop) or give this run other ports',
    );
  });

  it('names a log this run does not read', () => {
    expect(stackOwnershipProblem({ status: 200, checkout: '/root/m1', backendLog: '/tmp/s/logs/backend.log' }, expected)).toMatch(/writes its backend log to \/tmp\/s\/logs\/backend.log, but this run reads/);
    // BACKEND_LOG_COMMAND set: the run reads the log its own way.
    expect(stackOwnershipProblem({ status: 200, checkout: '/root/m1', backendLog: '/tmp/s/logs/backend.log' }, { ...expected, backendLog: null })).toBeNull();
  });

  it('stops a run against a local server that does not say which checkout it is', () => {
    expect(stackOwnershipProblem({ status: 200, checkout: null, backendLog: null }, expected)).toMatch(/does not say which checkout started it.*START_STACK=never/);
  });
});

