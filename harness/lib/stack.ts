/**
 * An isolated reference stack for a harness: its environment (its own ports, its own embedded
 * Postgres, its own STACK_DIR, none of the caller's faults or report paths), and the suite's view
 * of it; started in a process group of its own and stopped by id, its ports proven free after.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { busyPorts } from '@m1/reference/probe';
import {
  embeddedDatabaseEnv,
  embeddedDatabaseUrl,
  healthUrls,
  isEmbeddedDatabaseUrl,
  READY_LINE,
  stackAddresses,
  START_NOTE,
  startCommand,
  type StackPorts,
} from '@m1/reference/stack';
import { DIALECT_VARIABLES, isLoopbackUrl } from '../../helpers/config';
import { exitedWithin, signal, sleep, spawnLogged, tail, type Spawned } from './processes';
import { groupMembers, snapshot, survivors, treeOf } from './proc';

export type Ports = StackPorts;

export function portList(ports: Ports): number[] {
  return [ports.base, ports.vultr, ports.stripe, ports.worker, ports.postgres];
}

/** Variables that would aim a run elsewhere, switch faults or variants on, or move the reports. */
const SCRUBBED = [
  'STACK_FAULTS',
  'STACK_VARIANTS',
  'VULTR_FAULTS',
  'E2E_RUN_ID',
  'E2E_REPEAT_EACH',
  'PLAYWRIGHT_JSON_OUTPUT_NAME',
  'PLAYWRIGHT_JSON_OUTPUT_FILE',
  'PLAYWRIGHT_JSON_OUTPUT_DIR',
  'PLAYWRIGHT_HTML_REPORT',
  'PLAYWRIGHT_HTML_OUTPUT_DIR',
  'PLAYWRIGHT_JUNIT_OUTPUT_FILE',
  'PLAYWRIGHT_JUNIT_OUTPUT_NAME',
  'PLAYWRIGHT_BLOB_OUTPUT_DIR',
  'PLAYWRIGHT_BLOB_OUTPUT_FILE',
  'PLAYWRIGHT_BLOB_OUTPUT_NAME',
];

/** A harness's own settings on top of the isolated environment: variables to set, inherited ones to drop. */
export type EnvChanges = { set?: Record<string, string>; drop?: readonly string[] };

function isolated(base: NodeJS.ProcessEnv, changes: EnvChanges): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const name of [...SCRUBBED, ...(changes.drop ?? [])]) delete env[name];
  return env;
}

/**
 * What the stack needs to know of the suite's DATABASE_URL: one of the stack's own shape
 * (m1:m1@loopback/m1_reference) names its embedded Postgres, wherever its port, so the stack gets
 * that port (a set DATABASE_URL would mean "use that server"); any other URL is a server it uses.
 */
export function stackDatabaseEnv(databaseUrl: string): Record<string, string> {
  if (!isLoopbackUrl(databaseUrl) || !isEmbeddedDatabaseUrl(databaseUrl)) return {};
  return embeddedDatabaseEnv(Number(new URL(databaseUrl).port || 5432));
}

export function stackEnv(base: NodeJS.ProcessEnv, ports: Ports, stackDir: string, changes: EnvChanges = {}): NodeJS.ProcessEnv {
  return {
    ...isolated(base, changes),
    ...stackAddresses(ports),
    ...stackDatabaseEnv(embeddedDatabaseUrl(ports.postgres)),
    STACK_DIR: stackDir,
    ...changes.set,
  };
}

/**
 * The suite's view of the same stack: never starting one itself, reading the stack's backend log,
 * in the runbook's dialect unless the harness sets another (an empty value is the default, and
 * keeps .env from filling it in).
 */
export function suiteEnv(base: NodeJS.ProcessEnv, ports: Ports, stackDir: string, changes: EnvChanges = {}): NodeJS.ProcessEnv {
  return {
    ...isolated(base, changes),
    ...Object.fromEntries(DIALECT_VARIABLES.map((name) => [name, ''])),
    ...stackAddresses(ports),
    DATABASE_URL: embeddedDatabaseUrl(ports.postgres),
    BACKEND_LOG_COMMAND: '',
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
    ...changes.set,
  };
}

export type RunningStack = {
  spawned: Spawned;
  ports: Ports;
  dir: string;
  env: NodeJS.ProcessEnv;
  log: string;
  /** From the spawn until ready, polled every 100 ms: the measurement's resolution. */
  readyMs: number;
  /** What the stack itself says its start took. */
  reportedReadyMs: number | undefined;
  /** Its lines on where the start's time went. */
  notes: string[];
};

