/**
 * The stack's child processes, each a `node` process whose output goes to its own log file,
 * stopped by PID. A bundled child (stack/bundle.ts, which builds the orphan guard into the bundle)
 * runs under plain node; any other entry runs through `node --import tsx` with the guard preloaded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isHealthy, sleep } from './probe';
import { START_GATE_VARIABLE, START_MESSAGE, WAITING_MESSAGE } from './start-gate';

// Resolved here, not from the child's cwd, so a child may run from any directory.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Stops a child whose orchestrator died without stopping it; bundles import it first. */
export const CHILD_GUARD_FILE = fileURLToPath(new URL('./child-guard.ts', import.meta.url));
const CHILD_GUARD = pathToFileURL(CHILD_GUARD_FILE).href;

export type ChildSpec = {
  name: string;
  /** Entry file (absolute). */
  file: string;
  logFile: string;
  healthUrl: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** `file` is a bundle from stack/bundle.ts: plain node, no tsx loader. */
  bundled?: boolean;
  /** Node and V8 flags placed before the entry. */
  nodeArgs?: string[];
  /** The entry awaits startGate() (start-gate.ts): it loads, then waits for release(). */
  gated?: boolean;
};

export type ChildExit = { code: number | null; signal: NodeJS.Signals | null };

export class ManagedChild {
  readonly process: ChildProcess;
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | undefined;

  constructor(readonly spec: ChildSpec) {
    const log = openSync(spec.logFile, 'a');
    writeSync(log, `\n--- ${new Date().toISOString()} starting ${spec.name} ---\n`);
    try {
      const loader = spec.bundled ? [] : ['--import', TSX_LOADER, '--import', CHILD_GUARD];
      this.process = spawn(process.execPath, [...(spec.nodeArgs ?? []), ...loader, spec.file], {
        cwd: spec.cwd,
        env: spec.gated ? { ...spec.env, [START_GATE_VARIABLE]: '1' } : spec.env,
        // Same process group as the orchestrator: a kill of the whole group reaches every child.
        detached: false,
        stdio: spec.gated ? ['ignore', log, log, 'ipc'] : ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    if (spec.gated) {
      this.process.on('message', (message) => {
        if (message !== WAITING_MESSAGE) return;
        this.waiting = true;
        if (this.released) this.sendStart();
      });
      // The channel must not keep the orchestrator's event loop alive on its own.
      this.process.channel?.unref();
    }
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      // A spawn failure (no such binary) emits 'error' and never 'exit'.
      this.process.once('error', () => {
        this.exit ??= { code: -1, signal: null };
        resolve(this.exit);
      });
    });
  }

  private waiting = false;
  private released = false;

  /** Lets a gated child go on with its start; it gets the word as soon as it is waiting for it. */
  release(): void {
    this.released = true;
    if (this.waiting) this.sendStart();
  }

  private sendStart(): void {
    if (!this.alive || !this.process.connected) return;
    // A child that died meanwhile is reported by waitHealthy, with its log; no 'error' event here.
    this.process.send(START_MESSAGE, () => undefined);
  }

  get name(): string {
    return this.spec.name;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The last lines of its log, for the message when it dies during startup. */
  tail(lines = 15): string {
    try {
      return readFileSync(this.spec.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async stop(graceMs = 5_000): Promise<void> {
    if (!this.alive) return;
    this.process.kill('SIGTERM');
    const stopped = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!stopped && this.alive) {
      this.process.kill('SIGKILL');
      await this.exited;
    }
  }
}

export class ChildExitedError extends Error {
  constructor(readonly child: ManagedChild) {
    const how = child.exit?.signal ? `signal ${child.exit.signal}` : `code ${child.exit?.code}`;
    super(`${child.name} exited during startup (${how}); last lines of ${child.spec.logFile}:\n${child.tail()}`);
  }
}

/** Polls the health URL until it answers 2xx; rejects when the child exits or the deadline passes. */
export async function waitHealthy(child: ManagedChild, deadline: number, intervalMs = 50): Promise<void> {
  for (;;) {
    if (!child.alive) throw new ChildExitedError(child);
    if (await isHealthy(child.spec.healthUrl, 500)) return;
    if (!child.alive) throw new ChildExitedError(child);
    if (Date.now() >= deadline) {
      throw new Error(`${child.name} was not healthy at ${child.spec.healthUrl} in time; last lines of ${child.spec.logFile}:\n${child.tail()}`);
    }
    await sleep(intervalMs);
  }
}
