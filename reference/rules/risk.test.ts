import { describe, expect, it } from 'vitest';
import { assessRisk, severityFor, type RiskInput } from './risk';

const discord: RiskInput = {
  publicExposure: false,
  hasDatabase: false,
  hasPrivateNetwork: false,
  monthlyUsd: 5.04,
  budgetUsd: 10,
  instanceCount: 1,
  regionCount: 1,
};

describe('risk', () => {
  it('rates the Discord bot plan low', () => {
    const risk = assessRisk(discord);
    expect(risk.severity).toBe('low');
    expect(risk.score).toBe(10);
    expect(risk.factors.map((f) => f.key)).toEqual(['baseline', 'public_exposure', 'database', 'network', 'budget_headroom', 'instance_count', 'regions']);
  });

  it('rates a public web app with a database and a private network med', () => {
    const risk = assessRisk({ ...discord, publicExposure: true, hasDatabase: true, hasPrivateNetwork: true, monthlyUsd: 18, budgetUsd: 50, instanceCount: 2 });
    expect(risk.score).toBe(50);
    expect(risk.severity).toBe('med');
  });

  it('rates an over-budget public fleet high and caps the score at 100', () => {
    const risk = assessRisk({ ...discord, publicExposure: true, hasDatabase: true, monthlyUsd: 900, budgetUsd: 100, instanceCount: 40, regionCount: 2 });
    expect(risk.severity).toBe('high');
    expect(risk.score).toBeLessThanOrEqual(100);
  });

  it('treats a missing budget as a risk, not a crash', () => {
    expect(assessRisk({ ...discord, budgetUsd: 0 }).factors.find((f) => f.key === 'budget_headroom')?.points).toBe(15);
  });

  it('puts the band edges at 30 and 60', () => {
    expect([severityFor(29), severityFor(30), severityFor(59), severityFor(60)]).toEqual(['low', 'med', 'med', 'high']);
  });

  it('reads a low plan as med under the risk_wrong fault', () => {
    expect(assessRisk(discord, { wrong: true }).severity).toBe('med');
    expect(severityFor(70, { wrong: true })).toBe('high');
  });
});
