import { describe, expect, it } from 'vitest';
import { HOURS_PER_MONTH_730 } from './cost';
import { liveSpend, runningRecords, startOfMonthUtc, type UsageRow } from './spend';

const now = new Date('2026-05-17T12:00:00Z');

function row(id: string, event: UsageRow['event'], at: string, hourly = 0.007): UsageRow {
  return { node_instance_id: id, event, hourly_price: hourly, metered_at: new Date(at) };
}

describe('live spend', () => {
  it('reports $5.04/mo and $0.168/day for one running tiny instance', () => {
    const spend = liveSpend([row('a', 'running', '2026-05-17T10:00:00Z')], now);
    expect(spend).toEqual({ monthly_run_rate_usd: 5.04, today_usd: 0.168, month_to_date_usd: 0.01 });
  });

  it('drops instances whose latest event is terminated', () => {
    const rows = [row('a', 'running', '2026-05-10T00:00:00Z'), row('a', 'terminated', '2026-05-11T00:00:00Z'), row('b', 'running', '2026-05-12T00:00:00Z', 0.018)];
    expect(runningRecords(rows).map((r) => r.node_instance_id)).toEqual(['b']);
    expect(liveSpend(rows, now).monthly_run_rate_usd).toBe(12.96);
  });

  it('lets a termination win a tie on the same instant, in either order', () => {
    const at = '2026-05-10T00:00:00Z';
    expect(runningRecords([row('a', 'running', at), row('a', 'terminated', at)])).toEqual([]);
    expect(runningRecords([row('a', 'terminated', at), row('a', 'running', at)])).toEqual([]);
  });

  it('counts month-to-date from the start of the month for instances older than the month', () => {
    const spend = liveSpend([row('a', 'running', '2026-04-01T00:00:00Z')], now);
    // 16.5 days × 24 h × $0.007
    expect(spend.month_to_date_usd).toBe(2.77);
    expect(startOfMonthUtc(now).toISOString()).toBe('2026-05-01T00:00:00.000Z');
  });

  it('is zero with no records, and never negative for a record in the future', () => {
    expect(liveSpend([], now)).toEqual({ monthly_run_rate_usd: 0, today_usd: 0, month_to_date_usd: 0 });
    expect(liveSpend([row('a', 'running', '2026-06-01T00:00:00Z')], now).month_to_date_usd).toBe(0);
  });

  it('shares the run-rate over 31 days under the spend_today_31_days fault, the run-rate unchanged', () => {
    const spend = liveSpend([row('a', 'running', '2026-05-17T10:00:00Z')], now, { daysPerMonth: 31 });
    expect(spend).toMatchObject({ monthly_run_rate_usd: 5.04, today_usd: 0.1626 });
  });

  it('aggregates at 730 h under the live_spend_730h fault', () => {
    expect(liveSpend([row('a', 'running', '2026-05-17T10:00:00Z')], now, { hoursPerMonth: HOURS_PER_MONTH_730 }).monthly_run_rate_usd).toBe(5.11);
  });
});
