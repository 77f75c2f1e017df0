/**
 * Plan risk (CONTRACT 6.6): a 0-100 score from a handful of named factors, and its severity:
 * low below 30, med below 60, high from 60.
 */

export type RiskSeverity = 'low' | 'med' | 'high';
export type RiskFactor = { key: string; label: string; points: number };
export type Risk = { score: number; severity: RiskSeverity; factors: RiskFactor[] };

export type RiskInput = {
  publicExposure: boolean;
  hasDatabase: boolean;
  hasPrivateNetwork: boolean;
  monthlyUsd: number;
  budgetUsd: number;
  instanceCount: number;
  regionCount: number;
};

export const LOW_BELOW = 30;
export const MED_BELOW = 60;

export function severityFor(score: number, options: { wrong?: boolean } = {}): RiskSeverity {
  // The `risk_wrong` fault: the low band is lost, so a low plan reads as med.
  const lowBelow = options.wrong ? 0 : LOW_BELOW;
  if (score < lowBelow) return 'low';
  if (score < MED_BELOW) return 'med';
  return 'high';
}

function budgetPoints(monthlyUsd: number, budgetUsd: number): { points: number; label: string } {
  if (!(budgetUsd > 0)) return { points: 15, label: 'No budget cap to compare against' };
  const share = monthlyUsd / budgetUsd;
  const pct = Math.round(share * 100);
  if (share > 1) return { points: 30, label: `Estimated cost is ${pct}% of the budget cap (over budget)` };
  if (share > 0.8) return { points: 15, label: `Estimated cost is ${pct}% of the budget cap (little headroom)` };
  if (share > 0.5) return { points: 5, label: `Estimated cost is ${pct}% of the budget cap` };
  return { points: 0, label: `Estimated cost is ${pct}% of the budget cap (ample headroom)` };
}

function countPoints(count: number): number {
  if (count > 10) return 15;
  if (count > 3) return 10;
  if (count > 1) return 5;
  return 0;
}

export function assessRisk(input: RiskInput, options: { wrong?: boolean } = {}): Risk {
  const budget = budgetPoints(input.monthlyUsd, input.budgetUsd);
  const factors: RiskFactor[] = [
    { key: 'baseline', label: 'New cloud resources', points: 5 },
    {
      key: 'public_exposure',
      label: input.publicExposure ? 'Serves traffic from the public internet' : 'No inbound public traffic (outbound only)',
      points: input.publicExposure ? 20 : 0,
    },
    { key: 'database', label: input.hasDatabase ? 'Holds persistent data in a database' : 'No database', points: input.hasDatabase ? 15 : 0 },
    { key: 'network', label: input.hasPrivateNetwork ? 'Private network to configure' : 'No private network', points: input.hasPrivateNetwork ? 5 : 0 },
    { key: 'budget_headroom', label: budget.label, points: budget.points },
    { key: 'instance_count', label: `${input.instanceCount} instance${input.instanceCount === 1 ? '' : 's'}`, points: countPoints(input.instanceCount) },
    {
      key: 'regions',
      label: input.regionCount > 1 ? `Spread over ${input.regionCount} regions` : 'Single region',
      points: input.regionCount > 1 ? 5 : 0,
    },
  ];
  const score = Math.min(100, Math.max(0, factors.reduce((sum, f) => sum + f.points, 0)));
  return { score, severity: severityFor(score, options), factors };
}
