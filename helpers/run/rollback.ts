/**
 * RUNBOOK Rollback, for the suite's own identities only: find the accounts (by the run's
 * e-mail prefix, by age, or by e-mail), find their Vultr instances both through the DB
 * (NodeInstance provider ids) and through Vultr (tag `account:<id>`, which also catches an instance
 * whose row is gone), destroy them at Vultr, then delete the rows of what is confirmed gone.
 * Idempotent: a second run finds nothing to do. Used by the fixtures' cleanup, the rollback
 * teardown project and `scripts/rollback.ts`.
 *
 * It sweeps every Vultr account the suite holds a key for: the platform pool's (VULTR_API_KEY)
 * and the account-isolation test's (VULTR_ISOLATION_API_KEY), since a VM made with an account's own
 * key lives in that key's Vultr account, where no other key sees it (RUNBOOK pre-flight 3).
 *
 * It never forgets a VM it has not seen destroyed:
 * - a NodeInstance row and its usage records go only once Vultr confirmed its instance gone: the
 *   DELETE succeeded, or the id answered 404 after the suite had seen it exist (listed by its tag,
 *   or answering a GET) with that same key. Another account's 404 says nothing: a key answers 404
 *   for every instance of another account;
 * - a 404 under every key for an id the suite never saw is "unknown" (another cloud account? a
 *   typo in the row?), and the row is kept; so is the row of a failed deletion;
 * - a row in flight (a status that can still turn into a VM, a row with no Vultr id yet, or a
 *   mission in an in-flight status) is waited for, and kept if it does not settle;
 * - a row with no Vultr id is deleted only when its account's tag listing answered under every
 *   key, so no VM of that account can have gone unseen.
 */
import { anyRunEmailPattern, runEmailPattern } from './identity-emails';
import { accountTag, TAG_LISTINGS_UP_TO } from '../clients/vultr';

export type RollbackSelector =
  | { kind: 'run'; runId: string }
  /** Runs started from this checkout (`runIds`, from the run state), or every run with `runIds: 'all'`. */
  | { kind: 'older-than'; ageMs: number; runIds?: string[] | 'all' }
  | { kind: 'emails'; emails: string[] };

export type RollbackNodeInstance = { id: string; account_id: string; provider_instance_id: string | null; status: string };

export type RollbackStore = {
  accountsByEmailPattern(pattern: string, createdBefore?: Date): Promise<{ account_id: string; email: string }[]>;
  accountsByEmails(emails: string[]): Promise<{ account_id: string; email: string }[]>;
  nodeInstances(accountIds: string[]): Promise<RollbackNodeInstance[]>;
  usageRecords(accountIds: string[]): Promise<{ id: string; node_instance_id: string | null }[]>;
  inFlightMissions(accountIds: string[], statuses: readonly string[]): Promise<{ id: string; status: string }[]>;
  /** Deletes these NodeInstances and their usage records (the records first); answers the counts. */
  deleteNodeInstanceRows(nodeInstanceIds: string[]): Promise<{ nodeInstances: number; usageRecords: number }>;
};

export type RollbackCloud = {
  instancesByTag(tag: string): Promise<{ id: string }[]>;
  allInstances(): Promise<{ id: string; tags: string[] }[]>;
  /** The instance, or null when Vultr answers 404. */
  instance(id: string): Promise<{ id: string } | null>;
  deleteInstance(id: string): Promise<'deleted' | 'already_gone'>;
};

/** One Vultr account: its client, named by the variable that holds its key (never the key). */
export type RollbackVultrAccount = { key: string; cloud: RollbackCloud };

/** `unknown`: a 404 under every key for an id the suite never saw exist; its row is kept. */
export type CloudOutcome = 'deleted' | 'already_gone' | 'would_delete' | 'failed' | 'unknown';

export type KeptRow = { nodeInstanceId: string; accountId: string; providerInstanceId: string | null; status: string; reason: string };

