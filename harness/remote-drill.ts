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
 * Its own ports (4801-4804, Postgres 54801), its own STACK_DIR and Postgres home in a temporary
 * folder; Ctrl+C stops the runner and the stack. Prints one ok/FAIL line per check and a final
 * "remote-drill: PASS/FAIL" line; exits 0 only when every check held.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { anyRunEmailPattern } from '../helpers/run/identity-emails';
import { HOST_MAP_VARIABLE, installHostMap, parseHostMap } from './lib/host-map.mjs';
import { PREFLIGHT } from '../tests/steps';
import { processesMentioning } from './lib/proc';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_DIR = join(ROOT, 'reference');
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');
const HOST_MAP_PRELOAD = join(ROOT, 'harness', 'lib', 'host-map.mjs');

/** This drill's own ports: never the default stack's (3100-3103, 54329) nor another harness's. */
export const PORTS = { base: 4801, vultr: 4802, stripe: 4803, worker: 4804, postgres: 54801 } as const;

/** Reserved names (RFC 6761 .test): nothing outside the drill resolves them. */
export const NAMES = {
  base: 'dev.powernode.test',
  vultr: 'vultr.powernode.test',
  stripe: 'stripe.powernode.test',
  worker: 'worker.powernode.test',
  postgres: 'db.powernode.test',
} as const;

const LOOPBACK = '127.0.0.1';
const DOMAIN = 'e2e.powernode.test';
const VULTR_API_KEY = 'vk_test_platform_pool';
/** What run 3 must report: every test of the suite, pre-flight and teardown included. */
export const SUITE_TESTS = 22;
/** Skipped in every run of the drill: with START_STACK=never the suite neither starts nor reuses a stack. */
const ALWAYS_SKIPPED = PREFLIGHT.ownStack;

const STACK_START_TIMEOUT_MS = 180_000;
const STACK_STOP_TIMEOUT_MS = 40_000;
const SUITE_TIMEOUT_MS = 15 * 60_000;
const RUNNER_INTERRUPT_GRACE_MS = 15_000;

// ───────────────────────────────────────────────────────────────────── what the runs are given

/** E2E_HOST_MAP: every name to 127.0.0.1. */
export function hostMapValue(): string {
  return Object.values(NAMES)
    .map((name) => `${name}=${LOOPBACK}`)
    .join(',');
}

/** CHROMIUM_ARGS: the browser's side of the same map (its resolver is its own, not Node's). */
export function chromiumArgsValue(): string {
  const rules = Object.values(NAMES)
    .map((name) => `MAP ${name} ${LOOPBACK}`)
    .join(',');
  return `--host-resolver-rules="${rules}"`;
}

/** NODE_OPTIONS with the host-map preload after what the caller had; a file URL needs no quoting. */
export function nodeOptionsValue(inherited: string | undefined, preload: string = HOST_MAP_PRELOAD): string {
  return [inherited?.trim(), `--import ${pathToFileURL(preload).href}`].filter(Boolean).join(' ');
}

export function addresses(): { BASE_URL: string; VULTR_API_URL: string; STRIPE_API_BASE: string; WORKER_HEALTH_URL: string; DATABASE_URL: string } {
  return {
    BASE_URL: `http://${NAMES.base}:${PORTS.base}`,
    VULTR_API_URL: `http://${NAMES.vultr}:${PORTS.vultr}/v2`,
    STRIPE_API_BASE: `http://${NAMES.stripe}:${PORTS.stripe}`,
    WORKER_HEALTH_URL: `http://${NAMES.worker}:${PORTS.worker}/health`,
    DATABASE_URL: `postgres://m1:m1@${NAMES.postgres}:${PORTS.postgres}/m1_reference`,
  };
}

