/**
 * Metering as the runbook checks it (RUNBOOK steps 4 and 6, CONTRACT 6.8): the usage record the
 * transition to running writes, and live spend computed three ways that must agree — by the API
 * (`/billing/spend`), on the Billing page, and from the usage records themselves.
 */
import { agree, describeFigure, figureOf, shownUsd, type Figure } from './money';
import { USAGE_EVENT_RUNNING } from './runbook';

/** CONTRACT 6.8: today's spend is the run-rate ÷ 30. */
export const DAYS_PER_MONTH = 30;

export type UsageRecordView = { node_instance_id: string; event: string; status: string; hourly_price: number; metered_at: Date | null };

/**
 * The hours in a month that the expected monthly cost implies for the expected instance type's
 * price: $5.04 ÷ $0.007/h = 720 (public Powernode's $5.11 gives 730). Spend is configured through
 * the one figure an operator sets, EXPECTED_MONTHLY_COST_USD, never through a second knob.
 */
export function impliedHoursPerMonth(expectedMonthlyUsd: number, hourlyPrice: number): number {
  if (!(hourlyPrice > 0)) throw new Error(`the expected instance type's hourly price is ${hourlyPrice}: no hours per month follow from it`);
  return Math.round(expectedMonthlyUsd / hourlyPrice);
}

/**
 * Live spend from the usage records alone: Σ hourly_price × hours over the instances whose latest
 * record is `running`, rounded to the cent as a money figure; today is that ÷ 30.
 */
export function spendFromUsageRecords(records: UsageRecordView[], hoursPerMonth: number): { monthly: number; today: number; running: number } {
  const latest = new Map<string, UsageRecordView>();
  for (const record of records) {
    const seen = latest.get(record.node_instance_id);
    const at = record.metered_at?.getTime() ?? Number.NEGATIVE_INFINITY;
    const seenAt = seen?.metered_at?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (!seen || at > seenAt || (at === seenAt && record.event !== USAGE_EVENT_RUNNING.event)) latest.set(record.node_instance_id, record);
  }
  const running = [...latest.values()].filter((r) => r.event === USAGE_EVENT_RUNNING.event);
  const monthly = Math.round(running.reduce((sum, r) => sum + r.hourly_price * hoursPerMonth, 0) * 100) / 100;
  return { monthly, today: monthly / DAYS_PER_MONTH, running: running.length };
}

export type SpendSources = {
  /** GET /billing/spend. */
  api: { monthly_run_rate_usd: number; today_usd: number };
  /** The Billing page: each figure's visible text and its data-usd. */
  page: { monthlyText: string | null; monthlyUsd: string | null; todayText: string | null; todayUsd: string | null };
  /** Σ over the usage records (spendFromUsageRecords). */
  records: { monthly: number; today: number };
};

/** Every place the three sources of RUNBOOK step 6 disagree, each naming both figures. */
export function spendDisagreements(sources: SpendSources): string[] {
  const problems: string[] = [];
  const check = (what: string, a: Figure | null, aSource: string, b: Figure | null, bSource: string) => {
    if (!a || !b || !agree(a, b)) problems.push(`${what}: ${aSource} shows ${describeFigure(a)}, ${bSource} ${describeFigure(b)}`);
  };
  const apiMonthly = figureOf(sources.api.monthly_run_rate_usd);
  const apiToday = figureOf(sources.api.today_usd);
  const exact = (usd: number): Figure => ({ usd, decimals: 6 });
  check('monthly run-rate', apiMonthly, '/billing/spend', exact(sources.records.monthly), 'Σ hourly_price × hours over the usage records');
  check("today's spend", apiToday, '/billing/spend', exact(sources.records.today), 'the usage records (run-rate ÷ 30)');
  check('monthly run-rate', shownUsd(sources.page.monthlyText), `the Billing page's text "${sources.page.monthlyText ?? ''}"`, apiMonthly, '/billing/spend');
  check('monthly run-rate', figureOf(sources.page.monthlyUsd), "the Billing page's data-usd", apiMonthly, '/billing/spend');
  check("today's spend", shownUsd(sources.page.todayText), `the Billing page's text "${sources.page.todayText ?? ''}"`, apiToday, '/billing/spend');
  check("today's spend", figureOf(sources.page.todayUsd), "the Billing page's data-usd", apiToday, '/billing/spend');
  return problems;
}

/** How far the database's clock may be from the runner's when a record's time is judged. */
export const CLOCK_SKEW_MS = 5_000;

/**
 * RUNBOOK step 4, the usage record as the runbook reads it (event, metered_at, status), and its
 * price: `event='running'`, `status='pending'`, `metered_at` set within the run (after the Approve
 * click, not in the future), and `hourly_price` the instance type's own.
 */
export function usageRecordProblems(
  record: UsageRecordView,
  expected: { hourlyPrice: number; instanceType: string; meteredAfter: Date; now: Date },
): string[] {
  const problems: string[] = [];
  if (record.event !== USAGE_EVENT_RUNNING.event) problems.push(`event is ${JSON.stringify(record.event)}, expected "${USAGE_EVENT_RUNNING.event}"`);
  if (record.status !== USAGE_EVENT_RUNNING.status) problems.push(`status is ${JSON.stringify(record.status)}, expected "${USAGE_EVENT_RUNNING.status}"`);
  const at = record.metered_at;
  if (!at || Number.isNaN(at.getTime())) problems.push('metered_at is not set');
  else if (at.getTime() < expected.meteredAfter.getTime() - CLOCK_SKEW_MS || at.getTime() > expected.now.getTime() + CLOCK_SKEW_MS) {
    problems.push(`metered_at is ${at.toISOString()}, outside the run (the Approve click at ${expected.meteredAfter.toISOString()} to now, ${expected.now.toISOString()})`);
  }
  if (Math.abs(record.hourly_price - expected.hourlyPrice) > 1e-9) {
    problems.push(`hourly_price is ${record.hourly_price}, while ${expected.instanceType} costs ${expected.hourlyPrice}/h in system_provider_instance_types`);
  }
  return problems;
}
