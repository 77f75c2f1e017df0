/**
 * `npm run test:remote-drill`: issue 14's drill. The suite runs against the reference stack treated
 * as a remote target, so its guards for a shared, billed stack are active, and consent is given (or
 * not) by the variables:
 *
 *   1. no consent                    → the config refuses (ALLOW_REMOTE_TARGET) before any test
 *                                      runs, and nothing is created: no suite account, no instance
 *   2. ALLOW_REMOTE_TARGET=1 only    → pre-flight refuses before any signup (ALLOW_REAL_CLOUD): it
 *                                      fails, nothing is created, and Vultr sees no creation
 *   3. ... and ALLOW_REAL_CLOUD=1    → the suite passes, except the platform-pool test, skipped
 *                                      with ALLOW_SHARED_STATE_CHANGES in its reason; the pool is
 *                                      never touched
 *   4. ALLOW_REMOTE_TARGET=1, ALLOW_REAL_CLOUD=1, ALLOW_SHARED_STATE_CHANGES=1
 *                                    → the whole suite passes, and leaves no suite VM and no suite
 *                                      NodeInstance row
 *
 * The stack listens on 127.0.0.1 only, and the suite takes a host for this machine only when it is
 * literally loopback. So the drill gives the stack reserved names (dev.powernode.test, …) that
 * resolve to 127.0.0.1 inside the drill alone, never through /etc/hosts: Node processes preload
 * harness/lib/host-map.mjs through NODE_OPTIONS (E2E_HOST_MAP lists the names), and Chromium gets
 * --host-resolver-rules through CHROMIUM_ARGS. The stack knows its own names too, as a shared dev
 * stack does: Stripe's return URL and Stripe.js are then served under them.
 *
 * The target has two Vultr accounts, as a shared dev stack's team may: the platform pool's and a
 * second one whose key the suite gets as VULTR_ISOLATION_API_KEY, so the account-isolation test
 * runs here too (with ALLOW_REAL_CLOUD=1), and "no suite VM remains" counts in both accounts.
 *
 * Its own ports (4801-4804, Postgres 54801), its own STACK_DIR and Postgres home in a temporary
 * folder; Ctrl+C stops the runner and the stack. Prints one ok/FAIL line per check and a final
 * "remote-drill: PASS/FAIL" line; exits 0 only when every check held.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Dispatcher } from 'undici';
import { busyPorts } from '@m1/reference/probe';
import { createDispatcher } from '../helpers/clients/http';
import { emulatorOrigin, vultrAccounts, VultrJournal } from '../helpers/clients/vultr';
import { anyRunEmailPattern } from '../helpers/run/identity-emails';
import { PREFLIGHT } from '../tests/steps';
import { parseCommandLine, runWhenInvoked, startCli } from './lib/cli';
import { installHostMap, parseHostMap } from './lib/host-map.mjs';
import { chromiumArgsValue, hostMapEnv, hostMapValue, namesKnownOutside } from './lib/host-names';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { processesMentioning } from './lib/proc';
import { describeExit, exitedWithin, run, signal, tail, waitFor, type Spawned } from './lib/processes';
import { failedInOrder, lastOutcomes, readReportFile, withoutColour, type Outcome } from './lib/report';
import { documentedBlank, documentedVariables, portList, startStack, suiteEnv, type Ports, type RunningStack } from './lib/stack';

/** This drill's own ports: never the default stack's (3100-3103, 54329) nor another harness's. */
export const PORTS: Ports = { base: 4801, vultr: 4802, stripe: 4803, worker: 4804, postgres: 54801 };

/** Reserved names (RFC 6761 .test): nothing outside the drill resolves them. */
export const NAMES: Readonly<Record<keyof Ports, string>> = {
  base: 'dev.powernode.test',
  vultr: 'vultr.powernode.test',
  stripe: 'stripe.powernode.test',
  worker: 'worker.powernode.test',
  postgres: 'db.powernode.test',
};

