/**
 * Child processes a harness owns: each started in a process group of its own with its output in a
 * log file, waited for with a bound, ended as a group, and stopped by id on Ctrl+C. Nothing here
 * kills by name.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { groupMembers, readText } from './proc';

export type Exit = { code: number | null; signal: NodeJS.Signals | null; at: number };

export type Spawned = {
  pid: number;
  startedAt: number;
  exit: Exit | undefined;
  exited: Promise<Exit>;
  log: string;
};

/** Every process started here and not yet seen to exit: stopped by their ids on Ctrl+C. */
const live = new Set<Spawned>();

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** Its own process group (a group signal reaches what it started), output appended to a log file. */
export function spawnLogged(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string }): Spawned {
  mkdirSync(dirname(options.log), { recursive: true });
  const fd = openSync(options.log, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd] });
    const spawned: Spawned = { pid: child.pid ?? -1, startedAt: performance.now(), exit: undefined, exited: Promise.resolve({ code: null, signal: null, at: 0 }), log: options.log };
    spawned.exited = new Promise((done) => {
      const ended = (exit: Omit<Exit, 'at'>) => {
        spawned.exit ??= { ...exit, at: performance.now() };
        live.delete(spawned);
        done(spawned.exit);
      };
      child.once('exit', (code, signal) => ended({ code, signal }));
      child.once('error', (error) => {
        writeFileSync(options.log, `\ncould not start ${command}: ${error.message}\n`, { flag: 'a' });
        ended({ code: -1, signal: null });
      });
    });
    if (child.pid !== undefined) live.add(spawned);
    return spawned;
  } finally {
    closeSync(fd);
  }
}

/** Runs to completion with its output captured; killed when it outlasts `timeoutMs`. */
export function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, stdout, stderr, timedOut });
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      done({ code: 127, signal: null, stdout, stderr: `${stderr}${error.message}\n`, timedOut });
    });
  });
}

/** The promise's value, or undefined when it takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function exitedWithin(spawned: Spawned, ms: number): Promise<boolean> {
  if (spawned.exit) return true;
  return (await within(spawned.exited, ms)) !== undefined;
}

/** Polls until `probe` returns a value, or the time is up (undefined). */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/**
 * A signal to a pid, or to a process group with a negative one; a process already gone is no
 * error. Never to init or to "every process" (a spawn that failed has pid -1, so its group is 1).
 */
export function signal(pid: number, name: NodeJS.Signals): void {
  if (!Number.isInteger(pid) || Math.abs(pid) <= 1) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

export async function groupGoneWithin(pgid: number, ms: number): Promise<boolean> {
  return (await waitFor(() => (groupMembers(pgid).length === 0 ? true : undefined), ms, 100)) === true;
}

/** SIGTERM to the group, SIGKILL if it has not exited within 10 s; for a run that outlived its bound. */
export async function endGroup(spawned: Spawned): Promise<void> {
  signal(-spawned.pid, 'SIGTERM');
  if (!(await exitedWithin(spawned, 10_000))) signal(-spawned.pid, 'SIGKILL');
  await exitedWithin(spawned, 5_000);
}

export function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null } | undefined): string {
  if (!exit) return 'still running';
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** The last lines of a log (none when it cannot be read). */
export function tailLines(path: string, lines: number): string[] {
  const text = readText(path);
  return text === undefined ? [] : text.trimEnd().split('\n').slice(-lines);
}

export function tail(path: string, lines: number, separator = ' | '): string {
  return tailLines(path, lines).join(separator);
}

/** On Ctrl+C, SIGTERM or SIGHUP: stop, by id, every process started here, then exit 130. */
export function stopAllOnSignal(name: string): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`${name}: ${sig}: stopping what it started`);
      for (const s of live) signal(-s.pid, 'SIGTERM');
      void sleep(5_000).then(() => {
        for (const s of live) signal(-s.pid, 'SIGKILL');
        process.exit(130);
      });
      if (live.size === 0) process.exit(130);
      void Promise.all([...live].map((s) => s.exited)).then(() => process.exit(130));
    });
  }
}

/** The groups of every process started here and still running, for a harness's own interrupt handler. */
export function liveGroups(): number[] {
  return [...live].map((s) => s.pid);
}
