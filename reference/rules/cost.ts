/**
 * Monthly cost estimate (CONTRACT 6.6): hourly price × 720 h × count, in cents precision. One line
 * per (region, instance type), named "<region_code> <instance_type_code>", or under the
 * `cost_730h` variant "<region_code> <instance type display name>" ("us-east-1 tiny").
 */

export const HOURS_PER_MONTH = 720;
/** What public Powernode uses; the `cost_730h` fault and variant both use it. */
export const HOURS_PER_MONTH_730 = 730;

export type CostResource = { region_code: string; instance_type_code: string; instance_type_name?: string; hourly_price: number; count: number };
/** What names a cost line after its region: the instance type's code (the runbook) or its display name (public Powernode). */
export type CostLineName = 'code' | 'display_name';
export type CostLine = { name: string; monthly_usd: number; hourly_price: number; count: number };
export type CostEstimate = { monthly_usd: number; hours_per_month: number; lines: CostLine[] };

export function roundCents(usd: number): number {
  return Math.round((usd + Number.EPSILON) * 100) / 100;
}

export function monthlyCost(hourlyPrice: number, count: number, hoursPerMonth = HOURS_PER_MONTH): number {
  return roundCents(hourlyPrice * hoursPerMonth * count);
}

export type CostOptions = {
  hoursPerMonth?: number;
  lineName?: CostLineName;
  /** Self-test fault `cost_lines_do_not_add_up`: the lines priced at other hours than the total. */
  lineHoursPerMonth?: number;
};

export function estimateCost(resources: CostResource[], options: CostOptions = {}): CostEstimate {
  const hours = options.hoursPerMonth ?? HOURS_PER_MONTH;
  const lineHours = options.lineHoursPerMonth ?? hours;
  const grouped = new Map<string, CostResource>();
  for (const r of resources) {
    const type = options.lineName === 'display_name' ? (r.instance_type_name ?? r.instance_type_code) : r.instance_type_code;
    const name = `${r.region_code} ${type}`;
    const existing = grouped.get(name);
    if (existing) existing.count += r.count;
    else grouped.set(name, { ...r });
  }
  const lines = [...grouped.entries()].map(([name, r]) => ({
    name,
    monthly_usd: monthlyCost(r.hourly_price, r.count, lineHours),
    hourly_price: r.hourly_price,
    count: r.count,
  }));
  const total = roundCents([...grouped.values()].reduce((sum, r) => sum + monthlyCost(r.hourly_price, r.count, hours), 0));
  return { monthly_usd: total, hours_per_month: hours, lines };
}