const LOOPBACK = '127.0.0.1';
const DOMAIN = 'e2e.powernode.test';
const VULTR_API_KEY = 'vk_test_platform_pool';
/** The reference's second Vultr account (CONTRACT 1), the target's other account here. */
const VULTR_ISOLATION_API_KEY = 'vk_test_isolation_account';
/** What run 3 must report: every test of the suite, pre-flight and teardown included. */
/** Skipped in every run of the drill: with START_STACK=never the suite neither starts nor reuses a stack. */
const ALWAYS_SKIPPED = PREFLIGHT.ownStack;

const STACK_START_TIMEOUT_MS = 180_000;
const STACK_STOP_TIMEOUT_MS = 40_000;
const SUITE_TIMEOUT_MS = 15 * 60_000;
const RUNNER_INTERRUPT_GRACE_MS = 15_000;

// ───────────────────────────────────────────────────────────────────── what the runs are given

const names = Object.values(NAMES);

export function addresses() {
  return {
    BASE_URL: `http://${NAMES.base}:${PORTS.base}`,
    VULTR_API_URL: `http://${NAMES.vultr}:${PORTS.vultr}/v2`,
    STRIPE_API_BASE: `http://${NAMES.stripe}:${PORTS.stripe}`,
    WORKER_HEALTH_URL: `http://${NAMES.worker}:${PORTS.worker}/health`,
    DATABASE_URL: `postgres://m1:m1@${NAMES.postgres}:${PORTS.postgres}/m1_reference`,
  };
}

/** The stack's variables: it knows itself by the reserved names; its embedded Postgres has its own port and home. */
export function stackValues(stackDir: string, pgHome: string, inheritedNodeOptions: string | undefined): Record<string, string> {
  const { BASE_URL, VULTR_API_URL, STRIPE_API_BASE, WORKER_HEALTH_URL } = addresses();
  return {
    BASE_URL,
    VULTR_API_URL,
    STRIPE_API_BASE,
    WORKER_HEALTH_URL,
    VULTR_API_KEY,
    VULTR_ISOLATION_API_KEY,
    STACK_DIR: stackDir,
    STACK_PG_PORT: String(PORTS.postgres),
    // Its own Postgres home: `--forget` then removes the drill's clusters, never the checkout's others.
    STACK_PG_HOME: pgHome,
    ...hostMapEnv(names, LOOPBACK, inheritedNodeOptions),
  };
}

export type Consent = { ALLOW_REMOTE_TARGET: boolean; ALLOW_REAL_CLOUD: boolean; ALLOW_SHARED_STATE_CHANGES: boolean };

/** The suite's variables for one run: the stack by its names, consent exactly as given (0 or 1, never left to `.env`). */
export function suiteValues(stackDir: string, consent: Consent, runId: string, inheritedNodeOptions: string | undefined): Record<string, string> {
  const flag = (given: boolean) => (given ? '1' : '0');
  return {
    ...addresses(),
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
    E2E_EMAIL_DOMAIN: DOMAIN,
    E2E_RUN_ID: runId,
    ALLOW_REMOTE_TARGET: flag(consent.ALLOW_REMOTE_TARGET),
    ALLOW_REAL_CLOUD: flag(consent.ALLOW_REAL_CLOUD),
    ALLOW_SHARED_STATE_CHANGES: flag(consent.ALLOW_SHARED_STATE_CHANGES),
    VULTR_API_KEY,
    // A remote target has no default second account: the drill names it, as an operator would.
    VULTR_ISOLATION_API_KEY,
    ...hostMapEnv(names, LOOPBACK, inheritedNodeOptions),
    CHROMIUM_ARGS: chromiumArgsValue(names, LOOPBACK),
    FORCE_COLOR: '0',
  };
}

export type RunKind = 'no-consent' | 'remote-only' | 'no-shared-state' | 'full-consent';