export type StartOptions = {
  ports: Ports;
  dir: string;
  log: string;
  env?: EnvChanges;
  fresh?: boolean;
  faults?: readonly string[];
  /** CONTRACT 9 variants to switch on (`--variants`, passed as STACK_VARIANTS). */
  variants?: readonly string[];
  timeoutMs?: number;
  /** Called as soon as the stack is spawned (the bench samples from there on; an interrupt handler may need it). */
  onSpawn?: (spawned: Spawned) => void;
};

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** What the stack wrote to its log since `offset` (a log may hold an earlier start's lines). */
function logSince(log: string, offset: number): string {
  try {
    return readFileSync(log).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * Starts the stack on its ports and waits until it is ready: every part answers its health check,
 * or the stack says it is ready (a fault may keep a part from starting at all). Throws with the
 * log's last lines when it exits or is not ready in time, after stopping what it started.
 */
export async function startStack(options: StartOptions): Promise<RunningStack> {
  const { ports, dir, log } = options;
  const busy = await busyPorts(portList(ports));
  if (busy.length > 0) throw new Error(`ports ${busy.join(', ')} are in use: another harness run, or a stack left running (npm run stack -- --stop with its STACK_DIR)`);
  const variants = options.variants && options.variants.length > 0 ? { STACK_VARIANTS: options.variants.join(',') } : {};
  const env = { ...stackEnv(process.env, ports, dir, options.env), ...variants };
  const { command, args, cwd } = startCommand({ fresh: options.fresh, faults: options.faults });
  let offset = 0;
  try {
    offset = statSync(log).size;
  } catch {
    // A new log.
  }
  const spawned = spawnLogged(command, args, { cwd, env, log });
  options.onSpawn?.(spawned);
  const stack: RunningStack = { spawned, ports, dir, env, log, readyMs: 0, reportedReadyMs: undefined, notes: [] };
  const urls = healthUrls(ports);
  const timeoutMs = options.timeoutMs ?? 120_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawned.exit) {
      await stopStack(stack);
      throw new Error(`the stack exited (${spawned.exit.signal ?? `code ${spawned.exit.code}`}) before it was ready: ${tail(log, 4)}`);
    }
    if (READY_LINE.test(logSince(log, offset)) || (await Promise.all(urls.map(answers200))).every(Boolean)) break;
    if (Date.now() > deadline) {
      const stop = await stopStack(stack);
      throw new Error(`the stack was not ready within ${timeoutMs / 1000} s (stopped: ${stop.how}): ${tail(log, 4)}`);
    }
    await sleep(100);
  }
  stack.readyMs = Math.round(performance.now() - spawned.startedAt);
  // The stack prints its line once every part is healthy, a moment after they answer.
  const until = Date.now() + 5_000;
  while (Date.now() < until && !READY_LINE.test(logSince(log, offset))) await sleep(50);
  const text = logSince(log, offset);
  const ready = READY_LINE.exec(text);
  stack.reportedReadyMs = ready ? Number(ready[1]) : undefined;
  stack.notes = text.split('\n').filter((line) => START_NOTE.test(line));
  return stack;
}

/**
 * SIGTERM to the stack (it stops its children and Postgres), SIGKILL to its group if it outlasts
 * `timeoutMs`, then SIGKILL, by id, to whatever of its tree is still alive after a grace; clean
 * when nothing had to be killed and its ports are free.
 */
export async function stopStack(stack: RunningStack, timeoutMs = 30_000): Promise<{ clean: boolean; how: string }> {
  const { spawned } = stack;
  // The tree as it is now, while the stack still parents it.
  const tree = snapshot(treeOf(spawned.pid));
  let how = 'SIGTERM to the stack';
  if (!spawned.exit) signal(spawned.pid, 'SIGTERM');
  if (!(await exitedWithin(spawned, timeoutMs))) {
    how += ', then SIGKILL to its process group';
    signal(-spawned.pid, 'SIGKILL');
    await exitedWithin(spawned, 5_000);
  }
  // Postgres takes a moment after the stack to go; only what is still there after it is a leftover.
  const left = () => [...new Set([...survivors(tree), ...groupMembers(spawned.pid)])];
  const graceUntil = Date.now() + 10_000;
  while (Date.now() < graceUntil && left().length > 0) await sleep(100);
  const killed = left();
  for (const pid of killed) signal(pid, 'SIGKILL');
  if (killed.length > 0) how += `, then SIGKILL to survivors ${killed.join(', ')}`;
  const deadline = Date.now() + 10_000;
  let busy = await busyPorts(portList(stack.ports));
  while (busy.length > 0 && Date.now() < deadline) {
    await sleep(200);
    busy = await busyPorts(portList(stack.ports));
  }
  return { clean: busy.length === 0 && killed.length === 0, how: busy.length > 0 ? `${how}; ports still in use: ${busy.join(', ')}` : how };
}

/** Every variable a `.env.example` documents (the suite's and the stack's). */
export function documentedVariables(envExample: string): string[] {
  return [...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
}

/**
 * Changes for stackEnv/suiteEnv that leave nothing to the caller: every documented variable blank,
 * then `set`; the caller's npm and Playwright variables dropped. Blank, not removed: dotenv never
 * overrides a variable that is set, so a `.env` in the checkout cannot fill one in, and both the
 * suite and the stack read an empty value as unset. The run id stays unset (playwright.config.ts
 * fills in only a missing one).
 */
export function documentedBlank(base: NodeJS.ProcessEnv, documented: readonly string[], set: Record<string, string>): EnvChanges {
  const blank: Record<string, string> = {};
  for (const name of [...documented, 'STACK_FAULTS', 'VULTR_FAULTS']) if (name !== 'E2E_RUN_ID') blank[name] = '';
  const inherited = Object.keys(base).filter((name) => name.startsWith('PLAYWRIGHT_') || name.startsWith('npm_'));
  return { set: { ...blank, ...set }, drop: inherited };
}
