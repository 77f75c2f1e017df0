/**
 * What the interrupted-run harness asks of the world after a kill: the database and the Vultr
 * emulator (through the suite's own queries and client), `npm run rollback --json`, and
 * `npm run stack -- --stop` with what it must leave behind (nothing).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';
import { busyPorts } from '@m1/reference/probe';
import { stackDataDir } from '@m1/reference/stack';
import { createQueries } from '../helpers/clients/queries';
import type { VultrClient } from '../helpers/clients/vultr';
import { DEFAULT_IN_FLIGHT_MISSION_STATUSES } from '../helpers/run/rollback';
import { rollbackJsonSchema, type RollbackJson } from '../scripts/rollback';
import type { Check, NodeRow } from './interrupted-run';
import { ROOT } from './lib/playwright-run';
import { alive, processesMentioning } from './lib/proc';
import { describeExit, exitedWithin, run, signal, waitFor } from './lib/processes';
import { portList, type RunningStack } from './lib/stack';

export async function allGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const survivors = await waitFor(() => (pids.every((p) => !alive(p)) ? [] : undefined), timeoutMs, 100);
  return survivors ?? pids.filter(alive);
}

/** What the scenarios ask of the database and the Vultr emulator, through the suite's own queries and client. */
export function probes(pool: pg.Pool, vultr: VultrClient) {
  const queries = createQueries(pool, { providerIdSql: 'provider_instance_id' });
  const accounts = async (pattern: string) => (await queries.accountsByEmailPattern(pattern)).map((r) => ({ id: r.account_id, email: r.email }));
  const rowCounts = async (accountIds: string[]) => ({
    nodeInstances: (await queries.nodeInstances(accountIds)).length,
    usageRecords: (await queries.usageRecords(accountIds)).length,
  });
  return {
    accounts,
    /** Every platform-pool credential is active (the pool test's kill point is when one is not). */
    platformPoolActive: async () => (await queries.platformPoolCredentials()).every((c) => c.is_active),
    rowCounts,
    nodeRows: async (pattern: string): Promise<NodeRow[]> => queries.nodeInstances((await accounts(pattern)).map((a) => a.id)),
    unsettledMissions: (accountIds: string[]) => queries.inFlightMissions(accountIds, DEFAULT_IN_FLIGHT_MISSION_STATUSES),
    settledMissions: async (accountIds: string[]) =>
      (await Promise.all(accountIds.map((id) => queries.missions(id)))).flat().filter((m) => m.status === 'completed' || m.status === 'failed'),
    providerIds: async (accountIds: string[]) => (await queries.nodeInstances(accountIds)).flatMap((n) => (n.provider_instance_id ? [n.provider_instance_id] : [])),
    instanceExists: async (id: string) => (await vultr.instance(id)) !== null,
    instancesTagged: (tag: string) => vultr.instancesByTag(tag),
    allInstances: () => vultr.allInstances(),
  };
}
export type Probes = ReturnType<typeof probes>;

/** What a rollback did, in one line. */
export function rolledBack(summary: RollbackJson): string {
  const instances = Object.entries(summary.counts.instances).filter(([, n]) => n > 0).map(([outcome, n]) => `${n} ${outcome.replace('_', ' ')}`);
  return (
    `${summary.counts.accounts} account(s); Vultr instances: ${instances.join(', ') || 'none'}; ` +
    `${summary.counts.nodeInstances} NodeInstance(s) and ${summary.counts.usageRecords} usage record(s) deleted` +
    (summary.errors.length ? `; errors: ${summary.errors.join('; ')}` : '')
  );
}

/** `npm run rollback -- --older-than 0m --json`, as an operator would run it, read from its JSON summary. */
export async function rollbackOnce(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ exit: { code: number | null; signal: NodeJS.Signals | null }; output: string; summary: RollbackJson | null }> {
  const result = await run('npm', ['run', '--silent', 'rollback', '--', '--older-than', '0m', '--json'], { cwd: ROOT, env, timeoutMs });
  let summary: RollbackJson | null = null;
  try {
    summary = rollbackJsonSchema.parse(JSON.parse(result.stdout));
  } catch {
    // Not a summary: the output is shown instead.
  }
  return { exit: result, output: `${result.stdout}${result.stderr}`.trimEnd(), summary };
}

/** `npm run stack -- --stop` must stop it, leave no process and free its ports; what is left is stopped by id. */
export async function stopChecks(stack: RunningStack, timeoutMs: number): Promise<Check[]> {
  const checks: Check[] = [];
  const stop = await run('npm', ['run', '--silent', 'stack', '--', '--stop'], { cwd: ROOT, env: stack.env, timeoutMs });
  checks.push({ name: '`npm run stack -- --stop` succeeds', ok: stop.code === 0, detail: stop.code === 0 ? undefined : `${describeExit(stop)}: ${`${stop.stdout}${stop.stderr}`.trim()}` });
  const exited = await exitedWithin(stack.spawned, timeoutMs);
  checks.push({ name: 'the stack process exited', ok: exited, detail: exited ? undefined : `pid ${stack.spawned.pid} still running` });
  if (!exited) signal(-stack.spawned.pid, 'SIGKILL');
  checks.push({ name: 'stack.pid removed', ok: !existsSync(join(stack.dir, 'stack.pid')) });
  const ports = portList(stack.ports);
  const open = (await waitFor(async () => ((await busyPorts(ports)).length === 0 ? [] : undefined), 10_000, 200)) ?? (await busyPorts(ports));
  checks.push({ name: `ports ${stack.ports.base}-${stack.ports.postgres} free`, ok: open.length === 0, detail: open.length ? `still listening: ${open.join(', ')}` : undefined });
  // Postgres runs with -D <its data dir> and the API server and worker from <dir>/build: any process
  // naming either is one the stack left behind.
  const left = await allGone([...processesMentioning(stack.dir), ...processesMentioning(stackDataDir(stack.dir))], 5_000);
  checks.push({ name: 'no process of the stack left', ok: left.length === 0, detail: left.length ? `pids ${left.join(', ')}` : undefined });
  for (const pid of left) signal(pid, 'SIGKILL');
  return checks;
}
