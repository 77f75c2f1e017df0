/**
 * `npx tsx harness/interrupted-run.ts [--scenario=sigint|sigkill|both] [--keep-stack]`: issue #7,
 * interrupted runs. Starts a fresh reference stack on ports 4221-4225, runs the funnel project
 * (with its preflight and run dependencies) and kills the runner mid-provisioning: with SIGINT (a
 * Ctrl+C: the signal goes to the runner's whole process group, as a terminal sends it), and with
 * SIGKILL to that group once the Vultr instance exists. Then `npm run rollback -- --older-than 0m`
 * must leave no suite instance at the Vultr emulator and no suite NodeInstance or usage record,
 * and a second rollback must find nothing to do. Prints PASS/FAIL per scenario; exits 1 on any
 * failure, 2 on a bad flag.
 *
 * Rollback waits for the worker: killing the runner does not stop a provisioning job already
 * queued. A rollback taken while a mission is approved but not yet picked up finds nothing and the
 * worker provisions afterwards; one taken while the worker's Vultr create is in flight deletes the
 * NodeInstance before the instance can be found by tag, and the VM is created anyway. So the script
 * waits until the run's missions have settled (completed or failed) before rolling back, as an
 * operator must, and says so when it waits.
 *
 * Linux only (it reads /proc to prove that no runner, worker or browser process survives).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { busyPorts } from '@m1/reference/probe';
import { forgetClusters } from '@m1/reference/stack';
import { anyRunEmailPattern, runEmailPattern } from '../helpers/run/identity-emails';
import { createDispatcher } from '../helpers/clients/http';
import { VultrClient } from '../helpers/clients/vultr';
import { parseCommandLine, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { PLAYWRIGHT_CLI, ROOT } from './lib/playwright-run';
import { treeOf } from './lib/proc';
import { describeExit, signal, spawnLogged, tailLines, waitFor, within, type Spawned } from './lib/processes';
import { allGone, probes, rollbackOnce, rolledBack, stopChecks, type Probes } from './interrupted-run-probes';
import { portList, startStack, suiteEnv, type EnvChanges, type Ports, type RunningStack } from './lib/stack';
import { FUNNEL, NEGATIVE } from '../tests/steps';

/** This script's own ports: never the real stack's (3100-3103, 54329) nor another script's. */
export const PORTS: Ports = { base: 4221, vultr: 4222, stripe: 4223, worker: 4224, postgres: 4225 };

const DOMAIN = 'e2e.powernode.test';
const VULTR_API_KEY = 'vk_test_platform_pool';
/**
 * Time the emulated VM takes to become active. The default 2 s is a short target for a kill on a
 * busy 2-core CI machine; 4 s keeps the instance in `starting` long enough to be caught there.
 */
const VULTR_BOOT_DELAY_MS = 4_000;
const WATCH_INTERVAL_MS = 50;
const STACK_START_TIMEOUT_MS = 90_000;
const PROVISIONING_TIMEOUT_MS = 120_000;
/** A SIGINTed runner ends its run itself (its teardown projects do not run) and writes its report. */
const SIGINT_EXIT_TIMEOUT_MS = 60_000;
const SIGKILL_EXIT_TIMEOUT_MS = 10_000;
const PROCESSES_GONE_TIMEOUT_MS = 10_000;
/** Boot delay plus the worker's poll, with room for a loaded machine. */
const SETTLE_TIMEOUT_MS = VULTR_BOOT_DELAY_MS + 60_000;
const ROLLBACK_TIMEOUT_MS = 60_000;
const STACK_STOP_TIMEOUT_MS = 40_000;

/** The stack and every command run against it: its key, its boot delay, no fault, none of the caller's emulator tuning. */
const STACK: EnvChanges = {
  set: { STACK_FAULTS: '', VULTR_API_KEY, VULTR_BOOT_DELAY_MS: String(VULTR_BOOT_DELAY_MS) },
  drop: ['VULTR_EMULATOR_KEYS', 'VULTR_OK_DELAY_MS', 'PROVISION_POLL_INTERVAL_MS'],
};

