import type { FaultName } from '../../lib/faults';
import { HOURS_PER_MONTH, HOURS_PER_MONTH_730 } from '../../rules/cost';
import type { CollapseMode } from '../../rules/step-collapse';

/** Fault switches as the server sees them; injectable so tests can turn one on per app. */
export type Faults = (name: FaultName) => boolean;

export function planOptions(faults: Faults): { collapse: CollapseMode; hoursPerMonth: number; riskWrong: boolean } {
  return {
    collapse: faults('collapse_disabled') ? 'disabled' : faults('collapse_over_merge') ? 'over_merge' : 'normal',
    hoursPerMonth: faults('cost_730h') ? HOURS_PER_MONTH_730 : HOURS_PER_MONTH,
    riskWrong: faults('risk_wrong'),
  };
}

export function spendHours(faults: Faults): number {
  return faults('live_spend_730h') ? HOURS_PER_MONTH_730 : HOURS_PER_MONTH;
}
