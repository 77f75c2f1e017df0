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
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { busyPorts } from '@m1/reference/probe';
import { runWhenInvoked } from './lib/cli';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { anyRunEmailPattern, runEmailPattern } from '../helpers/identity';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_DIR = join(ROOT, 'reference');
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

/** This script's own ports: never the real stack's (3100-3103, 54329) nor another script's. */
export const PORTS = { base: 4221, vultr: 4222, stripe: 4223, worker: 4224, postgres: 4225 } as const;

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

// ───────────────────────────────────────────────────────────────────── flags

export type Scenario = 'sigint' | 'sigkill';
export const SCENARIOS: readonly Scenario[] = ['sigint', 'sigkill'];

export type Options = { scenarios: Scenario[]; keepStack: boolean; help: boolean };

export const USAGE = `usage: npx tsx harness/interrupted-run.ts [--scenario=sigint|sigkill|both] [--keep-stack] [--help]

Starts a fresh reference stack (ports ${PORTS.base}-${PORTS.postgres}, state in a directory under ${tmpdir()}), runs the
funnel project and kills the runner mid-provisioning, then checks that
\`npm run rollback -- --older-than 0m\` leaves no suite instance at the Vultr emulator and no suite
NodeInstance or usage record, and that a second rollback finds nothing to do.

  --scenario=NAME  sigint (Ctrl+C to the runner's process group), sigkill (kill -9 of the group
                   once the Vultr instance exists) or both (default)
  --keep-stack     leave the stack up afterwards and keep its directory and the runners' output;
                   the script then waits in the foreground until Ctrl+C
  --help           this text`;

export function parseArgs(argv: string[]): { ok: true; options: Options } | { ok: false; message: string } {
  let scenario: string | undefined;
  let keepStack = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { ok: true, options: { scenarios: [...SCENARIOS], keepStack, help: true } };
    if (arg === '--keep-stack') keepStack = true;
    else if (arg.startsWith('--keep-stack=')) return { ok: false, message: '--keep-stack takes no value' };
    else if (arg === '--scenario' || arg.startsWith('--scenario=')) {
      const inline = arg.startsWith('--scenario=');
      const value = inline ? arg.slice('--scenario='.length) : argv[i + 1];
      if (!inline) i++;
      if (value === undefined || value === '' || value.startsWith('--')) return { ok: false, message: '--scenario needs a value: sigint, sigkill or both' };
      if (scenario !== undefined) return { ok: false, message: '--scenario given twice' };
      scenario = value;
    } else return { ok: false, message: `unknown argument "${arg}"` };
  }
  const scenarios = scenario === undefined || scenario === 'both' ? [...SCENARIOS] : SCENARIOS.filter((s) => s === scenario);
  if (scenarios.length === 0) return { ok: false, message: `--scenario expects sigint, sigkill or both; got "${scenario}"` };
  return { ok: true, options: { scenarios, keepStack, help: false } };
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

export type RollbackSummary = { accounts: number; cloudOutcomes: string[]; nodeInstances: number; usageRecords: number };

/** Reads what `npm run rollback` printed (helpers/rollback.ts formatRollbackReport); null if the format is not recognised. */
export function parseRollbackOutput(text: string): RollbackSummary | null {
  const number = (pattern: RegExp) => {
    const match = pattern.exec(text);
    return match ? Number(match[1]) : undefined;
  };
  const accounts = number(/^ {2}accounts found: (\d+)$/m);
  const cloud = number(/^ {2}Vultr instances: (\d+)$/m);
  const nodeInstances = number(/^ {2}NodeInstances (?:deleted|would delete): (\d+)$/m);
  const usageRecords = number(/^ {2}usage records (?:deleted|would delete) \(spend reset\): (\d+)$/m);
  if (accounts === undefined || cloud === undefined || nodeInstances === undefined || usageRecords === undefined) return null;
  const cloudOutcomes = [...text.matchAll(/^ {4}\S+ \[account [^\]]+\]: (deleted|already gone|would delete|failed)/gm)].map((m) => m[1]!);
  if (cloudOutcomes.length !== cloud) return null;
  return { accounts, cloudOutcomes, nodeInstances, usageRecords };
}

