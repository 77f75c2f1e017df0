import { describe, expect, it } from 'vitest';
import { diagnose, diagnosisLines, formatDiagnosis, type ProbeResults } from './diagnosis';

const fresh = [
  { slug: 'free', limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 } },
  { slug: 'pro_cloud', limits: { max_node_instances: 50, max_monthly_provisioning_usd: 500, extra: true } },
];

/** Every probe answered and nothing is wrong. */
const healthy: ProbeResults = {
  backendUp: true,
  serverErrors: { source: '.stack/logs/backend.log', count: 0, lines: [] },
  missingSchema: [],
  aiQuota: { current: 1, limit: 100 },
  workerStatus: 'ok',
  activePlatformCredentials: 1,
  vultrApi: { outcome: 'accepted', detail: 'GET /account answered 200' },
  stripeApi: { reachable: true, detail: 'answered' },
  undeliveredWebhooks: [],
  stuckInstances: [],
  planLimits: fresh,
  probeErrors: [],
};

const causes = (probes: Partial<ProbeResults>) => diagnose({ ...healthy, ...probes }).map((f) => f.likelyCause);

describe('diagnose', () => {
  it('maps live symptoms to the runbook troubleshooting rows', () => {
    expect(
      causes({ aiQuota: { current: 100, limit: 100 }, workerStatus: null, activePlatformCredentials: 0, planLimits: [{ slug: 'free', limits: {} }, fresh[1]!] }),
    ).toEqual(['AI provider quota exhausted', 'Worker not running', 'Provider credentials missing', 'Stale plan limits']);
  });

  it('says so when nothing matches, and lists the probes that failed', () => {
    const findings = diagnose(healthy);
    expect(findings).toEqual([]);
    expect(formatDiagnosis(findings, ['worker health: timeout'])).toMatch(/No row.*\n\(probe failed: worker health: timeout\)/);
  });

  it('reads an undefined probe result as unknown, never as a finding', () => {
    expect(diagnose({ probeErrors: ['backend /up: ECONNREFUSED'] })).toEqual([]);
  });

  it('backend answering 5xx: the count, where, and the matching log lines under the finding', () => {
    const lines = ['{"time":1,"method":"GET","url":"/api/v1/billing/spend","statusCode":500}'];
    const [finding] = diagnose({ ...healthy, serverErrors: { source: 'backend.log', count: 7, lines } });
    expect(finding).toMatchObject({ likelyCause: 'Backend answered 5xx', seen: '7 5xx answers in backend.log since the test started (the first 1 below)', details: lines });
    expect(formatDiagnosis([finding!], [])).toContain(`  seen: 7 5xx answers in backend.log since the test started (the first 1 below)\n    ${lines[0]}\n  first action:`);
    expect(diagnose({ ...healthy, serverErrors: { source: 'backend.log', count: 1, lines } })[0]!.seen).toBe('1 5xx answer in backend.log since the test started');
  });

  it('Vultr: a rejected key is the credentials row; no answer and 429 are rows of their own', () => {
    expect(causes({ vultrApi: { outcome: 'rejected', detail: 'GET /v2/account answered 401: Invalid API token.' } })).toEqual(['Provider credentials missing']);
    expect(diagnose({ ...healthy, vultrApi: { outcome: 'rejected', detail: '401' } })[0]!.seen).toBe('VULTR_API_KEY rejected by GET /account (401)');
    expect(causes({ vultrApi: { outcome: 'unreachable', detail: 'ECONNREFUSED' } })).toEqual(['Vultr API unreachable']);
    expect(causes({ vultrApi: { outcome: 'rate_limited', detail: '429' } })).toEqual(['Vultr API rate limited']);
  });

  it('a platform-pool credential Vultr keeps refusing is the credentials row, with its failures and last error', () => {
    const unhealthy = ['platform-pool credential c1: 5 consecutive failures (last error: 401 Invalid API token)'];
    const [finding] = diagnose({ ...healthy, unhealthyPlatformCredentials: unhealthy });
    expect(finding).toMatchObject({ likelyCause: 'Provider credentials missing', seen: unhealthy[0] });
    expect(causes({ unhealthyPlatformCredentials: [] })).toEqual([]);
  });

  it('provisioning timed out: the last Vultr status, or that none was created, or that it is gone', () => {
    const base = { name: 'pn-1a2b3c4d-1', status: 'error', ageSeconds: 17 };
    const [finding] = diagnose({
      ...healthy,
      stuckInstances: [
        { ...base, vultr: { kind: 'found', id: 'v-1', status: 'pending', power_status: 'running', server_status: 'none' } },
        { ...base, status: 'provisioning', vultr: { kind: 'not_created' } },
        { ...base, status: 'starting', vultr: { kind: 'gone', id: 'v-2' } },
        { ...base, status: 'starting', vultr: { kind: 'unreadable', id: 'v-3', error: 'answered 500' } },
      ],
    });
    expect(finding).toMatchObject({ symptom: 'Instance never reaches running', likelyCause: 'Provisioning timed out' });
    expect(finding!.seen.split('; NodeInstance ')).toEqual([
      'NodeInstance pn-1a2b3c4d-1 is error 17 s after it was created; last Vultr status of v-1: status pending, power_status running, server_status none',
      'pn-1a2b3c4d-1 is provisioning 17 s after it was created; no Vultr instance was created',
      'pn-1a2b3c4d-1 is starting 17 s after it was created; its Vultr instance v-2 is gone (404)',
      'pn-1a2b3c4d-1 is starting 17 s after it was created; Vultr instance v-3 could not be read (answered 500)',
    ]);
  });

  it('Stripe: no answer, and webhook events not delivered (named by type and id)', () => {
    expect(causes({ stripeApi: { reachable: false, detail: 'ECONNREFUSED' } })).toEqual(['Stripe API unreachable']);
    const [finding] = diagnose({ ...healthy, undeliveredWebhooks: [{ id: 'evt_1', type: 'checkout.session.completed' }, { id: 'evt_2', type: 'customer.subscription.created' }] });
    expect(finding).toMatchObject({
      likelyCause: 'Stripe webhook not delivered',
      seen: 'not delivered: checkout.session.completed evt_1, customer.subscription.created evt_2',
    });
    const many = Array.from({ length: 7 }, (_, i) => ({ id: `evt_${i}`, type: 'customer.subscription.updated' }));
    expect(diagnose({ ...healthy, undeliveredWebhooks: many })[0]!.seen).toMatch(/evt_4 and 2 more$/);
  });
});

describe('diagnosisLines', () => {
  it('prints one line per finding, symptom → cause → first action (seen), then each failed probe', () => {
    const findings = diagnose({ ...healthy, workerStatus: null });
    expect(diagnosisLines(findings, ['schema: connection refused'])).toEqual([
      'diagnosis: Approve produces 5xx → Worker not running → sudo systemctl status powernode-worker@default (reference stack: check .stack/logs/worker.log) (worker health endpoint did not answer)',
      'diagnosis: probe failed: schema: connection refused',
    ]);
  });

  it('says so when no row matches', () => {
    expect(diagnosisLines([], [])).toEqual(['diagnosis: no row of the runbook troubleshooting table matches the live state']);
  });
});
