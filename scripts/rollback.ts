/**
 * `npm run rollback -- --run-id <id> | --older-than <age> [--all-runs] [--dry-run] [--json]`:
 * RUNBOOK Rollback by hand, for a run whose teardown never ran (Ctrl+C, a crashed machine) or for
 * the suite identities older than an age: those of the runs started from this checkout (the run
 * state in test-results/run-state knows them), or of every run with --all-runs, since colleagues'
 * runs on a shared target are not ours to sweep. Touches only identities matching
 * e2e+...@E2E_EMAIL_DOMAIN.
 * `--json` prints a machine-readable summary instead of the report (what the harnesses read).
 * Exit codes: 0 done, 1 something could not be removed, 2 bad arguments or configuration.
 */
import pg from 'pg';
import { z } from 'zod';
import { parseCommandLine, runWhenInvoked, UsageError } from '../harness/lib/cli';
import { ConfigError, loadConfig } from '../helpers/config';
import { createDispatcher } from '../helpers/clients/http';
import { createQueries } from '../helpers/clients/queries';
import { formatRollbackReport, foundNothing, rollback, rollbackFailures, type RollbackReport, type RollbackSelector } from '../helpers/run/rollback';
import { vultrAccounts } from '../helpers/clients/vultr';
import { restorePlatformPool } from '../helpers/run/platform-pool';
import { pendingSharedChanges, recordSharedChangeUndone, runsStartedHere, type SharedChange } from '../helpers/run/state';
import { withNpmConfigFlags } from './lib/npm-flags';

export const ROLLBACK_USAGE = `usage: npm run rollback -- (--run-id <id> | --older-than <age> [--all-runs]) [--dry-run] [--json]

  --run-id <id>       the run whose identities (e2e+<id>-*@<E2E_EMAIL_DOMAIN>) to roll back
  --older-than <age>  the identities of runs started from this checkout created more than <age>
                      ago: 30m, 2h, 1d (0m = all of them)
  --all-runs          with --older-than: every run's identities, a colleague's on a shared target too
  --dry-run           report what would be deleted, change nothing
  --json              print a JSON summary (per account and instance what was done, counts, errors)`;

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "2h", "30m", "0m", "45s", "1d" → milliseconds; null for anything else. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)([smhd])$/.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

export type RollbackArgs = { help: true } | { help: false; selector: RollbackSelector; dryRun: boolean; json: boolean };