const consent = (remote: boolean, cloud: boolean, shared: boolean): Consent => ({ ALLOW_REMOTE_TARGET: remote, ALLOW_REAL_CLOUD: cloud, ALLOW_SHARED_STATE_CHANGES: shared });

export const RUNS: readonly { kind: RunKind; label: string; consent: Consent }[] = [
  { kind: 'no-consent', label: 'run 1 (no consent)', consent: consent(false, false, false) },
  { kind: 'remote-only', label: 'run 2 (ALLOW_REMOTE_TARGET=1 only)', consent: consent(true, false, false) },
  { kind: 'no-shared-state', label: 'run 3 (no ALLOW_SHARED_STATE_CHANGES)', consent: consent(true, true, false) },
  { kind: 'full-consent', label: 'run 4 (all consent)', consent: consent(true, true, true) },
];

// ───────────────────────────────────────────────────────────────────── reading what a run said

export function tally(outcomes: Outcome[]): { passed: number; failed: number; skipped: number } {
  const count = (status: string) => outcomes.filter((o) => o.status === status).length;
  return { passed: count('passed'), failed: failedInOrder(outcomes).length, skipped: count('skipped') };
}

/** The config's refusal lines (playwright.config.ts prints one `config: ` line per problem). */
export function configRefusals(output: string): string[] {
  return withoutColour(output).split('\n').filter((line) => line.startsWith('config: '));
}

/** True once the runner has started tests (the list reporter announces how many). */
export function testsStarted(output: string): boolean {
  return /^Running \d+ tests? using/m.test(withoutColour(output));
}

export type Check = { name: string; ok: boolean; detail?: string };
type CheckFn = (name: string, ok: boolean, detail?: string) => boolean;

