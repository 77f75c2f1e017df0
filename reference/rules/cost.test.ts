import { describe, expect, it } from 'vitest';
import { HOURS_PER_MONTH_730, estimateCost, monthlyCost, roundCents } from './cost';

describe('cost estimate', () => {
  it('prices one tiny instance in us-east-1 at $5.04/mo', () => {
    const estimate = estimateCost([{ region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb', hourly_price: 0.007, count: 1 }]);
    expect(estimate).toEqual({
      monthly_usd: 5.04,
      hours_per_month: 720,
      lines: [{ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 5.04, hourly_price: 0.007, count: 1 }],
    });
  });

  it('uses 730 h ($5.11) when asked, as public Powernode does', () => {
    expect(estimateCost([{ region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb', hourly_price: 0.007, count: 1 }], { hoursPerMonth: HOURS_PER_MONTH_730 }).monthly_usd).toBe(5.11);
  });

  it('multiplies by count and groups lines by region and type', () => {
    const estimate = estimateCost([
      { region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb', hourly_price: 0.007, count: 2 },
      { region_code: 'us-east-1', instance_type_code: 'vc2-1c-2gb', hourly_price: 0.018, count: 1 },
      { region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb', hourly_price: 0.007, count: 1 },
    ]);
    expect(estimate.lines.map((l) => [l.name, l.count, l.monthly_usd])).toEqual([
      ['us-east-1 vc2-1c-1gb', 3, 15.12],
      ['us-east-1 vc2-1c-2gb', 1, 12.96],
    ]);
    expect(estimate.monthly_usd).toBe(28.08);
  });

  it('prices the lines at other hours than the total under the cost_lines_do_not_add_up fault', () => {
    const estimate = estimateCost([{ region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb', hourly_price: 0.007, count: 1 }], { lineHoursPerMonth: HOURS_PER_MONTH_730 });
    expect(estimate.monthly_usd).toBe(5.04);
    expect(estimate.lines.map((line) => line.monthly_usd)).toEqual([5.11]);
  });

  it('rounds to cents without float noise', () => {
    expect(monthlyCost(0.036, 1)).toBe(25.92);
    expect(roundCents(1.005)).toBe(1.01);
    expect(estimateCost([]).monthly_usd).toBe(0);
  });
});