export type RollbackReport = {
  selector: RollbackSelector;
  dryRun: boolean;
  accounts: { id: string; email: string }[];
  /**
   * One entry per instance. `keys`: the Vultr accounts (by their key's variable) where the suite
   * saw it and acted on it; empty when no account showed it.
   */
  cloudInstances: { id: string; accountId: string; foundVia: ('db' | 'tag')[]; keys: string[]; outcome: CloudOutcome; error?: string }[];
  nodeInstances: number;
  usageRecords: number;
  /** NodeInstance rows left in place because their VM is not confirmed gone (see the module comment). */
  kept: KeptRow[];
  /** Lookups that failed (e.g. Vultr unreachable); the rollback went on with what it could do. */
  problems: string[];
};

/** Mission statuses in which a worker may still create a VM (the reference's; public Powernode uses `executing`). */
export const DEFAULT_IN_FLIGHT_MISSION_STATUSES = ['approved', 'running'] as const;
/** NodeInstance statuses that can still turn into a VM, or are one on its way up. */
export const IN_FLIGHT_ROW_STATUSES = ['pending', 'provisioning', 'starting'] as const;

export type RollbackOptions = {
  domain: string;
  dryRun?: boolean;
  now?: Date;
  /**
   * How long to wait for missions and rows still in flight before looking at the cloud: a job
   * already queued would otherwise create a VM or rows after the rollback.
   */
  settleTimeoutMs?: number;
  settlePollMs?: number;
  inFlightMissionStatuses?: readonly string[];
};

/** A row on its way to a VM, with or without its Vultr id yet: the worker may still create the VM. */
function rowInFlight(row: RollbackNodeInstance): boolean {
  return (IN_FLIGHT_ROW_STATUSES as readonly string[]).includes(row.status);
}

type Settled = { missions: { id: string; status: string }[]; rows: RollbackNodeInstance[] };

/** Waits until no mission is in an in-flight status and no row is in flight; answers what still is. */
async function settle(store: RollbackStore, accountIds: string[], options: RollbackOptions): Promise<Settled> {
  const statuses = options.inFlightMissionStatuses ?? DEFAULT_IN_FLIGHT_MISSION_STATUSES;
  const deadline = Date.now() + (options.settleTimeoutMs ?? 0);
  for (;;) {
    const [missions, rows] = await Promise.all([store.inFlightMissions(accountIds, statuses), store.nodeInstances(accountIds)]);
    const moving = rows.filter(rowInFlight);
    if ((missions.length === 0 && moving.length === 0) || Date.now() >= deadline) return { missions, rows: moving };
    await new Promise((resolve) => setTimeout(resolve, options.settlePollMs ?? 250));
  }
}