export function verdictLine(checks: Check[], seconds: number): string {
  const failed = checks.filter((c) => !c.ok);
  const time = `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  if (failed.length === 0 && checks.length > 0) return `remote-drill: PASS — all ${checks.length} checks held (${time})`;
  return `remote-drill: FAIL — ${failed.length} of ${checks.length} checks did not hold: ${failed.map((c) => c.name).join('; ') || 'no check ran'} (${time})`;
}

// ───────────────────────────────────────────────────────────────────── output, names, the stack's stop

const began = Date.now();

const say = (line: string) => void process.stdout.write(`remote-drill: ${line}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** A log's last lines, each indented under the line that names it. */
const quoted = (file: string, lines: number) => `    | ${withoutColour(tail(file, lines, '\n    | ')) || `(no ${file})`}`;

/** The operator's own commands, `npm run stack -- --stop` then `--forget`, with the stack's environment. */
async function stopAndForget(stack: RunningStack, check: CheckFn): Promise<void> {
  const npmStack = async (flag: string) => {
    const result = await run('npm', ['run', '--silent', 'stack', '--', flag], { cwd: ROOT, env: stack.env, timeoutMs: STACK_STOP_TIMEOUT_MS });
    return check(`\`npm run stack -- ${flag}\` succeeds`, result.code === 0, `${describeExit(result)}: ${`${result.stdout}${result.stderr}`.trim()}`);
  };
  await npmStack('--stop');
  const exited = await exitedWithin(stack.spawned, STACK_STOP_TIMEOUT_MS);
  if (!exited) signal(stack.spawned.pid, 'SIGKILL');
  check('the stack process exited', exited, `pid ${stack.spawned.pid} (now killed)`);
  await npmStack('--forget');
  const ports = portList(PORTS);
  const busy = (await waitFor(async () => ((await busyPorts(ports)).length === 0 ? [] : undefined), 10_000, 200)) ?? (await busyPorts(ports));
  check(`ports ${ports.join(', ')} are free`, busy.length === 0, `still listening: ${busy.join(', ')}`);
}

// ───────────────────────────────────────────────────────────────────── what the stack holds

type Probe = ReturnType<typeof probes>;
type Snapshot = { accounts: number; nodeInstances: number; instances: number; pool: { active: boolean; changedAt: string } };

function probes(db: pg.Pool, dispatcher: Dispatcher) {
  const { VULTR_API_URL } = addresses();
  // Every instance the emulator holds came from a suite run: the stack is the drill's own. Both
  // Vultr accounts: a VM made with the isolation key is in its account only.
  const accounts = vultrAccounts({ VULTR_API_URL, VULTR_API_KEY, VULTR_ISOLATION_API_KEY }, dispatcher);
  const allInstances = async () => (await Promise.all(accounts.map(({ client }) => client.allInstances()))).flat();
  const journal = new VultrJournal(emulatorOrigin(VULTR_API_URL), dispatcher);
  const count = async (sql: string) => (await db.query<{ n: number }>(sql, [anyRunEmailPattern(DOMAIN)])).rows[0]!.n;
  /** The shared platform-pool credentials (scope 1, no account): whether all are on, and when one last changed. */
  const platformPool = async () => {
    const { rows } = await db.query<{ active: boolean; changed_at: string }>(
      `SELECT coalesce(bool_and(is_active), false) AS active, coalesce(max(updated_at)::text, '') AS changed_at
         FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL`,
    );
    return { active: rows[0]!.active, changedAt: rows[0]!.changed_at };
  };
  return {
    /** Suite accounts (those of a user with a suite e-mail), their NodeInstances, the emulator's instances, the pool. */
    async snapshot(): Promise<Snapshot> {
      const [accounts, nodeInstances, instances, pool] = await Promise.all([
        count('SELECT count(DISTINCT a.id)::int AS n FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email LIKE $1'),
        count('SELECT count(*)::int AS n FROM system_node_instances n JOIN users u ON u.account_id = n.account_id WHERE u.email LIKE $1'),
        allInstances(),
        platformPool(),
      ]);
      return { accounts, nodeInstances, instances: instances.length, pool };
    },
    instances: allInstances,
    /** Instances created since a moment: `POST /v2/instances` the emulator answered with a success. */
    creationsSince: async (since: Date) => (await journal.instanceCreations(since)).filter((r) => r.status < 300).length,
  };
}

// ───────────────────────────────────────────────────────────────────── one run of the suite

/** The runner while it runs, for this drill's own Ctrl+C. */
let runner: Spawned | undefined;

async function runSuite(env: NodeJS.ProcessEnv, runDir: string) {
  const reportFile = join(ROOT, 'test-results', 'results.json');
  // A report left by an earlier run must not stand in for this one's.
  rmSync(reportFile, { force: true });
  // The checkout is its cwd, as for `npx playwright test`: the secret scan and the run state look there.
  const log = join(runDir, 'runner.log');
  const result = await runPlaywright({ label: 'the runner', args: ['test', '--output', join(runDir, 'artifacts')], cwd: ROOT, env, log, timeoutMs: SUITE_TIMEOUT_MS, onSpawn: (s) => (runner = s) });
  runner = undefined;
  const written = existsSync(reportFile);
  if (written) copyFileSync(reportFile, join(runDir, 'results.json'));
  const read = readReportFile(reportFile, { exit: result.exit, log });
  const report = 'report' in read ? read.report : undefined;
  // Said beside the summary: what went wrong beyond the checks' reach (a report that does not parse, processes left behind).
  const problems = [written && 'problem' in read ? read.problem : undefined, result.timedOut ? undefined : result.problem];
  return { ...result, log, output: readFileSync(log, 'utf8'), outcomes: lastOutcomes(report), reported: report !== undefined, problems: problems.filter((p) => p !== undefined) };
}

/** The first failing test and every distinct failure message, as the drill reports them. */
function describeFailures(outcomes: Outcome[]): string[] {
  const failed = failedInOrder(outcomes);
  if (failed.length === 0) return ['no test failed'];
  const named = (o: Outcome) => `[${o.project}] ${o.title}`;
  const message = (o: Outcome) => o.message ?? '(no message)';
  const lines = [`first failing test: ${named(failed[0]!)}`, `  ${message(failed[0]!)}`];
  const seen = new Map<string, Outcome[]>();
  for (const f of failed) seen.set(message(f), [...(seen.get(message(f)) ?? []), f]);
  lines.push(`${failed.length} failing test(s), ${seen.size} distinct message(s):`);
  for (const [text, tests] of seen) lines.push(`  ${tests.length}× ${text}`, ...tests.map((t) => `      ${named(t)}`));
  const skipped = outcomes.filter((o) => o.status === 'skipped');
  if (skipped.length > 0) lines.push(`${skipped.length} skipped: ${skipped.map(named).join('; ')}`);
  return lines;
}

async function drillRun(kind: RunKind, label: string, env: NodeJS.ProcessEnv, runDir: string, probe: Probe, check: CheckFn): Promise<void> {
  const before = await probe.snapshot();
  const since = new Date();
  const startedAt = Date.now();
  say(`${label}: npx playwright test (suite accounts ${before.accounts}, suite NodeInstances ${before.nodeInstances}, Vultr instances ${before.instances})`);
  const result = await runSuite(env, runDir);
  const after = await probe.snapshot();
  const created = await probe.creationsSince(since);
  const counts = tally(result.outcomes);
  say(
    `${label}: runner ended in ${seconds(startedAt)} (${describeExit(result.exit)}${result.timedOut ? ', out of time' : ''}); ` +
      `${result.reported ? `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : 'no report written'}; ` +
      `suite accounts ${before.accounts} → ${after.accounts}, Vultr instances ${before.instances} → ${after.instances}, instance creations ${created}`,
  );
  for (const problem of result.problems) say(`${label}: ${problem}`);
  const c = (name: string, ok: boolean, detail?: string) => check(`${label}: ${name}`, ok, detail);
  const refusals = configRefusals(result.output);
  const exitCode = result.exit?.code;
  const poolUntouched = () => c('the shared platform-pool credential was not touched', after.pool.changedAt === before.pool.changedAt, `updated at ${before.pool.changedAt} → ${after.pool.changedAt}`);
  // Whatever the consent, the shared pool is on once the run is over.
  const poolOn = () => c('the shared platform-pool credential is on after the run', after.pool.active, 'it is off: re-enable it (Settings → Cloud Credentials)');
  const othersSkipped = () => result.outcomes.filter((o) => o.status === 'skipped' && !o.title.endsWith(ALWAYS_SKIPPED));

  for (const line of refusals) say(`${label}: printed  ${line}`);
  if (kind !== 'no-consent') for (const line of describeFailures(result.outcomes)) say(`${label}: ${line}`);
  // Without ALLOW_REAL_CLOUD the run must refuse; with it, it must pass.
  const refuses = kind === 'no-consent' || kind === 'remote-only';
  c(refuses ? 'exits non-zero' : 'exits 0', result.exit !== undefined && refuses === (exitCode !== 0), describeExit(result.exit));
  if (kind === 'no-consent') {
    c('the config refuses, naming ALLOW_REMOTE_TARGET', refusals.some((l) => l.includes('ALLOW_REMOTE_TARGET')), refusals.length ? refusals.join(' / ') : `no "config:" line; last output:\n${quoted(result.log, 8)}`);
    c('no test ran', !testsStarted(result.output) && !result.reported, result.reported ? `${result.outcomes.length} test result(s) reported` : 'the runner announced tests');
    c('no suite account was created', after.accounts === before.accounts, `${before.accounts} → ${after.accounts}`);
    c('no Vultr instance was created', after.instances === before.instances && created === 0, `${before.instances} → ${after.instances}, ${created} creation(s) in the emulator's journal`);
    poolUntouched();
  } else if (kind === 'remote-only') {
    // Counted at the emulator, not from what is left: the run's own rollback would destroy a VM it made.
    c('Vultr saw no instance creation', created === 0 && after.instances === before.instances, `${created} creation(s) in the emulator's journal; instances ${before.instances} → ${after.instances}`);
    const named = result.output.includes('ALLOW_REAL_CLOUD') || result.outcomes.some((o) => o.message?.includes('ALLOW_REAL_CLOUD'));
    c('the refusal names ALLOW_REAL_CLOUD', named, 'neither the runner output nor a failure message names it');
    // Pre-flight refuses before the first signup: nothing at all is created.
    c('no suite account was created (pre-flight refused first)', after.accounts === before.accounts, `${before.accounts} → ${after.accounts}`);
    poolUntouched();
  } else if (kind === 'no-shared-state') {
    const skipped = othersSkipped();
    c(
      'only the platform-pool test is skipped, and the report names ALLOW_SHARED_STATE_CHANGES',
      skipped.length === 1 && /platform pool disabled/.test(skipped[0]!.title) && (skipped[0]!.skipReason ?? '').includes('ALLOW_SHARED_STATE_CHANGES=1'),
      skipped.map((o) => `${o.title}: ${o.skipReason ?? 'no reason'}`).join(' / ') || 'nothing skipped',
    );
    poolUntouched();
    c('0 suite VMs remain', (await probe.instances()).length === 0);
  } else {
    c(
      'every test of a remote target passes, none skipped (but the own-stack check, which a remote target has no use for)',
      // Counted from the report, not a number kept here: the suite grows.
      result.reported && result.outcomes.length > 1 && counts.passed === result.outcomes.length - 1 && counts.failed === 0 && othersSkipped().length === 0,
      result.reported ? `${result.outcomes.length} tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : 'no report written',
    );
    c("the funnel's approvals reached Vultr", created > 0, `${created} instance creation(s) in the emulator's journal`);
    const left = await probe.instances();
    c('0 suite VMs remain', left.length === 0, left.map((i) => `${i.id} [${i.tags.join(' ')}]`).join(', '));
    c('0 suite NodeInstance rows remain', after.nodeInstances === 0, `${after.nodeInstances} left`);
  }
  poolOn();
  if (kind === 'full-consent' && exitCode !== 0) say(`${label}: last lines of the runner's output:\n${quoted(result.log, 25)}`);
}

// ───────────────────────────────────────────────────────────────────── main

/** The usage line and the flag, then this file's opening comment: what the drill proves and how. */
function usage(): string {
  const comment = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '');
  return `usage: npm run test:remote-drill [-- --keep]\n\n  --keep  keep the runners' output and reports (the stack is stopped and forgotten all the same)\n\n${comment.trimEnd()}`;
}