// ───────────────────────────────────────────────────────────────────── flags

/** pool-off: kill -9 of the platform-pool test's runner while the shared credential is off. */
export type Scenario = 'sigint' | 'sigkill' | 'pool-off';
export const SCENARIOS: readonly Scenario[] = ['sigint', 'sigkill', 'pool-off'];

export type Options = { scenarios: Scenario[]; keepStack: boolean; help: boolean };

export const USAGE = `usage: npx tsx harness/interrupted-run.ts [--scenario=sigint|sigkill|pool-off|all] [--keep-stack] [--help]

Starts a fresh reference stack (ports ${PORTS.base}-${PORTS.postgres}, state in a directory under ${tmpdir()}), runs the
funnel project and kills the runner mid-provisioning, then checks that
\`npm run rollback -- --older-than 0m\` leaves no suite instance at the Vultr emulator and no suite
NodeInstance or usage record, and that a second rollback finds nothing to do.

  --scenario=NAME  sigint (Ctrl+C to the runner's process group), sigkill (kill -9 of the group
                   once the Vultr instance exists), pool-off (kill -9 of the platform-pool test
                   while the shared credential is off; rollback must switch it back on) or all
                   (default; 'both' is an older name for it)
  --keep-stack     leave the stack up afterwards and keep its directory and the runners' output;
                   the script then waits in the foreground until Ctrl+C
  --help           this text`;

export { UsageError };

export function parseArgs(argv: string[]): Options {
  const values = parseCommandLine(argv, { scenario: { type: 'string' }, 'keep-stack': { type: 'boolean' } }, { scenario: 'all' });
  const scenario = values.scenario;
  if (scenario === '') throw new UsageError('--scenario expects a value, e.g. --scenario=all');
  const scenarios = scenario === undefined || scenario === 'all' || scenario === 'both' ? [...SCENARIOS] : SCENARIOS.filter((s) => s === scenario);
  if (scenarios.length === 0) throw new UsageError(`--scenario expects sigint, sigkill, pool-off or all; got "${scenario}"`);
  return { scenarios, keepStack: values['keep-stack'] ?? false, help: values.help ?? false };
}

// ───────────────────────────────────────────────────────────────────── pure decisions

export type NodeRow = { id: string; status: string; provider_instance_id: string | null };

const IN_FLIGHT = ['pending', 'provisioning', 'starting'];

/**
 * The row to kill at, or undefined to keep watching. SIGINT goes as soon as provisioning has begun;
 * SIGKILL waits for the Vultr id, so the instance certainly exists when the runner dies.
 */
export function killPoint(scenario: Scenario, rows: NodeRow[]): NodeRow | undefined {
  if (scenario === 'sigint') return rows.find((r) => IN_FLIGHT.includes(r.status));
  return rows.find((r) => r.status === 'starting' && r.provider_instance_id !== null);
}

/** True once every row is past provisioning: the moment to kill has gone by. */
export function missedWindow(rows: NodeRow[]): boolean {
  return rows.length > 0 && rows.every((r) => !IN_FLIGHT.includes(r.status));
}

export type Check = { name: string; ok: boolean; detail?: string };

