/**
 * What a run created and what it cleaned up, from the cleanup reports its tests attach: every
 * identity's per-test cleanup and the final rollback each attach a `rollback summary` (JSON, counts
 * and Vultr instance ids only: nothing secret). Created resources are the ones a cleanup found, so
 * "left behind" is what a cleanup failed to remove, or, when the final rollback never ran
 * (an interrupted run), everything not yet cleaned.
 */
import type { RollbackReport } from './rollback';

export const SUMMARY_ATTACHMENT = 'rollback summary';

export type RollbackSummary = {
  scope: 'test' | 'run';
  accounts: number;
  instances: { id: string; outcome: RollbackReport['cloudInstances'][number]['outcome'] }[];
  nodeInstances: number;
  usageRecords: number;
  problems: string[];
};

export function summarizeRollback(report: RollbackReport, scope: RollbackSummary['scope']): RollbackSummary {
  return {
    scope,
    accounts: report.accounts.length,
    instances: report.cloudInstances.map((i) => ({ id: i.id, outcome: i.outcome })),
    nodeInstances: report.nodeInstances,
    usageRecords: report.usageRecords,
    problems: [
      ...report.problems,
      ...report.cloudInstances.filter((i) => i.outcome === 'failed' || i.outcome === 'unknown').map((i) => `Vultr instance ${i.id} not deleted: ${i.error ?? i.outcome}`),
      ...report.kept.map((row) => `NodeInstance ${row.nodeInstanceId}${row.providerInstanceId ? ` (Vultr ${row.providerInstanceId})` : ''} kept: ${row.reason}`),
    ],
  };
}

export function parseSummary(body: string): RollbackSummary | null {
  try {
    const value = JSON.parse(body) as Partial<RollbackSummary>;
    if (value.scope !== 'test' && value.scope !== 'run') return null;
    if (!Array.isArray(value.instances) || !Array.isArray(value.problems)) return null;
    if (![value.accounts, value.nodeInstances, value.usageRecords].every((n) => typeof n === 'number')) return null;
    return value as RollbackSummary;
  } catch {
    return null;
  }
}

export type RunTally = { testsRun: number; summaries: RollbackSummary[] };

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The lines printed at the end of a run. */
export function formatRunSummary(runId: string, tally: RunTally, interrupted: boolean): string[] {
  if (tally.testsRun === 0) return [`run ${runId}: no test ran, so it created nothing`];
  const all = tally.summaries;
  const instances = new Map<string, string>();
  for (const s of all) for (const i of s.instances) instances.set(i.id, i.outcome);
  const destroyed = [...instances.values()].filter((o) => o === 'deleted').length;
  const alreadyGone = [...instances.values()].filter((o) => o === 'already_gone').length;
  const notDeleted = [...instances].filter(([, o]) => o === 'failed' || o === 'would_delete' || o === 'unknown').map(([id]) => id);
  const nodeInstances = all.reduce((n, s) => n + s.nodeInstances, 0);
  const usageRecords = all.reduce((n, s) => n + s.usageRecords, 0);
  const problems = all.flatMap((s) => s.problems);
  const finalRollback = all.find((s) => s.scope === 'run');
  // The final rollback finds every account of the run (by its e-mail prefix), cleaned or not.
  const accounts = finalRollback ? finalRollback.accounts : all.reduce((n, s) => n + s.accounts, 0);

  const lines = [
    `run ${runId} created: ${plural(accounts, 'test account')}, ${plural(instances.size, 'Vultr instance')}, ` +
      `${plural(nodeInstances, 'NodeInstance')}, ${plural(usageRecords, 'usage record')}`,
    `run ${runId} cleaned up: ${plural(destroyed, 'Vultr instance')} destroyed${alreadyGone > 0 ? ` (${alreadyGone} more already gone)` : ''}, ` +
      `${plural(nodeInstances, 'NodeInstance')} and ${plural(usageRecords, 'usage record')} deleted (spend reset)`,
  ];
  const leftBehind = [...notDeleted.map((id) => `Vultr instance ${id}`), ...problems];
  if (!finalRollback) {
    leftBehind.push(
      interrupted
        ? 'the final rollback did not run (the run was interrupted): the funnel identity keeps its instance'
        : 'the final rollback did not run (a --project or --no-deps run skips the teardown)',
    );
  }
  if (leftBehind.length === 0) lines.push(`run ${runId} left behind: nothing`);
  else {
    lines.push(`run ${runId} may have left behind: ${leftBehind.join('; ')}`);
    lines.push(`  clean up with: npm run rollback -- --run-id ${runId}`);
  }
  return lines;
}