/** What a second rollback must say: nothing left to destroy. */
export function nothingToDo(summary: RollbackSummary): boolean {
  return summary.nodeInstances === 0 && summary.usageRecords === 0 && summary.cloudOutcomes.every((o) => o === 'already gone');
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

// ───────────────────────────────────────────────────────────────────── environment

export function stackEnv(stackDir: string): Record<string, string> {
  const base = `http://127.0.0.1:${PORTS.base}`;
  return {
    BASE_URL: base,
    VULTR_API_URL: `http://127.0.0.1:${PORTS.vultr}/v2`,
    STRIPE_API_BASE: `http://127.0.0.1:${PORTS.stripe}`,
    WORKER_HEALTH_URL: `http://127.0.0.1:${PORTS.worker}/health`,
    STRIPE_WEBHOOK_URL: `${base}/api/v1/billing/stripe/webhook`,
    STACK_PG_PORT: String(PORTS.postgres),
    STACK_DIR: stackDir,
    STACK_FAULTS: '',
    VULTR_API_KEY,
    VULTR_BOOT_DELAY_MS: String(VULTR_BOOT_DELAY_MS),
  };
}

/** The suite's view of the same stack (it reads DATABASE_URL; the stack must not, or it would start no Postgres). */
export function suiteEnv(stackDir: string): Record<string, string> {
  return {
    ...stackEnv(stackDir),
    DATABASE_URL: `postgres://m1:m1@127.0.0.1:${PORTS.postgres}/m1_reference`,
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
    E2E_EMAIL_DOMAIN: DOMAIN,
    NODE_INSTANCE_PROVIDER_ID_SQL: 'provider_instance_id',
  };
}

function withoutInherited(extra: Record<string, string>, drop: string[] = []): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  // An E2E_RUN_ID or DATABASE_URL from the caller's shell would point the children elsewhere.
  for (const name of ['E2E_RUN_ID', 'DATABASE_URL', ...drop]) if (!(name in extra)) delete env[name];
  return env;
}

// ───────────────────────────────────────────────────────────────────── processes

const began = Date.now();

function say(line: string): void {
  process.stdout.write(`[${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s] ${line}\n`);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie has exited; whether its parent reaps it is not ours to wait for.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

type ProcInfo = { pid: number; ppid: number; pgid: number };

function processTable(): ProcInfo[] {
  const table: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      table.push({ pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]) });
    } catch {
      // Exited while being read.
    }
  }
  return table;
}

/** Every live process below `root`, plus every member of its process group. */
function descendantsOf(root: number): number[] {
  const table = processTable();
  const found = new Set<number>();
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    for (const p of table) {
      if (p.ppid !== pid || found.has(p.pid)) continue;
      found.add(p.pid);
      queue.push(p.pid);
    }
  }
  for (const p of table) if (p.pgid === root) found.add(p.pid);
  return [...found];
}

function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text) && alive(Number(entry))) pids.push(Number(entry));
    } catch {
      // Exited while being read.
    }
  }
  return pids;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

type Spawned = { child: ChildProcess; exited: Promise<Exit>; exit: Exit | undefined; log: string };

function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string; detached?: boolean }): Spawned {
  mkdirSync(dirname(options.log), { recursive: true });
  const fd = openSync(options.log, 'a');
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: options.detached ?? false, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawned: Spawned = { child, exit: undefined, log: options.log, exited: Promise.resolve({ code: null, signal: null }) };
  spawned.exited = new Promise<Exit>((resolveExit) => {
    child.once('exit', (code, signal) => {
      spawned.exit = { code, signal };
      resolveExit(spawned.exit);
    });
    child.once('error', () => {
      spawned.exit = { code: 127, signal: null };
      resolveExit(spawned.exit);
    });
  });
  return spawned;
}

/** Runs to completion, output captured; bounded in time (then killed). */
function run(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Exit & { output: string; timedOut: boolean }> {
  return new Promise((resolveRun) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, output, timedOut });
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      resolveRun({ code: 127, signal: null, output: `${output}${error.message}\n`, timedOut });
    });
  });
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).map((l) => `      | ${l}`).join('\n');
  } catch {
    return `      | (no ${file})`;
  }
}

function describeExit(exit: Exit | undefined): string {
  if (!exit) return 'still running';
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls until `probe` returns a value, or the time is up (undefined). */
async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, intervalMs = WATCH_INTERVAL_MS): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

