/**
 * The stack's embedded Postgres: initialised once, listening on 127.0.0.1 only, log in
 * <STACK_DIR>/logs/postgres.log. Where its binaries and data live, and which OS user runs it, is
 * reference/db/cluster.ts's business (inside <STACK_DIR>, or under STACK_PG_HOME as root).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ClusterError, ensureDatabase, initCluster, prepareClusterHome, stackClusterHome, startCluster, type ClusterHome } from '../db/cluster';
import { pidAlive, sleep } from './probe';

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

export type EmbeddedDatabase = { initialised: boolean; home: ClusterHome; stop(): Promise<void> };

export async function startEmbeddedPostgres(options: { stackDir: string; databaseUrl: string; logFile: string }): Promise<EmbeddedDatabase> {
  const target = databaseTarget(options.databaseUrl);
  const log = (message: string) => {
    try {
      appendFileSync(options.logFile, message);
    } catch {
      // A log write must never stop the database.
    }
  };
  const home = await stackClusterHome(options.stackDir);
  await prepareClusterHome(home);
  const initialised = !existsSync(join(home.dataDir, 'PG_VERSION'));
  if (initialised) await initCluster(home, { user: target.user, password: target.password, log, logFile: options.logFile });
  const cluster = await startCluster(home, { port: target.port, settings: POSTGRES_SETTINGS, log, logFile: options.logFile });
  try {
    await ensureDatabase(target);
  } catch (error) {
    await cluster.stop();
    throw new ClusterError(`Postgres started but creating database ${target.database} failed: ${(error as Error).message}`, { cause: error });
  }
  return { initialised, home, stop: () => cluster.stop() };
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