async function main(argv: string[]): Promise<number> {
  const parse = (args: string[]) => {
    const values = parseCommandLine(args, { keep: { type: 'boolean' } });
    return { keep: values.keep ?? false, help: values.help ?? false };
  };
  const start = startCli('remote-drill', argv, parse, usage(), ROOT);
  if ('exitCode' in start) return start.exitCode;
  const busy = await busyPorts(portList(PORTS));
  if (busy.length > 0) {
    process.stderr.write(`remote-drill: ports ${busy.join(', ')} are in use; the drill needs ${portList(PORTS).join(', ')} free\n`);
    return 1;
  }

  // This process probes the stack by the same names as the suite.
  installHostMap(parseHostMap(hostMapValue(names, LOOPBACK)));
  const documented = documentedVariables(readFileSync(join(ROOT, '.env.example'), 'utf8'));
  const workDir = mkdtempSync(join(tmpdir(), 'remote-drill-'));
  // Outside workDir: as root, Postgres runs as another user, who cannot enter a 0700 folder.
  const pgHome = mkdtempSync(join(tmpdir(), 'remote-drill-pg-'));
  const stackDir = join(workDir, 'stack');
  const inheritedNodeOptions = process.env.NODE_OPTIONS;

  const checks: Check[] = [];
  const check: CheckFn = (name, ok, detail) => {
    checks.push({ name, ok, detail });
    say(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? `: ${detail}` : ''}`);
    return ok;
  };

  let spawnedStack: Spawned | undefined;
  let stack: RunningStack | undefined;
  let pool: pg.Pool | undefined;
  const dispatcher = createDispatcher();
  let stopping: Promise<void> | undefined;
  const stopEverything = (): Promise<void> =>
    (stopping ??= (async () => {
      await pool?.end().catch(() => undefined);
      await dispatcher.close().catch(() => undefined);
      if (stack) await stopAndForget(stack, check);
      else if (spawnedStack) {
        // Interrupted while it started: it stops itself on SIGTERM, as on Ctrl+C.
        signal(spawnedStack.pid, 'SIGTERM');
        await exitedWithin(spawnedStack, STACK_STOP_TIMEOUT_MS);
      }
      const left = [...new Set([...processesMentioning(workDir), ...processesMentioning(pgHome)])];
      check('no process of the drill is left', left.length === 0, `pids ${left.join(', ')} (now killed)`);
      for (const pid of left) signal(pid, 'SIGKILL');
    })());

  // The runner and the stack each have a process group of their own, so Ctrl+C reaches neither:
  // the runner is told here, the stack by the same stop and forget as a finished drill.
  let interrupted = false;
  const interrupt = (name: NodeJS.Signals) => {
    interrupted = true;
    say(`${name}: stopping the runner and the stack`);
    const group = runner?.pid;
    if (group !== undefined) {
      signal(-group, 'SIGINT');
      setTimeout(() => signal(-group, 'SIGKILL'), RUNNER_INTERRUPT_GRACE_MS).unref();
    }
    void stopEverything().finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      rmSync(pgHome, { recursive: true, force: true });
      process.stdout.write(`${verdictLine([...checks, { name: `interrupted by ${name}`, ok: false }], (Date.now() - began) / 1000)}\n`);
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    const known = await namesKnownOutside(names, ROOT);
    check(`the names resolve only inside the drill (${names.join(', ')})`, known.length === 0, `this system already resolves ${known.join(', ')}`);
    say(`starting a fresh reference stack as ${addresses().BASE_URL} (ports ${portList(PORTS).join(', ')}, all on ${LOOPBACK}; STACK_DIR ${stackDir})`);
    const stackStarted = Date.now();
    const env = documentedBlank(process.env, documented, stackValues(stackDir, pgHome, inheritedNodeOptions));
    stack = await startStack({ ports: PORTS, dir: stackDir, log: `${stackDir}.out.log`, env, fresh: true, timeoutMs: STACK_START_TIMEOUT_MS, onSpawn: (s) => (spawnedStack = s) });
    say(`stack up in ${seconds(stackStarted)}`);
    pool = new pg.Pool({ connectionString: addresses().DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const probe = probes(pool, dispatcher);
    for (const [index, { kind, label, consent }] of RUNS.entries()) {
      const runId = `drill${index + 1}${Date.now().toString(36)}`;
      const changes = documentedBlank(process.env, documented, suiteValues(stackDir, consent, runId, inheritedNodeOptions));
      await drillRun(kind, label, suiteEnv(process.env, PORTS, stackDir, changes), join(workDir, `run${index + 1}`), probe, check);
    }
  } catch (error) {
    if (!interrupted) check('the drill ran to the end', false, (error as Error).message);
  }
  // The interrupt handler stops, tidies and exits; what a run saw after it is noise.
  if (interrupted) await new Promise<never>(() => undefined);
  await stopEverything();
  const failed = checks.some((c) => !c.ok);
  if (failed || start.options.keep) say(`kept the runners' output and reports: ${workDir} (remove it when done)`);
  else rmSync(workDir, { recursive: true, force: true });
  rmSync(pgHome, { recursive: true, force: true });
  process.stdout.write(`${verdictLine(checks, (Date.now() - began) / 1000)}\n`);
  return failed ? 1 : 0;
}

runWhenInvoked('remote-drill', import.meta.url, main);