async function killGroup(pgid: number, signal: NodeJS.Signals): Promise<void> {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is already empty.
  }
}

async function allGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const survivors = await waitFor(async () => (pids.every((p) => !alive(p)) ? [] : undefined), timeoutMs, 100);
  return survivors ?? pids.filter(alive);
}

// ───────────────────────────────────────────────────────────────────── the stack

type Stack = { dir: string; env: Record<string, string>; process: Spawned };

/** The stack's process from the moment it is spawned, for this script's own Ctrl+C. */
let stackProcess: Spawned | undefined;

async function startStack(dir: string): Promise<Stack> {
  const env = stackEnv(dir);
  // Run directly rather than through npm: its parent is then this script, and the stack stops
  // itself when its parent goes, so even a killed script leaves no stack behind.
  const stack = start(process.execPath, ['--import', 'tsx', 'stack/main.ts', '--fresh'], {
    cwd: REFERENCE_DIR,
    env: withoutInherited(env, ['VULTR_EMULATOR_KEYS', 'VULTR_FAULTS', 'VULTR_OK_DELAY_MS', 'PROVISION_POLL_INTERVAL_MS']),
    log: join(dir, 'stack.out.log'),
  });
  stackProcess = stack;
  const up = await waitFor(async () => {
    if (stack.exit) return false;
    try {
      const response = await fetch(`${env.BASE_URL}/up`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    } catch {
      return undefined;
    }
  }, STACK_START_TIMEOUT_MS, 250);
  if (up !== true) {
    stack.child.kill('SIGTERM');
    await within(stack.exited, 20_000);
    throw new Error(`the reference stack did not come up (${describeExit(stack.exit)}); last lines of its output:\n${tail(stack.log)}`);
  }
  return { dir, env, process: stack };
}

async function stopStack(stack: Stack): Promise<Check[]> {
  const checks: Check[] = [];
  const stop = await run('npm', ['run', '--silent', 'stack', '--', '--stop'], { cwd: ROOT, env: withoutInherited(stack.env), timeoutMs: STACK_STOP_TIMEOUT_MS });
  checks.push({ name: '`npm run stack -- --stop` succeeds', ok: stop.code === 0, detail: stop.code === 0 ? undefined : `${describeExit(stop)}: ${stop.output.trim()}` });
  const exited = await within(stack.process.exited, STACK_STOP_TIMEOUT_MS);
  checks.push({ name: 'the stack process exited', ok: exited !== undefined, detail: exited ? undefined : `pid ${stack.process.child.pid} still running` });
  if (!exited) stack.process.child.kill('SIGKILL');
  checks.push({ name: 'stack.pid removed', ok: !existsSync(join(stack.dir, 'stack.pid')) });
  const open = (await waitFor(async () => ((await busyPorts(Object.values(PORTS))).length === 0 ? [] : undefined), 10_000, 200)) ?? (await busyPorts(Object.values(PORTS)));
  checks.push({ name: `ports ${PORTS.base}-${PORTS.postgres} free`, ok: open.length === 0, detail: open.length ? `still listening: ${open.join(', ')}` : undefined });
  // Postgres runs with -D <dir>/pgdata and the API server and worker from <dir>/build: any process
  // naming the stack's directory is one it left behind.
  const left = await allGone(processesMentioning(stack.dir), 5_000);
  checks.push({ name: 'no process of the stack left', ok: left.length === 0, detail: left.length ? `pids ${left.join(', ')}` : undefined });
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return checks;
}

// ───────────────────────────────────────────────────────────────────── database and cloud

type Probes = ReturnType<typeof probes>;

function probes(pool: pg.Pool, env: Record<string, string>) {
  const vultr = async (path: string): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${env.VULTR_API_URL}${path}`, {
      headers: { authorization: `Bearer ${VULTR_API_KEY}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
  };
  const instancesAt = async (query: string): Promise<{ id: string; tags: string[] }[]> => {
    const found: { id: string; tags: string[] }[] = [];
    let cursor = '';
    for (let page = 0; page < 50; page++) {
      const params = new URLSearchParams(query);
      params.set('per_page', '500');
      if (cursor) params.set('cursor', cursor);
      const { status, body } = await vultr(`/instances?${params.toString()}`);
      if (status !== 200) throw new Error(`Vultr emulator GET /instances answered ${status}`);
      const list = body as { instances: { id: string; tags?: string[] }[]; meta?: { links?: { next?: string } } };
      found.push(...list.instances.map((i) => ({ id: i.id, tags: i.tags ?? [] })));
      cursor = list.meta?.links?.next ?? '';
      if (!cursor) return found;
    }
    throw new Error('Vultr emulator GET /instances: too many pages');
  };

  return {
    async accounts(pattern: string): Promise<{ id: string; email: string }[]> {
      const { rows } = await pool.query<{ id: string; email: string }>('SELECT account_id AS id, email FROM users WHERE email LIKE $1 ORDER BY created_at', [pattern]);
      return rows;
    },
    async nodeRows(pattern: string): Promise<NodeRow[]> {
      const { rows } = await pool.query<NodeRow>(
        `SELECT n.id, n.status, n.provider_instance_id FROM system_node_instances n
           JOIN users u ON u.account_id = n.account_id WHERE u.email LIKE $1 ORDER BY n.created_at`,
        [pattern],
      );
      return rows;
    },
    async unsettledMissions(accountIds: string[]): Promise<{ id: string; status: string }[]> {
      const { rows } = await pool.query<{ id: string; status: string }>(
        `SELECT id, status FROM ai_missions WHERE account_id = ANY($1::uuid[]) AND status IN ('approved', 'running')`,
        [accountIds],
      );
      return rows;
    },
    async missions(accountIds: string[]): Promise<{ id: string; status: string; error_code: string | null }[]> {
      const { rows } = await pool.query<{ id: string; status: string; error_code: string | null }>(
        `SELECT id, status, error_code FROM ai_missions WHERE account_id = ANY($1::uuid[]) AND status IN ('completed', 'failed') ORDER BY created_at`,
        [accountIds],
      );
      return rows;
    },
    async rowCounts(accountIds: string[]): Promise<{ nodeInstances: number; usageRecords: number }> {
      const { rows } = await pool.query<{ node_instances: number; usage_records: number }>(
        `SELECT (SELECT count(*)::int FROM system_node_instances WHERE account_id = ANY($1::uuid[])) AS node_instances,
                (SELECT count(*)::int FROM billing_provisioning_usage_records WHERE account_id = ANY($1::uuid[])) AS usage_records`,
        [accountIds],
      );
      return { nodeInstances: rows[0]!.node_instances, usageRecords: rows[0]!.usage_records };
    },
    async providerIds(accountIds: string[]): Promise<string[]> {
      const { rows } = await pool.query<{ id: string }>(
        'SELECT provider_instance_id AS id FROM system_node_instances WHERE account_id = ANY($1::uuid[]) AND provider_instance_id IS NOT NULL',
        [accountIds],
      );
      return rows.map((r) => r.id);
    },
    instanceExists: async (id: string) => (await vultr(`/instances/${encodeURIComponent(id)}`)).status === 200,
    instancesTagged: (tag: string) => instancesAt(new URLSearchParams({ tag }).toString()),
    allInstances: () => instancesAt(''),
  };
}

