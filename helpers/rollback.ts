/**
 * The runbook's Rollback, for the suite's own identities only: find the accounts (by the run's
 * e-mail prefix, by age, or by e-mail), find their Vultr instances both through the DB
 * (NodeInstance provider ids) and through Vultr (tag `account:<id>`, which also catches an instance
 * whose row is gone), delete them at Vultr (404 means already gone), then delete the accounts'
 * usage records (their spend) and NodeInstances. Idempotent: a second run finds nothing to do.
 * Used by the fixtures' cleanup, the rollback teardown project and `scripts/rollback.ts`.
 */
import { anyRunEmailPattern, runEmailPattern } from './identity';
import { accountTag } from './vultr';

export type RollbackSelector =
  | { kind: 'run'; runId: string }
  | { kind: 'older-than'; ageMs: number }
  | { kind: 'emails'; emails: string[] };

export type RollbackStore = {
  accountsByEmailPattern(pattern: string, createdBefore?: Date): Promise<{ account_id: string; email: string }[]>;
  accountsByEmails(emails: string[]): Promise<{ account_id: string; email: string }[]>;
  nodeInstances(accountIds: string[]): Promise<{ id: string; account_id: string; provider_instance_id: string | null; status: string }[]>;
  usageRecords(accountIds: string[]): Promise<{ id: string }[]>;
  inFlightMissions(accountIds: string[]): Promise<{ id: string; status: string }[]>;
  deleteUsageRecords(accountIds: string[]): Promise<number>;
  deleteNodeInstances(accountIds: string[]): Promise<number>;
};

export type RollbackCloud = {
  instancesByTag(tag: string): Promise<{ id: string }[]>;
  allInstances(): Promise<{ id: string; tags: string[] }[]>;
  deleteInstance(id: string): Promise<'deleted' | 'already_gone'>;
};

export type CloudOutcome = 'deleted' | 'already_gone' | 'would_delete' | 'failed';

export type RollbackReport = {
  selector: RollbackSelector;
  dryRun: boolean;
  accounts: { id: string; email: string }[];
  cloudInstances: { id: string; accountId: string; foundVia: ('db' | 'tag')[]; outcome: CloudOutcome; error?: string }[];
  nodeInstances: number;
  usageRecords: number;
  /** Lookups that failed (e.g. Vultr unreachable); the rollback went on with what it could do. */
  problems: string[];
};

export type RollbackOptions = {
  domain: string;
  dryRun?: boolean;
  now?: Date;
  /**
   * How long to wait for missions a worker is still provisioning (approved/running) before
   * deleting: a job already queued would otherwise create a VM or rows after the rollback.
   */
  settleTimeoutMs?: number;
  settlePollMs?: number;
};