export function formatSummary(results: { name: string; runId?: string; seconds: number; checks: Check[] }[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = ['interrupted-run summary:'];
  for (const result of results) {
    const failed = result.checks.filter((c) => !c.ok);
    const verdict = failed.length === 0 && result.checks.length > 0 ? 'PASS' : 'FAIL';
    const run = result.runId ? `run ${result.runId}, ` : '';
    lines.push(`  ${result.name.padEnd(width)}  ${verdict}  (${run}${result.checks.length - failed.length}/${result.checks.length} checks, ${result.seconds.toFixed(1)} s)`);
    for (const check of failed) lines.push(`      ✗ ${check.name}${check.detail ? `: ${check.detail}` : ''}`);
  }
  return lines.join('\n');
}

// ───────────────────────────────────────────────────────────────────── helpers

const began = Date.now();

function say(line: string): void {
  process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

/** A log's last lines, indented under the line that names it. */
function quoted(file: string, lines = 25): string {
  const text = tailLines(file, lines);
  return (text.length > 0 ? text : [`(no ${file})`]).map((l) => `      | ${l}`).join('\n');
}

// ───────────────────────────────────────────────────────────────────── one scenario

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Process groups of runners still running, for this script's own Ctrl+C. */
const runners = new Set<number>();

type ScenarioResult = { name: string; runId?: string; seconds: number; checks: Check[] };

function newRunId(scenario: Scenario): string {
  return `intr${{ sigint: 'i', sigkill: 'k', 'pool-off': 'p' }[scenario]}${randomBytes(4).toString('hex')}`;
}

async function runScenario(scenario: Scenario, stack: RunningStack, probe: Probes, workDir: string): Promise<ScenarioResult> {
  const startedAt = Date.now();
  const runId = newRunId(scenario);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, ok, detail });
    say(`${scenario}: ${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` (${detail})` : ''}`);
    return ok;
  };
  const done = () => ({ name: scenario, runId, seconds: (Date.now() - startedAt) / 1000, checks });
  const runDir = join(workDir, runId);
  mkdirSync(runDir, { recursive: true });
  const env = suiteEnv(process.env, PORTS, stack.dir, {
    set: { ...STACK.set, E2E_EMAIL_DOMAIN: DOMAIN, NODE_INSTANCE_PROVIDER_ID_SQL: 'provider_instance_id', E2E_RUN_ID: runId },
    drop: [...(STACK.drop ?? []), 'CI'],
  });
  const pattern = runEmailPattern(runId, DOMAIN);

  // Its own process group, like a shell's foreground job: the signal reaches the runner, its
  // workers and the browser at once. Its cwd is the run's directory; its start is still recorded in
  // the checkout's test-results/run-state, which is how rollback --older-than knows it is ours.
  const test = scenario === 'pool-off' ? NEGATIVE.poolDisabled.test : FUNNEL.test;
  const selection = ['--project=runbook', '--grep', escapeRegExp(test)];
  say(`${scenario}: run ${runId}: playwright test ${selection.join(' ')} (output in ${runDir})`);
  const runner = spawnLogged(
    process.execPath,
    [PLAYWRIGHT_CLI, 'test', '--config', join(ROOT, 'playwright.config.ts'), ...selection, '--output', join(runDir, 'artifacts'), `--reporter=line,${join(ROOT, 'reporters/run-summary-reporter.ts')}`],
    { cwd: runDir, env, log: join(runDir, 'runner.log') },
  );
  const pgid = runner.pid;
  if (pgid <= 0) {
    check('the runner starts', false, describeExit(await runner.exited));
    return done();
  }
  runners.add(pgid);

  let target: NodeRow | undefined;
  const watched = await waitFor(async () => {
    if (runner.exit) return 'exited' as const;
    if (scenario === 'pool-off') return (await probe.platformPoolActive()) ? undefined : ('kill' as const);
    const rows = await probe.nodeRows(pattern);
    target = killPoint(scenario, rows);
    if (target && scenario === 'sigkill' && !(await probe.instanceExists(target.provider_instance_id!))) target = undefined;
    if (target) return 'kill' as const;
    if (missedWindow(rows)) return 'missed' as const;
    return undefined;
  }, PROVISIONING_TIMEOUT_MS, WATCH_INTERVAL_MS);

  const tree = treeOf(pgid);
  if (watched !== 'kill') {
    signal(-pgid, 'SIGKILL');
    const why =
      watched === 'exited'
        ? `the runner ended (${describeExit(runner.exit)}) before provisioning began`
        : watched === 'missed'
          ? 'the NodeInstance was already past provisioning when seen (kill window missed)'
          : `no NodeInstance began provisioning within ${PROVISIONING_TIMEOUT_MS / 1000} s`;
    check(scenario === 'pool-off' ? 'the runner was killed while the platform pool was off' : 'the runner was killed mid-provisioning', false, `${why}; last lines of ${runner.log}:\n${quoted(runner.log)}`);
  } else if (scenario === 'pool-off') {
    say(`${scenario}: the platform-pool credential is off: SIGKILL to the runner's process group (${tree.length + 1} processes)`);
    signal(-pgid, 'SIGKILL');
    check('the runner was killed while the platform pool was off', true);
  } else {
    const what = scenario === 'sigint' ? 'SIGINT' : 'SIGKILL';
    const instance = target!.provider_instance_id ? `, Vultr instance ${target!.provider_instance_id} exists` : ', no Vultr id yet';
    say(`${scenario}: NodeInstance ${target!.id} is ${target!.status}${instance}: ${what} to the runner's process group (${tree.length + 1} processes)`);
    signal(-pgid, what);
    check(`the runner was killed mid-provisioning (NodeInstance ${target!.status})`, true);
  }

  const exitTimeout = scenario === 'sigint' ? SIGINT_EXIT_TIMEOUT_MS : SIGKILL_EXIT_TIMEOUT_MS;
  let exit = await within(runner.exited, exitTimeout);
  const escalated = exit === undefined;
  if (escalated) {
    signal(-pgid, 'SIGKILL');
    exit = await within(runner.exited, SIGKILL_EXIT_TIMEOUT_MS);
  }
  runners.delete(pgid);
  if (watched === 'kill') {
    const detail = escalated ? `still running ${exitTimeout / 1000} s later; killed (${describeExit(exit)})` : describeExit(exit);
    check(`the runner exited after the ${scenario === 'sigint' ? 'SIGINT' : 'SIGKILL'}`, !escalated && exit !== undefined, detail);
    if (scenario === 'sigint') {
      say(`${scenario}: what the interrupted runner printed last:\n${quoted(runner.log, 12)}`);
      // A SIGINTed runner still ends its run: its summary must say the final rollback did not run.
      const printed = readFileSync(runner.log, 'utf8');
      const named = printed.includes('the final rollback did not run (the run was interrupted)') && printed.includes(`npm run rollback -- --run-id ${runId}`);
      check('the interrupted runner says what to clean up', named, named ? undefined : 'no run summary naming `npm run rollback -- --run-id <id>`');
    }
  }
  const survivors = await allGone([...new Set([...tree, ...treeOf(pgid)])], PROCESSES_GONE_TIMEOUT_MS);
  check('no runner, worker or browser process survives', survivors.length === 0, survivors.length ? `pids ${survivors.join(', ')} (now killed)` : undefined);
  for (const pid of survivors) signal(pid, 'SIGKILL');

  const accounts = await probe.accounts(pattern);
  if (!check("the run's accounts are in the DB", accounts.length > 0, accounts.map((a) => a.email).join(', '))) return done();
  const accountIds = accounts.map((a) => a.id);

  say(`${scenario}: waiting for the worker to settle the run's missions before rolling back (a rollback racing an in-flight Vultr create can miss the instance)`);
  const settled = await waitFor(async () => ((await probe.unsettledMissions(accountIds)).length === 0 ? true : undefined), SETTLE_TIMEOUT_MS, 200);
  const missions = await probe.settledMissions(accountIds);
  check(
    "the run's missions settled (the worker is done with them)",
    settled === true,
    settled ? missions.map((m) => `${m.status}${m.error_code ? ` ${m.error_code}` : ''}`).join(', ') || 'none approved' : JSON.stringify(await probe.unsettledMissions(accountIds)),
  );

  const before = await probe.rowCounts(accountIds);
  const knownIds = new Set(await probe.providerIds(accountIds));
  const tagged = (await Promise.all(accountIds.map((id) => probe.instancesTagged(`account:${id}`)))).flat();
  const orphans = tagged.filter((i) => !knownIds.has(i.id));
  say(
    `${scenario}: before rollback: ${before.nodeInstances} NodeInstance(s), ${before.usageRecords} usage record(s), ${tagged.length} Vultr instance(s) tagged with the run's accounts` +
      (orphans.length ? `, ${orphans.length} of them with no NodeInstance (left by the interrupted run's own cleanup racing the worker): ${orphans.map((o) => o.id).join(', ')}` : ''),
  );

  const first = await rollbackOnce(env, ROLLBACK_TIMEOUT_MS);
  say(`${scenario}: npm run rollback -- --older-than 0m --json (${describeExit(first.exit)}): ${first.summary ? rolledBack(first.summary) : `no JSON summary:\n${first.output.replace(/^/gm, '      | ')}`}`);
  check('rollback exits 0', first.exit.code === 0, describeExit(first.exit));
  const poolOn = await probe.platformPoolActive();
  check('the platform pool is on after the rollback', poolOn, poolOn ? undefined : 'a platform-pool credential is still off');
  if (scenario === 'pool-off') {
    const restored = first.summary?.restored ?? [];
    check('rollback says it switched the pool back on', restored.some((r) => r.runId === runId && r.kind === 'platform_pool_disabled'), JSON.stringify(restored));
  }
  check('rollback found the run\'s accounts', first.summary !== null && first.summary.counts.accounts >= accounts.length, first.summary ? `${first.summary.counts.accounts} account(s)` : 'no JSON summary');

  for (const account of accounts) {
    const left = await probe.instancesTagged(`account:${account.id}`);
    check(`no Vultr instance tagged account:${account.id}`, left.length === 0, left.length ? left.map((i) => i.id).join(', ') : undefined);
  }
  const all = await probe.allInstances();
  const runTags = new Set(accountIds.map((id) => `account:${id}`));
  const carrying = all.filter((i) => i.tags.some((t) => runTags.has(t)));
  check("no instance at the emulator carries the run's account tags", carrying.length === 0, carrying.length ? carrying.map((i) => i.id).join(', ') : undefined);
  // The stack is this script's alone: every instance it holds came from a suite run.
  check('no instance left at the emulator at all', all.length === 0, all.length ? all.map((i) => `${i.id} [${i.tags.join(' ')}]`).join(', ') : undefined);

  const after = await probe.rowCounts(accountIds);
  check("no NodeInstance of the run's accounts", after.nodeInstances === 0, `${after.nodeInstances} left`);
  check("no usage record of the run's accounts", after.usageRecords === 0, `${after.usageRecords} left`);
  const suiteIds = (await probe.accounts(anyRunEmailPattern(DOMAIN))).map((a) => a.id);
  const suite = await probe.rowCounts(suiteIds);
  check('no suite NodeInstance or usage record at all', suite.nodeInstances === 0 && suite.usageRecords === 0, `${suite.nodeInstances} NodeInstance(s), ${suite.usageRecords} usage record(s) across ${suiteIds.length} suite account(s)`);

  const second = await rollbackOnce(env, ROLLBACK_TIMEOUT_MS);
  check('a second rollback exits 0', second.exit.code === 0, describeExit(second.exit));
  check(
    'a second rollback finds nothing to do',
    second.summary !== null && second.summary.nothingToDo,
    second.summary
      ? `${Object.values(second.summary.counts.instances).reduce((a, b) => a + b, 0)} Vultr instance(s), ${second.summary.counts.nodeInstances} NodeInstance(s), ${second.summary.counts.usageRecords} usage record(s)`
      : `no JSON summary:\n${second.output}`,
  );
  return done();
}