/** Every variable `.env.example` documents (the suite's and the stack's). */
export function documentedVariables(envExample: string): string[] {
  return [...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

/**
 * The caller's environment with every documented variable blanked, then `values`. Blank, not
 * removed: dotenv never overrides a variable that is set, so a `.env` in the checkout cannot give
 * consent, move an address or name another database behind the drill's back; and both the suite
 * and the stack read an empty value as unset.
 */
export function isolatedEnv(base: NodeJS.ProcessEnv, documented: readonly string[], values: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of Object.keys(env)) if (name.startsWith('PLAYWRIGHT_') || name.startsWith('npm_')) delete env[name];
  for (const name of [...documented, 'STACK_FAULTS', 'VULTR_FAULTS']) env[name] = '';
  // The suite's run id: unset, not blank (playwright.config.ts fills in only a missing one).
  delete env.E2E_RUN_ID;
  return { ...env, ...values };
}

/** The stack's variables: it knows itself by the reserved names; its embedded Postgres has its own port and home. */
export function stackValues(stackDir: string, pgHome: string, inheritedNodeOptions: string | undefined): Record<string, string> {
  const { BASE_URL, VULTR_API_URL, STRIPE_API_BASE, WORKER_HEALTH_URL } = addresses();
  return {
    BASE_URL,
    VULTR_API_URL,
    STRIPE_API_BASE,
    WORKER_HEALTH_URL,
    STACK_DIR: stackDir,
    STACK_PG_PORT: String(PORTS.postgres),
    // Its own Postgres home: `--forget` then removes the drill's clusters, never the checkout's others.
    STACK_PG_HOME: pgHome,
    VULTR_API_KEY,
    [HOST_MAP_VARIABLE]: hostMapValue(),
    NODE_OPTIONS: nodeOptionsValue(inheritedNodeOptions),
  };
}

export type Consent = { ALLOW_REMOTE_TARGET: boolean; ALLOW_REAL_CLOUD: boolean; ALLOW_SHARED_STATE_CHANGES: boolean };

/** The suite's variables for one run: the stack by its names, consent exactly as given (0 or 1, never left to `.env`). */
export function suiteValues(stackDir: string, consent: Consent, runId: string, inheritedNodeOptions: string | undefined): Record<string, string> {
  return {
    ...addresses(),
    VULTR_API_KEY,
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
    E2E_EMAIL_DOMAIN: DOMAIN,
    E2E_RUN_ID: runId,
    ALLOW_REMOTE_TARGET: consent.ALLOW_REMOTE_TARGET ? '1' : '0',
    ALLOW_REAL_CLOUD: consent.ALLOW_REAL_CLOUD ? '1' : '0',
    ALLOW_SHARED_STATE_CHANGES: consent.ALLOW_SHARED_STATE_CHANGES ? '1' : '0',
    [HOST_MAP_VARIABLE]: hostMapValue(),
    NODE_OPTIONS: nodeOptionsValue(inheritedNodeOptions),
    CHROMIUM_ARGS: chromiumArgsValue(),
    FORCE_COLOR: '0',
  };
}

export type RunKind = 'no-consent' | 'remote-only' | 'no-shared-state' | 'full-consent';

export const RUNS: readonly { kind: RunKind; label: string; consent: Consent }[] = [
  { kind: 'no-consent', label: 'run 1 (no consent)', consent: { ALLOW_REMOTE_TARGET: false, ALLOW_REAL_CLOUD: false, ALLOW_SHARED_STATE_CHANGES: false } },
  { kind: 'remote-only', label: 'run 2 (ALLOW_REMOTE_TARGET=1 only)', consent: { ALLOW_REMOTE_TARGET: true, ALLOW_REAL_CLOUD: false, ALLOW_SHARED_STATE_CHANGES: false } },
  { kind: 'no-shared-state', label: 'run 3 (no ALLOW_SHARED_STATE_CHANGES)', consent: { ALLOW_REMOTE_TARGET: true, ALLOW_REAL_CLOUD: true, ALLOW_SHARED_STATE_CHANGES: false } },
  { kind: 'full-consent', label: 'run 4 (all consent)', consent: { ALLOW_REMOTE_TARGET: true, ALLOW_REAL_CLOUD: true, ALLOW_SHARED_STATE_CHANGES: true } },
];

// ───────────────────────────────────────────────────────────────────── reading what a run said

export type TestOutcome = { title: string; project: string; status: string; message: string | undefined; skipReason?: string; startTime: string; duration: number };

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

function firstLine(text: string | undefined): string | undefined {
  return text?.replace(ANSI, '').trim().split('\n')[0]?.trim() || undefined;
}

type ReportSuite = { title?: string; specs?: ReportSpec[]; suites?: ReportSuite[] };
type ReportSpec = { title?: string; tests?: { projectName?: string; annotations?: { type?: string; description?: string }[]; results?: { status?: string; startTime?: string; duration?: number; error?: { message?: string }; errors?: { message?: string }[] }[] }[] };

/** Every test's last result in a Playwright JSON report, with its title path and first error line. */
export function outcomesOf(report: unknown): TestOutcome[] {
  const outcomes: TestOutcome[] = [];
  const walk = (suite: ReportSuite, path: string[]) => {
    const here = suite.title ? [...path, suite.title] : path;
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests ?? []) {
        const result = test.results?.at(-1);
        if (!result) continue;
        outcomes.push({
          title: [...here, spec.title ?? ''].join(' › '),
          project: test.projectName ?? '',
          status: result.status ?? 'unknown',
          message: firstLine(result.error?.message ?? result.errors?.[0]?.message),
          skipReason: test.annotations?.find((a) => a.type === 'skip')?.description,
          startTime: result.startTime ?? '',
          duration: result.duration ?? 0,
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, here);
  };
  for (const suite of (report as { suites?: ReportSuite[] } | null)?.suites ?? []) walk(suite, []);
  return outcomes;
}

/** The failed tests in the order the runner reported them: by the moment each ended. */
export function failures(outcomes: TestOutcome[]): TestOutcome[] {
  const end = (o: TestOutcome) => (Date.parse(o.startTime) || 0) + o.duration;
  return outcomes.filter((o) => o.status === 'failed' || o.status === 'timedOut' || o.status === 'interrupted').sort((a, b) => end(a) - end(b));
}

export type Tally = { passed: number; failed: number; skipped: number };

export function tally(outcomes: TestOutcome[]): Tally {
  return {
    passed: outcomes.filter((o) => o.status === 'passed').length,
    failed: failures(outcomes).length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
  };
}

/** The config's refusal lines (playwright.config.ts prints one `config: ` line per problem). */
export function configRefusals(output: string): string[] {
  return output
    .replace(ANSI, '')
    .split('\n')
    .filter((line) => line.startsWith('config: '));
}

/** True once the runner has started tests (the list reporter announces how many). */
export function testsStarted(output: string): boolean {
  return /^Running \d+ tests? using/m.test(output.replace(ANSI, ''));
}

export type Check = { name: string; ok: boolean; detail?: string };

export function verdictLine(checks: Check[], seconds: number): string {
  const failed = checks.filter((c) => !c.ok);
  const time = `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  if (failed.length === 0 && checks.length > 0) return `remote-drill: PASS — all ${checks.length} checks held (${time})`;
  return `remote-drill: FAIL — ${failed.length} of ${checks.length} checks did not hold: ${failed.map((c) => c.name).join('; ') || 'no check ran'} (${time})`;
}

// ───────────────────────────────────────────────────────────────────── processes

const began = Date.now();

function say(line: string): void {
  process.stdout.write(`remote-drill: ${line}\n`);
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Exit = { code: number | null; signal: NodeJS.Signals | null };
type Spawned = { child: ChildProcess; exited: Promise<Exit>; exit?: Exit; log: string };

function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string; detached: boolean }): Spawned {
  mkdirSync(dirname(options.log), { recursive: true });
  const fd = openSync(options.log, 'a');
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: options.detached, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawned: Spawned = { child, log: options.log, exited: Promise.resolve({ code: null, signal: null }) };
  spawned.exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => resolveExit((spawned.exit = { code, signal })));
    child.once('error', () => resolveExit((spawned.exit = { code: 127, signal: null })));
  });
  return spawned;
}

/** Runs to completion with its output captured; killed when out of time. */
function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exit & { output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output });
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolveRun({ code: 127, signal: null, output: `${output}${error.message}\n` });
    });
  });
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function describeExit(exit: Exit | undefined): string {
  if (!exit) return 'still running';
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').replace(ANSI, '').trimEnd().split('\n').slice(-lines).map((l) => `    | ${l}`).join('\n');
  } catch {
    return `    | (no ${file})`;
  }
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect({ host: LOOPBACK, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolvePort(true)));
    socket.once('timeout', () => (socket.destroy(), resolvePort(false)));
    socket.once('error', () => resolvePort(false));
  });
}

async function busyPorts(): Promise<number[]> {
  const ports = Object.values(PORTS);
  const inUse = await Promise.all(ports.map(portInUse));
  return ports.filter((_, i) => inUse[i]);
}


function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}

/** The names this system's own resolver knows (none, unless /etc/hosts or DNS were changed): asked of a Node process without the map. */
async function namesKnownOutside(): Promise<string[]> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env[HOST_MAP_VARIABLE];
  const script = `const dns = require('node:dns'); const names = ${JSON.stringify(Object.values(NAMES))};
Promise.all(names.map((n) => dns.promises.lookup(n).then(() => n, () => null))).then((r) => console.log(JSON.stringify(r.filter(Boolean))));`;
  const result = await run(process.execPath, ['-e', script], ROOT, env, 30_000);
  try {
    return JSON.parse(result.output.trim()) as string[];
  } catch {
    return [`(could not ask: ${result.output.trim() || describeExit(result)})`];
  }
}

// ───────────────────────────────────────────────────────────────────── the stack

type Stack = { dir: string; env: NodeJS.ProcessEnv; process: Spawned };

async function startStack(dir: string, env: NodeJS.ProcessEnv): Promise<Stack> {
  // The command `npm run stack` runs, started directly: its parent is then this drill, and the
  // stack stops itself when its parent goes, so even a drill killed with SIGKILL leaves none.
  const stack = start(process.execPath, ['--import', 'tsx', 'stack/main.ts', '--fresh'], { cwd: REFERENCE_DIR, env, log: `${dir}.out.log`, detached: false });
  const deadline = Date.now() + STACK_START_TIMEOUT_MS;
  const up = `${addresses().BASE_URL}/up`;
  while (Date.now() < deadline && !stack.exit) {
    try {
      if ((await fetch(up, { signal: AbortSignal.timeout(2_000) })).ok) return { dir, env, process: stack };
    } catch {
      // Not up yet.
    }
    await sleep(500);
  }
  if (!stack.exit) stack.child.kill('SIGTERM');
  await within(stack.exited, 20_000);
  throw new Error(`the reference stack did not answer ${up} (${describeExit(stack.exit)}); last lines of its output:\n${tail(stack.log, 20)}`);
}

async function stopStack(stack: Stack, check: (name: string, ok: boolean, detail?: string) => boolean): Promise<void> {
  const stop = await run('npm', ['run', '--silent', 'stack', '--', '--stop'], ROOT, stack.env, STACK_STOP_TIMEOUT_MS);
  check('`npm run stack -- --stop` succeeds', stop.code === 0, stop.code === 0 ? undefined : `${describeExit(stop)}: ${stop.output.trim()}`);
  const exited = await within(stack.process.exited, STACK_STOP_TIMEOUT_MS);
  if (!exited) stack.process.child.kill('SIGKILL');
  check('the stack process exited', exited !== undefined, exited ? undefined : `pid ${stack.process.child.pid} (now killed)`);
  const forget = await run('npm', ['run', '--silent', 'stack', '--', '--forget'], ROOT, stack.env, STACK_STOP_TIMEOUT_MS);
  check('`npm run stack -- --forget` succeeds', forget.code === 0, forget.code === 0 ? undefined : `${describeExit(forget)}: ${forget.output.trim()}`);
  let busy = await busyPorts();
  for (let i = 0; i < 50 && busy.length > 0; i++) {
    await sleep(200);
    busy = await busyPorts();
  }
  check(`ports ${Object.values(PORTS).join(', ')} are free`, busy.length === 0, busy.length ? `still listening: ${busy.join(', ')}` : undefined);
}

// ───────────────────────────────────────────────────────────────────── what the stack holds

type Probe = ReturnType<typeof probes>;

function probes(pool: pg.Pool) {
  const { VULTR_API_URL } = addresses();
  const vultrOrigin = new URL(VULTR_API_URL).origin;
  const suitePattern = anyRunEmailPattern(DOMAIN);
  const count = async (sql: string) => (await pool.query<{ n: number }>(sql, [suitePattern])).rows[0]!.n;
  return {
    /** Suite accounts: those of a user with a suite e-mail. */
    suiteAccounts: () => count('SELECT count(DISTINCT a.id)::int AS n FROM accounts a JOIN users u ON u.account_id = a.id WHERE u.email LIKE $1'),
    suiteNodeInstances: () => count('SELECT count(*)::int AS n FROM system_node_instances n JOIN users u ON u.account_id = n.account_id WHERE u.email LIKE $1'),
    /** The shared platform-pool credentials (scope 1, no account): whether all are on, and when one last changed. */
    async platformPool(): Promise<{ active: boolean; changedAt: string }> {
      const { rows } = await pool.query<{ active: boolean; changed_at: string }>(
        `SELECT coalesce(bool_and(is_active), false) AS active, coalesce(max(updated_at)::text, '') AS changed_at
           FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL`,
      );
      return { active: rows[0]!.active, changedAt: rows[0]!.changed_at };
    },
    /** Every instance the emulator holds: the stack is the drill's own, so each came from a suite run. */
    async instances(): Promise<{ id: string; tags: string[] }[]> {
      const response = await fetch(`${VULTR_API_URL}/instances?per_page=500`, { headers: { authorization: `Bearer ${VULTR_API_KEY}` }, signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) throw new Error(`GET ${VULTR_API_URL}/instances answered ${response.status}`);
      return ((await response.json()) as { instances: { id: string; tags?: string[] }[] }).instances.map((i) => ({ id: i.id, tags: i.tags ?? [] }));
    },
    /** `POST /v2/instances` the emulator answered with a success since a moment: instances created. */
    async creationsSince(since: Date): Promise<number> {
      const query = new URLSearchParams({ method: 'POST', path_prefix: '/v2/instances', since: since.toISOString() });
      const response = await fetch(`${vultrOrigin}/__emulator/requests?${query.toString()}`, { signal: AbortSignal.timeout(10_000) });
      if (response.status !== 200) throw new Error(`the Vultr emulator's journal answered ${response.status}`);
      const { requests } = (await response.json()) as { requests: { path: string; status: number }[] };
      return requests.filter((r) => /^\/v2\/instances\/?(\?.*)?$/.test(r.path) && r.status < 300).length;
    },
  };
}

