import { describe, expect, it } from 'vitest';
import { impliedHoursPerMonth, spendDisagreements, spendFromUsageRecords, usageRecordProblems, type UsageRecordView } from './metering';

const record = (overrides: Partial<UsageRecordView> = {}): UsageRecordView => ({
  node_instance_id: 'n1',
  event: 'running',
  status: 'pending',
  hourly_price: 0.007,
  metered_at: new Date('2026-05-17T10:00:05Z'),
  ...overrides,
});

describe('spend from the usage records', () => {
  it('takes the hours the expected cost implies: 720 for $5.04, 730 for $5.11', () => {
    expect(impliedHoursPerMonth(5.04, 0.007)).toBe(720);
    expect(impliedHoursPerMonth(5.11, 0.007)).toBe(730);
    expect(() => impliedHoursPerMonth(5.04, 0)).toThrow(/hourly price/);
  });

  it('sums the instances whose latest record is running', () => {
    const records = [
      record(),
      record({ node_instance_id: 'n2', hourly_price: 0.018, metered_at: new Date('2026-05-10T00:00:00Z') }),
      record({ node_instance_id: 'n2', event: 'terminated', hourly_price: 0.018, metered_at: new Date('2026-05-11T00:00:00Z') }),
    ];
    expect(spendFromUsageRecords(records, 720)).toEqual({ monthly: 5.04, today: 0.168, running: 1 });
    expect(spendFromUsageRecords([], 720)).toEqual({ monthly: 0, today: 0, running: 0 });
  });
});

describe('spendDisagreements', () => {
  const agreeing = {
    api: { monthly_run_rate_usd: 5.04, today_usd: 0.168 },
    page: { monthlyText: '$5.04/mo', monthlyUsd: '5.04', todayText: '$0.168', todayUsd: '0.168' },
    records: { monthly: 5.04, today: 0.168 },
  };

  it('finds none when the API, the page and the records agree (a page may round to cents)', () => {
    expect(spendDisagreements(agreeing)).toEqual([]);
    expect(spendDisagreements({ ...agreeing, page: { ...agreeing.page, todayText: '$0.17' } })).toEqual([]);
  });

  it('names the text that differs from the API while its data-usd agrees', () => {
    expect(spendDisagreements({ ...agreeing, page: { ...agreeing.page, todayText: '$0.0001' } })).toEqual([
      `today's spend: the Billing page's text "$0.0001" shows 0.0001, /billing/spend 0.168`,
    ]);
  });

  it('names an API that differs from the records, even inside the spend tolerance', () => {
    const problems = spendDisagreements({ ...agreeing, api: { monthly_run_rate_usd: 5.04, today_usd: 0.1626 }, page: { ...agreeing.page, todayText: '$0.1626', todayUsd: '0.1626' } });
    expect(problems).toEqual([`today's spend: /billing/spend shows 0.1626, the usage records (run-rate ÷ 30) 0.168`]);
  });

  it('counts a figure the page does not show as a disagreement', () => {
    expect(spendDisagreements({ ...agreeing, page: { ...agreeing.page, monthlyText: null } })[0]).toMatch(/shows nothing/);
  });
});

describe('usageRecordProblems', () => {
  const expected = { hourlyPrice: 0.007, instanceType: 'vc2-1c-1gb', meteredAfter: new Date('2026-05-17T10:00:00Z'), now: new Date('2026-05-17T10:00:30Z') };

  it("accepts the runbook's record", () => {
    expect(usageRecordProblems(record(), expected)).toEqual([]);
  });

  it('names an unmetered or epoch record, one from the future, and a wrong price', () => {
    expect(usageRecordProblems(record({ metered_at: null }), expected)).toEqual(['metered_at is not set']);
    expect(usageRecordProblems(record({ metered_at: new Date(0) }), expected)[0]).toMatch(/^metered_at is 1970-01-01T00:00:00.000Z, outside the run/);
    expect(usageRecordProblems(record({ metered_at: new Date('2026-05-17T11:00:00Z') }), expected)[0]).toMatch(/outside the run/);
    expect(usageRecordProblems(record({ hourly_price: 0.018 }), expected)).toEqual([
      'hourly_price is 0.018, while vc2-1c-1gb costs 0.007/h in system_provider_instance_types',
    ]);
    expect(usageRecordProblems(record({ event: 'terminated', status: 'rolled_up' }), expected)).toHaveLength(2);
  });
});