export function parseRollbackArgs(argv: string[]): { ok: true; args: RollbackArgs } | { ok: false; message: string } {
  let values;
  try {
    values = parseCommandLine(
      argv,
      { 'run-id': { type: 'string' }, 'older-than': { type: 'string' }, 'all-runs': { type: 'boolean' }, 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
      { 'run-id': 'mabc12340f3e', 'older-than': '2h' },
    );
  } catch (error) {
    if (error instanceof UsageError) return { ok: false, message: error.message };
    throw error;
  }
  if (values.help) return { ok: true, args: { help: true } };
  const runId = values['run-id'];
  const olderThan = values['older-than'];
  const flags = { dryRun: values['dry-run'] ?? false, json: values.json ?? false };
  if (runId !== undefined && !/^[a-z0-9]{4,24}$/.test(runId)) return { ok: false, message: `--run-id expects 4-24 lower-case letters or digits, got "${runId}"` };
  if (olderThan !== undefined && parseDuration(olderThan) === null) {
    return { ok: false, message: `--older-than expects a number and a unit (s, m, h, d), e.g. 30m or 2h; got "${olderThan}"` };
  }
  if (runId !== undefined && olderThan !== undefined) return { ok: false, message: 'give either --run-id or --older-than, not both' };
  if (values['all-runs'] && olderThan === undefined) return { ok: false, message: '--all-runs goes with --older-than' };
  if (runId !== undefined) return { ok: true, args: { help: false, selector: { kind: 'run', runId }, ...flags } };
  if (olderThan !== undefined) {
    const selector: RollbackSelector = { kind: 'older-than', ageMs: parseDuration(olderThan)!, ...(values['all-runs'] ? { runIds: 'all' as const } : {}) };
    return { ok: true, args: { help: false, selector, ...flags } };
  }
  return { ok: false, message: 'say what to roll back: --run-id <id> or --older-than <age>' };
}

const outcomeSchema = z.enum(['deleted', 'already_gone', 'would_delete', 'failed', 'unknown']);

/**
 * `--json`: per account, its Vultr instances and what was done to each (deleted, already gone,
 * would delete in a dry run, failed); the counts (NodeInstances and usage records deleted, or
 * that would be in a dry run); the errors. Identities and ids only: nothing secret.
 */
export const rollbackJsonSchema = z.object({
  selector: z.union([
    z.object({ kind: z.literal('run'), runId: z.string() }),
    z.object({ kind: z.literal('older-than'), ageMs: z.number(), runIds: z.union([z.array(z.string()), z.literal('all')]).optional() }),
    z.object({ kind: z.literal('emails'), emails: z.array(z.string()) }),
  ]),
  dryRun: z.boolean(),
  accounts: z.array(
    z.object({
      id: z.string(),
      email: z.string(),
      instances: z.array(
        z.object({
          id: z.string(),
          foundVia: z.array(z.enum(['db', 'tag'])),
          /** The Vultr accounts that held it, by their key's variable (VULTR_API_KEY, VULTR_ISOLATION_API_KEY): never a key. */
          keys: z.array(z.string()),
          outcome: outcomeSchema,
          error: z.string().optional(),
        }),
      ),
    }),
  ),
  counts: z.object({ accounts: z.number(), instances: z.record(outcomeSchema, z.number()), nodeInstances: z.number(), usageRecords: z.number() }),
  /** NodeInstance rows left in place because their VM is not confirmed gone, with why. */
  kept: z.array(z.object({ nodeInstanceId: z.string(), accountId: z.string(), providerInstanceId: z.string().nullable(), status: z.string(), reason: z.string() })),
  errors: z.array(z.string()),
  /** Nothing was left to destroy: what a second rollback must report. */
  nothingToDo: z.boolean(),
  /** Shared state a killed run left changed, put back (printed by the command, not by rollbackJson). */
  restored: z.array(z.object({ runId: z.string(), kind: z.literal('platform_pool_disabled'), credentialIds: z.array(z.string()) })).optional(),
});
export type RollbackJson = z.infer<typeof rollbackJsonSchema>;

export function rollbackJson(report: RollbackReport): RollbackJson {
  const instances = { deleted: 0, already_gone: 0, would_delete: 0, failed: 0, unknown: 0 };
  for (const instance of report.cloudInstances) instances[instance.outcome] += 1;
  return {
    selector: report.selector,
    dryRun: report.dryRun,
    accounts: report.accounts.map((account) => ({
      ...account,
      instances: report.cloudInstances.filter((i) => i.accountId === account.id).map(({ accountId: _, ...instance }) => instance),
    })),
    counts: { accounts: report.accounts.length, instances, nodeInstances: report.nodeInstances, usageRecords: report.usageRecords },
    kept: report.kept,
    errors: rollbackFailures(report),
    nothingToDo: foundNothing(report),
  };
}

type Restored = { done: { runId: string; kind: SharedChange['kind']; credentialIds: string[] }[]; failures: string[] };

/**
 * Puts back the shared state a run changed and did not put back (its ledger in the run state):
 * the platform-pool credential a killed run left off. The runs are the one named, or this
 * checkout's (only this checkout has their ledgers).
 */
export async function restoreSharedState(
  selector: RollbackSelector,
  queries: Parameters<typeof restorePlatformPool>[0],
  dryRun: boolean,
  ledger = { pending: pendingSharedChanges, undone: recordSharedChangeUndone, runs: runsStartedHere },
): Promise<Restored> {
  const runIds = selector.kind === 'run' ? [selector.runId] : ledger.runs();
  const restored: Restored = { done: [], failures: [] };
  for (const runId of runIds) {
    for (const change of ledger.pending(runId)) {
      try {
        if (!dryRun) {
          await restorePlatformPool(queries, change.credentialIds);
          ledger.undone(runId, change);
        }
        restored.done.push({ runId, kind: change.kind, credentialIds: change.credentialIds });
      } catch (error) {
        restored.failures.push(`restoring the platform pool left off by run ${runId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return restored;
}

async function main(): Promise<number> {
  try {
    return await rollbackCommand();
  } catch (error) {
    // An operator's command: one line (a refused connection, a bad key), not a stack trace.
    console.error(`rollback: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

async function rollbackCommand(): Promise<number> {
  const argv = withNpmConfigFlags(process.argv.slice(2), process.env, ['run-id', 'older-than', 'dry-run', 'json', 'help']);
  const parsed = parseRollbackArgs(argv);
  if (!parsed.ok) {
    console.error(`rollback: ${parsed.message}\n\n${ROLLBACK_USAGE}`);
    return 2;
  }
  if (parsed.args.help) {
    console.log(ROLLBACK_USAGE);
    return 0;
  }
  const { dryRun, json } = parsed.args;
  // --older-than sweeps this checkout's runs only, unless --all-runs says every run.
  const selector: RollbackSelector =
    parsed.args.selector.kind === 'older-than' && parsed.args.selector.runIds === undefined
      ? { ...parsed.args.selector, runIds: runsStartedHere() }
      : parsed.args.selector;

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(`config: ${problem}`);
    return 2;
  }

  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  const dispatcher = createDispatcher();
  try {
    const queries = createQueries(pool, { providerIdSql: config.NODE_INSTANCE_PROVIDER_ID_SQL });
    // First what a killed run left switched off: the rollback's own checks may need the pool.
    const restored = await restoreSharedState(selector, queries, dryRun);
    const report = await rollback(
      selector,
      // Every Vultr account the suite holds a key for: a VM made with the isolation key lives only there.
      { store: queries, clouds: vultrAccounts(config, dispatcher).map(({ key, client }) => ({ key, cloud: client })) },
      // A job already queued for a killed run would otherwise create its VM after we looked.
      { domain: config.E2E_EMAIL_DOMAIN, dryRun, settleTimeoutMs: config.PROVISION_TIMEOUT_MS + 15_000, inFlightMissionStatuses: config.IN_FLIGHT_MISSION_STATUSES },
    );
    console.log(json ? JSON.stringify({ ...rollbackJson(report), restored: restored.done }, null, 2) : formatRollbackReport(report));
    if (!json) for (const line of restored.done) console.log(`  restored: ${line.kind} of run ${line.runId} (credentials ${line.credentialIds.join(', ')})${dryRun ? ' — would restore' : ''}`);
    const failures = [...restored.failures, ...rollbackFailures(report)];
    for (const failure of failures) console.error(`rollback: ${failure}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await pool.end();
    await dispatcher.close();
  }
}

runWhenInvoked('rollback', import.meta.url, main);