type Snapshot = { accounts: number; nodeInstances: number; instances: number; pool: { active: boolean; changedAt: string } };

async function snapshot(probe: Probe): Promise<Snapshot> {
  const [accounts, nodeInstances, instances, pool] = await Promise.all([probe.suiteAccounts(), probe.suiteNodeInstances(), probe.instances(), probe.platformPool()]);
  return { accounts, nodeInstances, instances: instances.length, pool };
}

// ───────────────────────────────────────────────────────────────────── one run of the suite

/** The runner's process group while it runs, for this drill's own Ctrl+C. */
let runnerGroup: number | undefined;

type SuiteRun = { exit: Exit; output: string; outcomes: TestOutcome[]; reported: boolean; timedOut: boolean };

async function runSuite(env: NodeJS.ProcessEnv, runDir: string): Promise<SuiteRun> {
  const reportFile = join(ROOT, 'test-results', 'results.json');
  // A report left by an earlier run must not stand in for this one's.
  rmSync(reportFile, { force: true });
  // Its own process group, so its workers and browsers can be ended together. The checkout is its
  // cwd, as for `npx playwright test`: the secret scan and the run state look there.
  const runner = start(process.execPath, [PLAYWRIGHT_CLI, 'test', '--output', join(runDir, 'artifacts')], { cwd: ROOT, env, log: join(runDir, 'runner.log'), detached: true });
  runnerGroup = runner.child.pid;
  let exit = await within(runner.exited, SUITE_TIMEOUT_MS);
  const timedOut = exit === undefined;
  if (timedOut && runnerGroup !== undefined) {
    killGroup(runnerGroup, 'SIGKILL');
    exit = await runner.exited;
  }
  runnerGroup = undefined;
  const output = readFileSync(runner.log, 'utf8');
  let report: unknown = null;
  if (existsSync(reportFile)) {
    report = JSON.parse(readFileSync(reportFile, 'utf8')) as unknown;
    copyFileSync(reportFile, join(runDir, 'results.json'));
  }
  return { exit: exit!, output, outcomes: outcomesOf(report), reported: report !== null, timedOut };
}

