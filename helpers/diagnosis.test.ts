import { describe, expect, it } from 'vitest';
import { diagnose, formatDiagnosis, stalePlans } from './diagnosis';

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

describe('diagnose', () => {
  it('maps live symptoms to the runbook troubleshooting rows', () => {
    const findings = diagnose({
      backendUp: true,
      aiQuota: { current: 100, limit: 100 },
      workerStatus: null,
      activePlatformCredentials: 0,
      vultrKeyValid: true,
      planLimits: [{ slug: 'free', limits: {} }, fresh[1]!],
      probeErrors: [],
    });
    expect(findings.map((f) => f.likelyCause)).toEqual([
      'AI provider quota exhausted',
      'Worker not running',
      'Provider credentials missing',
      'Stale plan limits',
    ]);
  });

  it('says so when nothing matches', () => {
    const findings = diagnose({ backendUp: true, missingSchema: [], aiQuota: { current: 1, limit: 100 }, workerStatus: 'ok', activePlatformCredentials: 1, vultrKeyValid: true, planLimits: fresh, probeErrors: [] });
    expect(findings).toEqual([]);
    expect(formatDiagnosis(findings, ['worker health: timeout'])).toMatch(/No row.*\n\(probe failed: worker health: timeout\)/);
  });
});