/** Waits until none of the accounts' missions is approved/running; returns the ones still in flight. */
async function settleMissions(store: RollbackStore, accountIds: string[], timeoutMs: number, pollMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const inFlight = await store.inFlightMissions(accountIds);
    if (inFlight.length === 0 || Date.now() >= deadline) return inFlight;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function findAccounts(selector: RollbackSelector, store: RollbackStore, options: RollbackOptions) {
  switch (selector.kind) {
    case 'run':
      return store.accountsByEmailPattern(runEmailPattern(selector.runId, options.domain));
    case 'older-than': {
      const now = options.now ?? new Date();
      return store.accountsByEmailPattern(anyRunEmailPattern(options.domain), new Date(now.getTime() - selector.ageMs));
    }
    case 'emails':
      return store.accountsByEmails(selector.emails);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Up to this many accounts, their instances are listed by tag; above it, the Vultr account's all at once. */
export const TAG_LISTINGS_UP_TO = 3;

export async function rollback(
  selector: RollbackSelector,
  deps: { store: RollbackStore; cloud: RollbackCloud },
  options: RollbackOptions,
): Promise<RollbackReport> {
  const dryRun = options.dryRun ?? false;
  const rows = await findAccounts(selector, deps.store, options);
  const accounts = [...new Map(rows.map((r) => [r.account_id, { id: r.account_id, email: r.email }])).values()];
  const accountIds = accounts.map((a) => a.id);
  const report: RollbackReport = { selector, dryRun, accounts, cloudInstances: [], nodeInstances: 0, usageRecords: 0, problems: [] };
  if (accountIds.length === 0) return report;

  if (!dryRun) {
    const unsettled = await settleMissions(deps.store, accountIds, options.settleTimeoutMs ?? 0, options.settlePollMs ?? 250);
    for (const mission of unsettled) {
      report.problems.push(`mission ${mission.id} still ${mission.status}: the worker may still create a Vultr instance; run rollback again once it settles`);
    }
  }

  const targets = new Map<string, { accountId: string; foundVia: ('db' | 'tag')[] }>();
  const found = (id: string, accountId: string, via: 'db' | 'tag') => {
    const target = targets.get(id) ?? { accountId, foundVia: [] };
    if (!target.foundVia.includes(via)) target.foundVia.push(via);
    targets.set(id, target);
  };

  const nodeInstances = await deps.store.nodeInstances(accountIds);
  for (const row of nodeInstances) if (row.provider_instance_id) found(row.provider_instance_id, row.account_id, 'db');
  if (accountIds.length > TAG_LISTINGS_UP_TO) {
    // A run's rollback covers every account of the run: one listing of the Vultr account beats one
    // per tag (Vultr allows 30 requests a second per IP, and the calls are paced below that).
    try {
      const owners = new Map(accountIds.map((id) => [accountTag(id), id]));
      for (const instance of await deps.cloud.allInstances()) {
        for (const tag of instance.tags) {
          const accountId = owners.get(tag);
          if (accountId) found(instance.id, accountId, 'tag');
        }
      }
    } catch (error) {
      report.problems.push(`listing Vultr instances: ${message(error)}`);
    }
  } else {
    for (const accountId of accountIds) {
      try {
        for (const instance of await deps.cloud.instancesByTag(accountTag(accountId))) found(instance.id, accountId, 'tag');
      } catch (error) {
        report.problems.push(`listing Vultr instances tagged ${accountTag(accountId)}: ${message(error)}`);
      }
    }
  }

  for (const [id, target] of targets) {
    if (dryRun) {
      report.cloudInstances.push({ id, ...target, outcome: 'would_delete' });
      continue;
    }
    try {
      report.cloudInstances.push({ id, ...target, outcome: await deps.cloud.deleteInstance(id) });
    } catch (error) {
      report.cloudInstances.push({ id, ...target, outcome: 'failed', error: message(error) });
    }
  }

  if (dryRun) {
    report.usageRecords = (await deps.store.usageRecords(accountIds)).length;
    report.nodeInstances = nodeInstances.length;
  } else {
    report.usageRecords = await deps.store.deleteUsageRecords(accountIds);
    report.nodeInstances = await deps.store.deleteNodeInstances(accountIds);
  }
  return report;
}

/** True when the rollback had nothing to destroy: what a second run must report. */
export function foundNothing(report: RollbackReport): boolean {
  return report.nodeInstances === 0 && report.usageRecords === 0 && report.cloudInstances.every((i) => i.outcome === 'already_gone');
}

export function rollbackFailures(report: RollbackReport): string[] {
  return [
    ...report.problems,
    ...report.cloudInstances.filter((i) => i.outcome === 'failed').map((i) => `deleting Vultr instance ${i.id}: ${i.error ?? 'failed'}`),
  ];
}

function describeSelector(selector: RollbackSelector): string {
  switch (selector.kind) {
    case 'run':
      return `run ${selector.runId}`;
    case 'older-than':
      return `suite identities older than ${Math.round(selector.ageMs / 60_000)} min`;
    case 'emails':
      return `${selector.emails.length} identit${selector.emails.length === 1 ? 'y' : 'ies'}`;
  }
}

export function formatRollbackReport(report: RollbackReport): string {
  const verb = report.dryRun ? 'would delete' : 'deleted';
  const lines = [`rollback (${describeSelector(report.selector)})${report.dryRun ? ' — dry run, nothing changed' : ''}:`];
  lines.push(`  accounts found: ${report.accounts.length}`);
  for (const account of report.accounts) lines.push(`    ${account.email} (${account.id})`);
  lines.push(`  Vultr instances: ${report.cloudInstances.length}`);
  for (const instance of report.cloudInstances) {
    lines.push(`    ${instance.id} [account ${instance.accountId}, via ${instance.foundVia.join('+')}]: ${instance.outcome.replace('_', ' ')}${instance.error ? ` (${instance.error})` : ''}`);
  }
  lines.push(`  NodeInstances ${verb}: ${report.nodeInstances}`);
  lines.push(`  usage records ${verb} (spend reset): ${report.usageRecords}`);
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  return lines.join('\n');
}