/** The first failing test and every distinct failure message, as the drill reports them. */
function describeFailures(outcomes: TestOutcome[]): string[] {
  const failed = failures(outcomes);
  if (failed.length === 0) return ['no test failed'];
  const first = failed[0]!;
  const lines = [`first failing test: [${first.project}] ${first.title}`, `  ${first.message ?? '(no message)'}`];
  const seen = new Map<string, string[]>();
  for (const f of failed) {
    const message = f.message ?? '(no message)';
    seen.set(message, [...(seen.get(message) ?? []), `[${f.project}] ${f.title}`]);
  }
  lines.push(`${failed.length} failing test(s), ${seen.size} distinct message(s):`);
  for (const [message, tests] of seen) lines.push(`  ${tests.length}× ${message}`, ...tests.map((t) => `      ${t}`));
  const skipped = outcomes.filter((o) => o.status === 'skipped');
  if (skipped.length > 0) lines.push(`${skipped.length} skipped: ${skipped.map((s) => `[${s.project}] ${s.title}`).join('; ')}`);
  return lines;
}

async function drillRun(
  kind: RunKind,
  label: string,
  env: NodeJS.ProcessEnv,
  runDir: string,
  probe: Probe,
  check: (name: string, ok: boolean, detail?: string) => boolean,
): Promise<void> {
  const before = await snapshot(probe);
  const since = new Date();
  const startedAt = Date.now();
  say(`${label}: npx playwright test (suite accounts ${before.accounts}, suite NodeInstances ${before.nodeInstances}, Vultr instances ${before.instances})`);
  const result = await runSuite(env, runDir);
  const after = await snapshot(probe);
  const created = await probe.creationsSince(since);
  const counts = tally(result.outcomes);
  say(
    `${label}: runner ended in ${seconds(startedAt)} (${describeExit(result.exit)}${result.timedOut ? ', out of time' : ''}); ` +
      `${result.reported ? `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : 'no report written'}; ` +
      `suite accounts ${before.accounts} → ${after.accounts}, Vultr instances ${before.instances} → ${after.instances}, instance creations ${created}`,
  );
  const c = (name: string, ok: boolean, detail?: string) => check(`${label}: ${name}`, ok, detail);
  const refusals = configRefusals(result.output);
  const poolTouched = after.pool.changedAt !== before.pool.changedAt;
  // Whatever the consent, the shared pool is on once the run is over.
  const poolOn = () => c('the shared platform-pool credential is on after the run', after.pool.active, 'it is off: re-enable it (Settings → Cloud Credentials)');

  if (kind === 'no-consent') {
    for (const line of refusals) say(`${label}: printed  ${line}`);
    c('exits non-zero', result.exit.code !== 0, describeExit(result.exit));
    c('the config refuses, naming ALLOW_REMOTE_TARGET', refusals.some((l) => l.includes('ALLOW_REMOTE_TARGET')), refusals.length ? refusals.join(' / ') : `no "config:" line; last output:\n${tail(join(runDir, 'runner.log'), 8)}`);
    c('no test ran', !testsStarted(result.output) && !result.reported, result.reported ? `${result.outcomes.length} test result(s) reported` : 'the runner announced tests');
    c('no suite account was created', after.accounts === before.accounts, `${before.accounts} → ${after.accounts}`);
    c('no Vultr instance was created', after.instances === before.instances && created === 0, `${before.instances} → ${after.instances}, ${created} creation(s) in the emulator's journal`);
    c('the shared platform-pool credential was not touched', !poolTouched, `updated at ${before.pool.changedAt} → ${after.pool.changedAt}`);
    poolOn();
    return;
  }

  for (const line of refusals) say(`${label}: printed  ${line}`);
  for (const line of describeFailures(result.outcomes)) say(`${label}: ${line}`);

  if (kind === 'remote-only') {
    c('exits non-zero', result.exit.code !== 0, describeExit(result.exit));
    // Counted at the emulator, not from what is left: the run's own rollback would destroy a VM it made.
    c('Vultr saw no instance creation', created === 0 && after.instances === before.instances, `${created} creation(s) in the emulator's journal; instances ${before.instances} → ${after.instances}`);
    const named = result.output.includes('ALLOW_REAL_CLOUD') || result.outcomes.some((o) => o.message?.includes('ALLOW_REAL_CLOUD'));
    c('the refusal names ALLOW_REAL_CLOUD', named, 'neither the runner output nor a failure message names it');
    // Pre-flight refuses before the first signup: nothing at all is created.
    c('no suite account was created (pre-flight refused first)', after.accounts === before.accounts, `${before.accounts} → ${after.accounts}`);
    c('the shared platform-pool credential was not touched', !poolTouched, `updated at ${before.pool.changedAt} → ${after.pool.changedAt}`);
    poolOn();
    return;
  }

  if (kind === 'no-shared-state') {
    c('exits 0', result.exit.code === 0, describeExit(result.exit));
    const skipped = result.outcomes.filter((o) => o.status === 'skipped' && !o.title.endsWith(ALWAYS_SKIPPED));
    c(
      'only the platform-pool test is skipped, and the report names ALLOW_SHARED_STATE_CHANGES',
      skipped.length === 1 && /platform pool disabled/.test(skipped[0]!.title) && (skipped[0]!.skipReason ?? '').includes('ALLOW_SHARED_STATE_CHANGES=1'),
      skipped.map((o) => `${o.title}: ${o.skipReason ?? 'no reason'}`).join(' / ') || 'nothing skipped',
    );
    c('the shared platform-pool credential was not touched', !poolTouched, `updated at ${before.pool.changedAt} → ${after.pool.changedAt}`);
    c('0 suite VMs remain', (await probe.instances()).length === 0);
    poolOn();
    return;
  }

  c('exits 0', result.exit.code === 0, describeExit(result.exit));
  const skippedOthers = result.outcomes.filter((o) => o.status === 'skipped' && !o.title.endsWith(ALWAYS_SKIPPED));
  c(
    `all ${SUITE_TESTS - 1} tests of a remote target pass, none skipped (but the own-stack check, which a remote target has no use for)`,
    result.reported && counts.passed === SUITE_TESTS - 1 && counts.failed === 0 && skippedOthers.length === 0 && result.outcomes.length === SUITE_TESTS,
    result.reported ? `${result.outcomes.length} tests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped` : 'no report written',
  );
  c("the funnel's approvals reached Vultr", created > 0, `${created} instance creation(s) in the emulator's journal`);
  const left = await probe.instances();
  c('0 suite VMs remain', left.length === 0, left.map((i) => `${i.id} [${i.tags.join(' ')}]`).join(', '));
  c('0 suite NodeInstance rows remain', after.nodeInstances === 0, `${after.nodeInstances} left`);
  poolOn();
  if (result.exit.code !== 0) say(`${label}: last lines of the runner's output:\n${tail(join(runDir, 'runner.log'), 25)}`);
}

