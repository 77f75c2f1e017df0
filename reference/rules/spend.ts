/**
 * Live spend (CONTRACT 6.8), aggregated on the fly from provisioning usage records: an instance
 * counts while its latest event is `running`. Run-rate = Σ hourly price × 720; today = run-rate ÷ 30;
 * month to date = Σ hourly price × hours running since the later of its metering and the month's start.
 */
import { HOURS_PER_MONTH, roundCents } from './cost';

export type UsageEvent = 'running' | 'terminated';
export type UsageRow = { node_instance_id: string; event: UsageEvent; hourly_price: number; metered_at: Date };
export type LiveSpend = { monthly_run_rate_usd: number; today_usd: number; month_to_date_usd: number };

export const DAYS_PER_MONTH = 30;

/** The latest record per instance, keeping only those still running. */
export function runningRecords(rows: UsageRow[]): UsageRow[] {
  const latest = new Map<string, UsageRow>();
  for (const row of rows) {
    const seen = latest.get(row.node_instance_id);
    const later =
      !seen ||
      row.metered_at.getTime() > seen.metered_at.getTime() ||
      // Same instant: a termination ends the running period, whatever order the rows came in.
      (row.metered_at.getTime() === seen.metered_at.getTime() && row.event === 'terminated');
    if (later) latest.set(row.node_instance_id, row);
  }
  return [...latest.values()].filter((row) => row.event === 'running');
}

export function startOfMonthUtc(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

export type SpendOptions = {
  hoursPerMonth?: number;
  /** What today's share divides the run-rate by; only the self-test fault `spend_today_31_days` changes it. */
  daysPerMonth?: number;
};

export function liveSpend(rows: UsageRow[], now: Date, options: SpendOptions = {}): LiveSpend {
  const hours = options.hoursPerMonth ?? HOURS_PER_MONTH;
  const days = options.daysPerMonth ?? DAYS_PER_MONTH;
  const running = runningRecords(rows);
  const runRate = roundCents(running.reduce((sum, row) => sum + row.hourly_price * hours, 0));
  const monthStart = startOfMonthUtc(now).getTime();
  const monthToDate = running.reduce((sum, row) => {
    const since = Math.max(row.metered_at.getTime(), monthStart);
    const hoursRunning = Math.max(0, now.getTime() - since) / 3_600_000;
    return sum + row.hourly_price * hoursRunning;
  }, 0);
  return {
    monthly_run_rate_usd: runRate,
    // Four places: a daily share of a few dollars rounded to cents would drift from run-rate ÷ 30.
    today_usd: Math.round((runRate / days) * 10_000) / 10_000,
    month_to_date_usd: roundCents(monthToDate),
  };
}
