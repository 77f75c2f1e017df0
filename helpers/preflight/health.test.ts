import { describe, expect, it } from 'vitest';
import type { CredentialRow } from '../schemas';
import { credentialHealth, pendingMigrations, stackOwnershipProblem, stalePlans } from './health';

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
  const expected = { checkout: '/root/m1', backendLog: '/root/m1/.stack/logs/backend.log', requireIdentity: true };

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
    // START_STACK=never: an external target by choice; a reference stack must still be this checkout's.
    expect(stackOwnershipProblem({ status: 200, checkout: null, backendLog: null }, { ...expected, requireIdentity: false })).toBeNull();
    expect(stackOwnershipProblem({ status: 200, checkout: '/work/other', backendLog: null }, { ...expected, requireIdentity: false })).toMatch(/started from \/work\/other/);
  });
});

describe('pendingMigrations', () => {
  it('names the required versions schema_migrations does not list, whatever else it lists', () => {
    expect(pendingMigrations(['0001', '0002', '0003', 'variant:cloud_id_in_config'], ['0001', '0002', '0003', '0004'])).toEqual(['migration 0004']);
    expect(pendingMigrations(['0001', '0002', '0003', '0004'], ['0001', '0002', '0003', '0004'])).toEqual([]);
  });
});

describe('credentialHealth', () => {
  const credential = (overrides: Partial<CredentialRow>): CredentialRow => ({
    id: 'c1',
    account_id: null,
    provider_id: 'p1',
    scope: 1,
    is_active: true,
    consecutive_failures: 0,
    last_error: null,
    ...overrides,
  });

  it('passes a clean credential, and notes a failure or a last error below the threshold', () => {
    expect(credentialHealth([credential({})], 3)).toEqual({ problems: [], notes: [] });
    expect(credentialHealth([credential({ consecutive_failures: 1, last_error: 'timeout' })], 3)).toEqual({
      problems: [],
      notes: ['platform-pool credential c1: 1 consecutive failure (last error: timeout)'],
    });
  });

  it('fails an active credential with a run of failures, naming its last error; an inactive one is not judged', () => {
    const unhealthy = credential({ consecutive_failures: 5, last_error: 'Vultr answered 401: Invalid API token.' });
    expect(credentialHealth([unhealthy], 3).problems).toEqual([
      'platform-pool credential c1: 5 consecutive failures (last error: Vultr answered 401: Invalid API token.)',
    ]);
    expect(credentialHealth([{ ...unhealthy, is_active: false }], 3)).toEqual({ problems: [], notes: [] });
  });
});

describe('stalePlans against configured limits', () => {
  it('judges the plans by the limits it is given', () => {
    expect(stalePlans(fresh, { free: { max_node_instances: 2 } })).toEqual(['free (max_node_instances is 1, expected 2)']);
  });
});