async function findAccounts(selector: RollbackSelector, store: RollbackStore, options: RollbackOptions) {
  switch (selector.kind) {
    case 'run':
      return store.accountsByEmailPattern(runEmailPattern(selector.runId, options.domain));
    case 'older-than': {
      const now = options.now ?? new Date();
      const before = new Date(now.getTime() - selector.ageMs);
      const runIds = selector.runIds ?? 'all';
      if (runIds === 'all') return store.accountsByEmailPattern(anyRunEmailPattern(options.domain), before);
      const perRun = await Promise.all(runIds.map((id) => store.accountsByEmailPattern(runEmailPattern(id, options.domain), before)));
      return perRun.flat();
    }
    case 'emails':
      return store.accountsByEmails(selector.emails);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}


/** `seenBy`: the keys whose Vultr account listed the instance by its tag. */
type Target = { accountId: string; foundVia: ('db' | 'tag')[]; seenBy: Set<string> };

type Found = (id: string, accountId: string, via: 'db' | 'tag', key?: string) => void;

/**
 * The accounts' instances by their tags in one Vultr account; the accounts whose listing failed
 * are left out of `listed`. A failure names the key's variable when there is more than one.
 */
async function listTagged(accountIds: string[], vultr: RollbackVultrAccount, found: Found, problems: string[], where: string) {
  const listed = new Set<string>();
  if (accountIds.length > TAG_LISTINGS_UP_TO) {
    // A run's rollback covers every account of the run: one listing of the Vultr account beats one
    // per tag (Vultr allows 30 requests a second per IP, and the calls are paced below that).
    try {
      const owners = new Map(accountIds.map((id) => [accountTag(id), id]));
      for (const instance of await vultr.cloud.allInstances()) {
        for (const tag of instance.tags) {
          const accountId = owners.get(tag);
          if (accountId) found(instance.id, accountId, 'tag', vultr.key);
        }
      }
      for (const id of accountIds) listed.add(id);
    } catch (error) {
      problems.push(`listing Vultr instances${where}: ${message(error)}`);
    }
    return listed;
  }
  for (const accountId of accountIds) {
    try {
      for (const instance of await vultr.cloud.instancesByTag(accountTag(accountId))) found(instance.id, accountId, 'tag', vultr.key);
      listed.add(accountId);
    } catch (error) {
      problems.push(`listing Vultr instances tagged ${accountTag(accountId)}${where}: ${message(error)}`);
    }
  }
  return listed;
}

type Destroyed = { keys: string[]; outcome: CloudOutcome; error?: string };

/**
 * Destroys one instance in the Vultr account(s) that hold it, or says why it cannot be counted as
 * gone. Only a key that has seen the instance exist (its tag listing, or a GET) deletes it, so a
 * 404 on that DELETE means gone; a key of another account would answer 404 whether or not the VM
 * is still running.
 */
async function destroy(accounts: readonly RollbackVultrAccount[], id: string, target: Target): Promise<Destroyed> {
  let owners = accounts.filter((a) => target.seenBy.has(a.key));
  const lookupErrors: string[] = [];
  if (owners.length === 0) {
    for (const account of accounts) {
      try {
        if ((await account.cloud.instance(id)) !== null) owners = [account];
      } catch (error) {
        lookupErrors.push(message(error));
      }
      if (owners.length > 0) break;
    }
  }
  if (owners.length === 0) {
    if (lookupErrors.length > 0) return { keys: [], outcome: 'failed', error: lookupErrors.join('; ') };
    const under = accounts.length > 1 ? ` under every key (${accounts.map((a) => a.key).join(', ')})` : '';
    return { keys: [], outcome: 'unknown', error: `Vultr answers 404${under} for an id the suite never saw exist (another Vultr account, or a wrong id in the row)` };
  }
  const outcomes: CloudOutcome[] = [];
  const errors: string[] = [];
  for (const owner of owners) {
    try {
      outcomes.push(await owner.cloud.deleteInstance(id));
    } catch (error) {
      outcomes.push('failed');
      errors.push(message(error));
    }
  }
  const keys = owners.map((o) => o.key);
  if (errors.length > 0) return { keys, outcome: 'failed', error: errors.join('; ') };
  return { keys, outcome: outcomes.includes('deleted') ? 'deleted' : 'already_gone' };
}

export async function rollback(
  selector: RollbackSelector,
  deps: { store: RollbackStore; clouds: readonly RollbackVultrAccount[] },
  options: RollbackOptions,
): Promise<RollbackReport> {
  if (deps.clouds.length === 0) throw new Error('rollback needs at least one Vultr account (the platform pool\'s key)');
  const dryRun = options.dryRun ?? false;
  const rows = await findAccounts(selector, deps.store, options);
  const accounts = [...new Map(rows.map((r) => [r.account_id, { id: r.account_id, email: r.email }])).values()];
  const accountIds = accounts.map((a) => a.id);
  const report: RollbackReport = { selector, dryRun, accounts, cloudInstances: [], nodeInstances: 0, usageRecords: 0, kept: [], problems: [] };
  if (accountIds.length === 0) return report;

  const inFlight = new Map<string, string>();
  if (!dryRun) {
    const unsettled = await settle(deps.store, accountIds, options);
    for (const mission of unsettled.missions) {
      report.problems.push(`mission ${mission.id} still ${mission.status}: the worker may still create a Vultr instance; run rollback again once it settles`);
    }
    for (const row of unsettled.rows) inFlight.set(row.id, `still ${row.status}${row.provider_instance_id ? '' : ' with no Vultr id yet'}: the worker may still create its VM`);
  }

  const targets = new Map<string, Target>();
  const found: Found = (id, accountId, via, key) => {
    const target = targets.get(id) ?? { accountId, foundVia: [], seenBy: new Set<string>() };
    if (!target.foundVia.includes(via)) target.foundVia.push(via);
    if (key !== undefined) target.seenBy.add(key);
    targets.set(id, target);
  };
  const nodeInstances = await deps.store.nodeInstances(accountIds);
  for (const row of nodeInstances) if (row.provider_instance_id && !inFlight.has(row.id)) found(row.provider_instance_id, row.account_id, 'db');
  // An account counts as listed only when every Vultr account answered for it.
  let listed: Set<string> | undefined;
  for (const vultr of deps.clouds) {
    const where = deps.clouds.length > 1 ? ` with ${vultr.key}` : '';
    const here = await listTagged(accountIds, vultr, found, report.problems, where);
    listed = new Set([...(listed ?? here)].filter((id) => here.has(id)));
  }

  const gone = new Set<string>();
  const notGone = new Map<string, string>();
  for (const [id, { seenBy, ...target }] of targets) {
    if (dryRun) {
      report.cloudInstances.push({ id, ...target, keys: deps.clouds.filter((v) => seenBy.has(v.key)).map((v) => v.key), outcome: 'would_delete' });
      continue;
    }
    const result = await destroy(deps.clouds, id, { ...target, seenBy });
    report.cloudInstances.push({ id, ...target, ...result });
    if (result.outcome === 'deleted' || result.outcome === 'already_gone') gone.add(id);
    else notGone.set(id, result.outcome === 'unknown' ? `Vultr instance ${id} unknown: ${result.error}` : `deleting Vultr instance ${id} failed: ${result.error}`);
  }

  const removable: string[] = [];
  for (const row of nodeInstances) {
    const keep = (reason: string) =>
      report.kept.push({ nodeInstanceId: row.id, accountId: row.account_id, providerInstanceId: row.provider_instance_id, status: row.status, reason });
    const flying = inFlight.get(row.id);
    if (flying) keep(flying);
    else if (row.provider_instance_id && notGone.has(row.provider_instance_id)) keep(notGone.get(row.provider_instance_id)!);
    else if (!row.provider_instance_id && !listed?.has(row.account_id)) keep(`no Vultr id, and the account's instances could not be listed, so a VM of it may be unseen`);
    else removable.push(row.id);
  }
  if (dryRun) {
    report.kept = [];
    report.nodeInstances = nodeInstances.length;
    report.usageRecords = (await deps.store.usageRecords(accountIds)).length;
    return report;
  }
  const deleted = await deps.store.deleteNodeInstanceRows(removable);
  report.nodeInstances = deleted.nodeInstances;
  report.usageRecords = deleted.usageRecords;
  return report;
}

/** True when the rollback had nothing to destroy: what a second run must report. */
export function foundNothing(report: RollbackReport): boolean {
  return report.nodeInstances === 0 && report.usageRecords === 0 && report.kept.length === 0 && report.cloudInstances.every((i) => i.outcome === 'already_gone');
}

export function rollbackFailures(report: RollbackReport): string[] {
  return [
    ...report.problems,
    ...report.cloudInstances.filter((i) => i.outcome === 'failed').map((i) => `deleting Vultr instance ${i.id}: ${i.error ?? 'failed'}`),
    ...report.kept.map((row) => `kept NodeInstance ${row.nodeInstanceId}${row.providerInstanceId ? ` (Vultr ${row.providerInstanceId})` : ''}: ${row.reason}`),
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
    const where = instance.keys.length > 0 ? `, Vultr account of ${instance.keys.join(' and ')}` : '';
    lines.push(`    ${instance.id} [account ${instance.accountId}, via ${instance.foundVia.join('+')}${where}]: ${instance.outcome.replace('_', ' ')}${instance.error ? ` (${instance.error})` : ''}`);
  }
  lines.push(`  NodeInstances ${verb}: ${report.nodeInstances}`);
  lines.push(`  usage records ${verb} (spend reset): ${report.usageRecords}`);
  for (const row of report.kept) {
    lines.push(`  kept NodeInstance ${row.nodeInstanceId} (${row.status}${row.providerInstanceId ? `, Vultr ${row.providerInstanceId}` : ''}): ${row.reason}`);
  }
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  return lines.join('\n');
}