// ───────────────────────────────────────────────────────────────────── one scenario

/** Process groups of runners still running, for this script's own Ctrl+C. */
const runners = new Set<number>();

type ScenarioResult = { name: string; runId?: string; seconds: number; checks: Check[] };

function newRunId(scenario: Scenario): string {
  return `intr${scenario === 'sigint' ? 'i' : 'k'}${randomBytes(4).toString('hex')}`;
}

async function rollbackOnce(env: NodeJS.ProcessEnv): Promise<{ exit: Exit; output: string; summary: RollbackSummary | null }> {
  const result = await run('npm', ['run', '--silent', 'rollback', '--', '--older-than', '0m'], { cwd: ROOT, env, timeoutMs: ROLLBACK_TIMEOUT_MS });
  return { exit: result, output: result.output.trimEnd(), summary: parseRollbackOutput(result.output) };
}

async function runScenario(scenario: Scenario, stack: Stack, probe: Probes, workDir: string): Promise<ScenarioResult> {
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
  const env = withoutInherited({ ...suiteEnv(stack.dir), E2E_RUN_ID: runId }, ['CI', 'PLAYWRIGHT_HTML_OUTPUT_DIR', 'PLAYWRIGHT_JSON_OUTPUT_NAME']);
  const pattern = runEmailPattern(runId, DOMAIN);

  // Its own process group, like a shell's foreground job: the signal reaches the runner, its
  // workers and the browser at once. Its cwd is the run's directory, so the run's state file
  // (test-results/run-state) lands there, not in the checkout's test-results/.
  say(`${scenario}: run ${runId}: playwright test --project=funnel (output in ${runDir})`);
  const runner = start(
    process.execPath,
    [PLAYWRIGHT_CLI, 'test', '--config', join(ROOT, 'playwright.config.ts'), '--project=funnel', '--output', join(runDir, 'artifacts'), `--reporter=line,${join(ROOT, 'reporters/run-summary-reporter.ts')}`],
    { cwd: runDir, env, log: join(runDir, 'runner.log'), detached: true },
  );
  const pgid = runner.child.pid;
  if (pgid === undefined) {
    check('the runner starts', false, describeExit(await runner.exited));
    return done();
  }
  runners.add(pgid);

  let target: NodeRow | undefined;
  const watched = await waitFor(async () => {
    if (runner.exit) return 'exited' as const;
    const rows = await probe.nodeRows(pattern);
    target = killPoint(scenario, rows);
    if (target && scenario === 'sigkill' && !(await probe.instanceExists(target.provider_instance_id!))) target = undefined;
    if (target) return 'kill' as const;
    if (missedWindow(rows)) return 'missed' as const;
    return undefined;
  }, PROVISIONING_TIMEOUT_MS);

  const tree = descendantsOf(pgid);
  if (watched !== 'kill') {
    await killGroup(pgid, 'SIGKILL');
    const why =
      watched === 'exited'
        ? `the runner ended (${describeExit(runner.exit)}) before provisioning began`
        : watched === 'missed'
          ? 'the NodeInstance was already past provisioning when seen (kill window missed)'
          : `no NodeInstance began provisioning within ${PROVISIONING_TIMEOUT_MS / 1000} s`;
    check('the runner was killed mid-provisioning', false, `${why}; last lines of ${runner.log}:\n${tail(runner.log)}`);
  } else {
    const what = scenario === 'sigint' ? 'SIGINT' : 'SIGKILL';
    const instance = target!.provider_instance_id ? `, Vultr instance ${target!.provider_instance_id} exists` : ', no Vultr id yet';
    say(`${scenario}: NodeInstance ${target!.id} is ${target!.status}${instance}: ${what} to the runner's process group (${tree.length + 1} processes)`);
    await killGroup(pgid, what);
    check(`the runner was killed mid-provisioning (NodeInstance ${target!.status})`, true);
  }

  const exitTimeout = scenario === 'sigint' ? SIGINT_EXIT_TIMEOUT_MS : SIGKILL_EXIT_TIMEOUT_MS;
  let exit = await within(runner.exited, exitTimeout);
  const escalated = exit === undefined;
  if (escalated) {
    await killGroup(pgid, 'SIGKILL');
    exit = await within(runner.exited, SIGKILL_EXIT_TIMEOUT_MS);
  }
  runners.delete(pgid);
  if (watched === 'kill') {
    const detail = escalated ? `still running ${exitTimeout / 1000} s later; killed (${describeExit(exit)})` : describeExit(exit);
    check(`the runner exited after the ${scenario === 'sigint' ? 'SIGINT' : 'SIGKILL'}`, !escalated && exit !== undefined, detail);
    if (scenario === 'sigint') {
      say(`${scenario}: what the interrupted runner printed last:\n${tail(runner.log, 12)}`);
      // A SIGINTed runner still ends its run: its summary must say the final rollback did not run.
      const printed = readFileSync(runner.log, 'utf8');
      const named = printed.includes('the final rollback did not run (the run was interrupted)') && printed.includes(`npm run rollback -- --run-id ${runId}`);
      check('the interrupted runner says what to clean up', named, named ? undefined : 'no run summary naming `npm run rollback -- --run-id <id>`');
    }
  }
  const survivors = await allGone([...new Set([...tree, ...descendantsOf(pgid)])], PROCESSES_GONE_TIMEOUT_MS);
  check('no runner, worker or browser process survives', survivors.length === 0, survivors.length ? `pids ${survivors.join(', ')} (now killed)` : undefined);
  for (const pid of survivors) process.kill(pid, 'SIGKILL');

  const accounts = await probe.accounts(pattern);
  if (!check("the run's accounts are in the DB", accounts.length > 0, accounts.map((a) => a.email).join(', '))) return done();
  const accountIds = accounts.map((a) => a.id);

  say(`${scenario}: waiting for the worker to settle the run's missions before rolling back (a rollback racing an in-flight Vultr create can miss the instance)`);
  const settled = await waitFor(async () => ((await probe.unsettledMissions(accountIds)).length === 0 ? true : undefined), SETTLE_TIMEOUT_MS, 200);
  const missions = await probe.missions(accountIds);
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

  const first = await rollbackOnce(env);
  say(`${scenario}: npm run rollback -- --older-than 0m (${describeExit(first.exit)}):\n${first.output.replace(/^/gm, '      | ')}`);
  check('rollback exits 0', first.exit.code === 0, describeExit(first.exit));
  check('rollback found the run\'s accounts', first.summary !== null && first.summary.accounts >= accounts.length, first.summary ? `${first.summary.accounts} account(s)` : 'report not recognised');

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

  const second = await rollbackOnce(env);
  check('a second rollback exits 0', second.exit.code === 0, describeExit(second.exit));
  check(
    'a second rollback finds nothing to do',
    second.summary !== null && nothingToDo(second.summary),
    second.summary
      ? `${second.summary.cloudOutcomes.length} Vultr instance(s), ${second.summary.nodeInstances} NodeInstance(s), ${second.summary.usageRecords} usage record(s)`
      : `report not recognised:\n${second.output}`,
  );
  return done();
}