// ───────────────────────────────────────────────────────────────────── main

async function main(argv: string[]): Promise<number> {
  const start = startCli('interrupted-run', argv, parseArgs, USAGE, ROOT);
  if ('exitCode' in start) return start.exitCode;
  const { scenarios, keepStack } = start.options;

  const busy = await busyPorts(portList(PORTS));
  if (busy.length > 0) {
    process.stderr.write(`interrupted-run: ports ${busy.join(', ')} are in use; this script needs ${PORTS.base}-${PORTS.postgres} free (a stack left by --keep-stack? stop it first)\n`);
    return 1;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'interrupted-run-'));
  const stackDir = join(workDir, 'stack');
  const results: ScenarioResult[] = [];
  let stack: RunningStack | undefined;
  let stackProcess: Spawned | undefined;
  let pool: pg.Pool | undefined;
  const dispatcher = createDispatcher();

  // Ctrl+C or SIGTERM on this script: runners live in process groups of their own, so end them
  // here; the stack would stop itself once its parent (this script) is gone, but is told to now
  // so that its directory can go once it has.
  let interrupted = false;
  const interrupt = (name: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${name}: ending the runner and the stack`);
    for (const group of runners) signal(-group, 'SIGKILL');
    if (stackProcess) signal(stackProcess.pid, 'SIGTERM');
    void within<unknown>(stackProcess?.exited ?? Promise.resolve(), STACK_STOP_TIMEOUT_MS).then(() => {
      if (!keepStack) rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };

  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    say(`starting a fresh reference stack on ports ${PORTS.base}-${PORTS.postgres} (STACK_DIR ${stackDir})`);
    stack = await startStack({ ports: PORTS, dir: stackDir, log: join(stackDir, 'stack.out.log'), fresh: true, env: STACK, timeoutMs: STACK_START_TIMEOUT_MS, onSpawn: (s) => (stackProcess = s) });
    say(`stack up at ${stack.env.BASE_URL}`);

    pool = new pg.Pool({ connectionString: suiteEnv(process.env, PORTS, stackDir).DATABASE_URL, max: 3, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const probe = probes(pool, new VultrClient({ baseUrl: stack.env.VULTR_API_URL!, apiKey: VULTR_API_KEY, dispatcher }));
    for (const scenario of scenarios) {
      try {
        results.push(await runScenario(scenario, stack, probe, workDir));
      } catch (error) {
        if (interrupted) break;
        say(`${scenario}: FAIL ${(error as Error).stack ?? String(error)}`);
        results.push({ name: scenario, seconds: 0, checks: [{ name: 'the scenario ran to the end', ok: false, detail: (error as Error).message }] });
      }
    }
  } catch (error) {
    process.stderr.write(`interrupted-run: ${(error as Error).message}\n`);
    results.push({ name: 'stack', seconds: (Date.now() - began) / 1000, checks: [{ name: 'the reference stack starts', ok: false, detail: (error as Error).message.split('\n')[0] }] });
  } finally {
    await pool?.end().catch(() => undefined);
    await dispatcher.close().catch(() => undefined);
  }

  if (stack && keepStack) {
    const env = suiteEnv(process.env, PORTS, stackDir);
    process.stdout.write(`${formatSummary(results)}\n\n--keep-stack: the stack is still up; its state and the runners' output are in ${workDir}\n`);
    for (const name of ['BASE_URL', 'VULTR_API_URL', 'DATABASE_URL', 'STACK_DIR'] as const) process.stdout.write(`  ${name}=${env[name]}\n`);
    process.stdout.write('Ctrl+C stops the stack (it stops itself when this script ends).\n');
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await new Promise<void>((r) => {
      process.once('SIGINT', () => r());
      process.once('SIGTERM', () => r());
    });
  }

  // The interrupt handler stops the stack and exits; what the scenario saw after it is noise.
  if (interrupted) await new Promise<never>(() => undefined);

  if (stack) {
    say('stopping the stack');
    const checks = await stopChecks(stack, STACK_STOP_TIMEOUT_MS);
    for (const c of checks) say(`stack: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    results.push({ name: 'stack stop', seconds: 0, checks });
  }
  if (!keepStack) {
    forgetClusters(stackDir, { everything: false });
    rmSync(workDir, { recursive: true, force: true });
  }

  const failed = results.some((r) => r.checks.length === 0 || r.checks.some((c) => !c.ok));
  process.stdout.write(`\n${formatSummary(results)}\n\ninterrupted-run: ${failed ? 'FAIL' : 'PASS'} in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  return failed ? 1 : 0;
}

runWhenInvoked('interrupted-run', import.meta.url, main);
