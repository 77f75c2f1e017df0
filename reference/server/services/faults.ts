import type { FaultName } from '../../lib/faults';
import { NO_VARIANTS, type Variants } from '../../lib/variants';
import { HOURS_PER_MONTH, HOURS_PER_MONTH_730, type CostLineName } from '../../rules/cost';
import type { SpendOptions } from '../../rules/spend';
import type { CollapseMode } from '../../rules/step-collapse';

/** Fault switches as the server sees them; injectable so tests can turn one on per app. */
export type Faults = (name: FaultName) => boolean;

/**
 * The fault `cost_730h` is 730 h as a defect (the runbook's cost-line name stays); the variant
 * `cost_730h` is public Powernode's intent: 730 h and the line named after the type's display name.
 */
export function planOptions(
  faults: Faults,
  variants: Variants = NO_VARIANTS,
): { collapse: CollapseMode; hoursPerMonth: number; costLineHoursPerMonth?: number; riskWrong: boolean; costLineName: CostLineName } {
  return {
    collapse: faults('collapse_disabled') ? 'disabled' : faults('collapse_over_merge') ? 'over_merge' : 'normal',
    hoursPerMonth: faults('cost_730h') || variants('cost_730h') ? HOURS_PER_MONTH_730 : HOURS_PER_MONTH,
    ...(faults('cost_lines_do_not_add_up') ? { costLineHoursPerMonth: HOURS_PER_MONTH_730 } : {}),
    riskWrong: faults('risk_wrong'),
    costLineName: variants('cost_730h') ? 'display_name' : 'code',
  };
}

export function spendHours(faults: Faults, variants: Variants = NO_VARIANTS): number {
  return faults('live_spend_730h') || variants('cost_730h') ? HOURS_PER_MONTH_730 : HOURS_PER_MONTH;
}

/** Live spend's rules as the spend endpoint applies them: the hours above, and the days today's share divides by. */
export function spendOptions(faults: Faults, variants: Variants = NO_VARIANTS): SpendOptions {
  return { hoursPerMonth: spendHours(faults, variants), ...(faults('spend_today_31_days') ? { daysPerMonth: 31 } : {}) };
}