// ───────────────────────────────────────────────────────────────────── main

async function main(): Promise<number> {
  if (process.argv.slice(2).some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(`usage: npm run test:remote-drill [-- --keep]\n\n  --keep  keep the runners' output and reports (the stack is stopped and forgotten all the same)\n\n${readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]!.replace(/^\/\*\*\n?/, '').replace(/^ \* ?/gm, '')}\n`);
    return 0;
  }
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const unknown = args.filter((a) => a !== '--keep');
  if (unknown.length > 0) {
    process.stderr.write(`remote-drill: unknown argument ${unknown.join(' ')}; the only one is --keep (keep the runners' output and reports)\n`);
    return 2;
  }
  const busy = await busyPorts();
  if (busy.length > 0) {
    process.stderr.write(`remote-drill: ports ${busy.join(', ')} are in use; the drill needs ${Object.values(PORTS).join(', ')} free\n`);
    return 1;
  }

  // This process probes the stack by the same names as the suite.
  installHostMap(parseHostMap(hostMapValue()));
  const documented = documentedVariables(readFileSync(join(ROOT, '.env.example'), 'utf8'));
  const workDir = mkdtempSync(join(tmpdir(), 'remote-drill-'));
  // Outside workDir: as root, Postgres runs as another user, who cannot enter a 0700 folder.
  const pgHome = mkdtempSync(join(tmpdir(), 'remote-drill-pg-'));
  const stackDir = join(workDir, 'stack');
  const inheritedNodeOptions = process.env.NODE_OPTIONS;
  const stackEnv = isolatedEnv(process.env, documented, stackValues(stackDir, pgHome, inheritedNodeOptions));

  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, ok, detail });
    say(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? `: ${detail}` : ''}`);
    return ok;
  };

  let stack: Stack | undefined;
  let pool: pg.Pool | undefined;
  let stopping: Promise<void> | undefined;
  const stopEverything = (): Promise<void> =>
    (stopping ??= (async () => {
      await pool?.end().catch(() => undefined);
      if (stack) await stopStack(stack, check);
      const left = [...new Set([...processesMentioning(workDir), ...processesMentioning(pgHome)])];
      check('no process of the drill is left', left.length === 0, `pids ${left.join(', ')} (now killed)`);
      for (const pid of left) process.kill(pid, 'SIGKILL');
    })());

  // Ctrl+C reaches the stack too (same process group) and it stops itself; the runner has a group
  // of its own, so it is told here. Then the same stop and forget as a finished drill.
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    interrupted = true;
    say(`${signal}: stopping the runner and the stack`);
    const group = runnerGroup;
    if (group !== undefined) {
      killGroup(group, 'SIGINT');
      setTimeout(() => killGroup(group, 'SIGKILL'), RUNNER_INTERRUPT_GRACE_MS).unref();
    }
    void stopEverything().finally(() => {
      rmSync(workDir, { recursive: true, force: true });
      rmSync(pgHome, { recursive: true, force: true });
      process.stdout.write(`${verdictLine([...checks, { name: `interrupted by ${signal}`, ok: false }], (Date.now() - began) / 1000)}\n`);
      process.exit(130);
    });
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);

  try {
    const known = await namesKnownOutside();
    check(`the names resolve only inside the drill (${Object.values(NAMES).join(', ')})`, known.length === 0, `this system already resolves ${known.join(', ')}`);
    say(`starting a fresh reference stack as ${addresses().BASE_URL} (ports ${Object.values(PORTS).join(', ')}, all on ${LOOPBACK}; STACK_DIR ${stackDir})`);
    const stackStarted = Date.now();
    stack = await startStack(stackDir, stackEnv);
    say(`stack up in ${seconds(stackStarted)}`);
    pool = new pg.Pool({ connectionString: addresses().DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const probe = probes(pool);
    for (const [index, { kind, label, consent }] of RUNS.entries()) {
      const runId = `drill${index + 1}${Date.now().toString(36)}`;
      const runDir = join(workDir, `run${index + 1}`);
      const env = isolatedEnv(process.env, documented, suiteValues(stackDir, consent, runId, inheritedNodeOptions));
      await drillRun(kind, label, env, runDir, probe, check);
    }
  } catch (error) {
    if (!interrupted) check('the drill ran to the end', false, (error as Error).message);
  }
  // The interrupt handler stops, tidies and exits; what a run saw after it is noise.
  if (interrupted) await new Promise<never>(() => undefined);
  await stopEverything();
  const failed = checks.some((c) => !c.ok);
  if (failed || keep) say(`kept the runners' output and reports: ${workDir} (remove it when done)`);
  else rmSync(workDir, { recursive: true, force: true });
  rmSync(pgHome, { recursive: true, force: true });
  process.stdout.write(`${verdictLine(checks, (Date.now() - began) / 1000)}\n`);
  return failed ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`remote-drill: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