// ───────────────────────────────────────────────────────────────────── main

async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`interrupted-run: ${parsed.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (parsed.options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { scenarios, keepStack } = parsed.options;

  const busy = await busyPorts(Object.values(PORTS));
  if (busy.length > 0) {
    process.stderr.write(`interrupted-run: ports ${busy.join(', ')} are in use; this script needs ${PORTS.base}-${PORTS.postgres} free (a stack left by --keep-stack? stop it first)\n`);
    return 1;
  }

  const workDir = mkdtempSync(join(tmpdir(), 'interrupted-run-'));
  // Run as root, embedded Postgres runs initdb as an unprivileged user, who must reach pgdata.
  chmodSync(workDir, 0o755);
  const stackDir = join(workDir, 'stack');
  const results: ScenarioResult[] = [];
  let stack: Stack | undefined;
  let pool: pg.Pool | undefined;

  // Ctrl+C or SIGTERM on this script: runners live in process groups of their own, so end them
  // here; the stack would stop itself once its parent (this script) is gone, but is told to now
  // so that its directory can go once it has.
  let interrupted = false;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: ending the runner and the stack`);
    for (const group of runners) void killGroup(group, 'SIGKILL');
    stackProcess?.child.kill('SIGTERM');
    void within<unknown>(stackProcess?.exited ?? Promise.resolve(), STACK_STOP_TIMEOUT_MS).then(() => {
      if (!keepStack) rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  };

  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  try {
    say(`starting a fresh reference stack on ports ${PORTS.base}-${PORTS.postgres} (STACK_DIR ${stackDir})`);
    stack = await startStack(stackDir);
    say(`stack up at ${stack.env.BASE_URL}`);

    pool = new pg.Pool({ connectionString: suiteEnv(stackDir).DATABASE_URL, max: 3, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const probe = probes(pool, stack.env);
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
  }

  if (stack && keepStack) {
    const env = suiteEnv(stackDir);
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
    const checks = await stopStack(stack);
    for (const c of checks) say(`stack: ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}${c.detail ? ` (${c.detail})` : ''}`);
    results.push({ name: 'stack stop', seconds: 0, checks });
  }
  if (!keepStack) rmSync(workDir, { recursive: true, force: true });

  const failed = results.some((r) => r.checks.length === 0 || r.checks.some((c) => !c.ok));
  process.stdout.write(`\n${formatSummary(results)}\n\ninterrupted-run: ${failed ? 'FAIL' : 'PASS'} in ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  return failed ? 1 : 0;
}

runWhenInvoked('interrupted-run', import.meta.url, main);
