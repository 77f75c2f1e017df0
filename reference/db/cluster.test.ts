import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkoutHomeDir,
  ClusterError,
  explainStartFailure,
  forgetClusters,
  initCluster,
  pgHome,
  postgresOsUser,
  prepareClusterHome,
  stackDataDir,
  startCluster,
  throwawayClusterHome,
  type ClusterHome,
} from './cluster';

const home: ClusterHome = { nativeDir: '/h/postgres', dataDir: '/h/stack-1/pgdata', runAs: { name: 'postgres', uid: 100, gid: 100 }, checkoutHome: '/h' };

describe('explainStartFailure: one line, the cause and its fix', () => {
  it('names a port another program holds', () => {
    const line = explainStartFailure('LOG:  could not bind IPv4 address "127.0.0.1": Address already in use\nFATAL:  could not create any TCP/IP sockets', { port: 54329, home });
    expect(line).toBe('port 54329 is taken by another program, so Postgres cannot listen there: stop that program, or give DATABASE_URL (STACK_PG_PORT) a free port');
  });

  it('names a full disk and where to look', () => {
    const line = explainStartFailure('initdb: error: could not write file "base/1/1259": No space left on device', { home });
    expect(line).toContain('the disk holding /h/stack-1/pgdata is full');
    expect(line).toContain('df -h /h/stack-1');
    expect(line).toContain('STACK_PG_HOME');
  });

  it('names the OS user that was denied, and the folders it needs', () => {
    const line = explainStartFailure('initdb: error: could not access directory "/root/m1/.stack/pgdata": Permission denied', { home });
    expect(line).toMatch(/^Postgres runs as OS user 'postgres', which was denied access \(Permission denied\): give it access to \/h\/stack-1 and \/h\/postgres/);
  });

  it('names a second Postgres on the same data directory', () => {
    const line = explainStartFailure('FATAL:  lock file "postmaster.pid" already exists', { home });
    expect(line).toContain('npm run stack -- --stop');
  });

  it("otherwise quotes Postgres's own FATAL line and the log's path", () => {
    const line = explainStartFailure('LOG:  starting\nFATAL:  invalid value for parameter "shared_buffers": "x"\n', { home, logFile: '/s/logs/postgres.log' });
    expect(line).toBe('Postgres did not start: invalid value for parameter "shared_buffers": "x"; full log: /s/logs/postgres.log');
    expect(line).not.toContain('\n');
  });
});

describe('where clusters live', () => {
  it('gives each checkout its own folder, named for a reader, even with spaces in the path', () => {
    const a = checkoutHomeDir('/var/lib/m1', '/root/m1');
    const b = checkoutHomeDir('/var/lib/m1', '/tmp/tmp.x/m1');
    const spaced = checkoutHomeDir('/var/lib/m1', '/tmp/my clone/m1 suite');
    expect(a).toMatch(/^\/var\/lib\/m1\/m1-[0-9a-f]{10}$/);
    expect(b).not.toBe(a);
    expect(spaced).toMatch(/^\/var\/lib\/m1\/m1_suite-[0-9a-f]{10}$/);
  });

  it('keeps a stack inside STACK_DIR unless STACK_PG_HOME or root says otherwise', () => {
    const env = { STACK_PG_HOME: '/srv/pg' };
    expect(pgHome(env)).toBe('/srv/pg');
    expect(stackDataDir('/a/.stack', env)).toMatch(/^\/srv\/pg\/[^/]+\/stack-[0-9a-f]{10}\/pgdata$/);
    expect(stackDataDir('/a/.stack', env)).not.toBe(stackDataDir('/b/.stack', env));
    if (process.getuid?.() !== 0) expect(stackDataDir('/a/.stack', {})).toBe('/a/.stack/pgdata');
    else expect(stackDataDir('/a/.stack', {})).toMatch(/^\/var\/lib\/m1-acceptance\//);
  });

  it('refuses a named OS user that does not exist, with the fix', () => {
    expect(() => postgresOsUser({ STACK_PG_OS_USER: 'no-such-user-m1' })).toThrow(
      new ClusterError("STACK_PG_OS_USER=no-such-user-m1: no such OS user; create it (useradd --system no-such-user-m1) or unset the variable to use 'postgres'"),
    );
  });
});

describe('a real cluster', () => {
  let parent: string;
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    parent = mkdtempSync(join(tmpdir(), 'm1-cluster-test-'));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as { port: number }).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    rmSync(parent, { recursive: true, force: true });
  });

  it('says in one line that the port is taken, and leaves no process behind', async () => {
    const cluster = await throwawayClusterHome(parent);
    try {
      await prepareClusterHome(cluster);
      expect(statSync(cluster.dataDir).mode & 0o777).toBe(0o700);
      await initCluster(cluster, { user: 'm1', password: 'm1', log: () => undefined });
      // The password file was only there for initdb.
      expect(readdirSync(cluster.dir)).toEqual(['pgdata']);
      const started = startCluster(cluster, { port, settings: ['listen_addresses=127.0.0.1'], log: () => undefined });
      await expect(started).rejects.toThrow(`port ${port} is taken by another program`);
      expect(existsSync(join(cluster.dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      rmSync(cluster.dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("forgets one stack's data but not another stack's of the same checkout", () => {
    const env = { STACK_PG_HOME: join(parent, 'shared-home') };
    const mine = stackDataDir(join(parent, 'mine'), env);
    const theirs = stackDataDir(join(parent, 'theirs'), env);
    for (const dir of [mine, theirs]) mkdirSync(dir, { recursive: true });
    expect(forgetClusters(join(parent, 'mine'), { everything: true }, env).kept).toEqual([]);
    expect(existsSync(mine)).toBe(false);
    expect(existsSync(theirs)).toBe(true);
    forgetClusters(join(parent, 'theirs'), { everything: true }, env);
    expect(existsSync(checkoutHomeDir(join(parent, 'shared-home')))).toBe(false);
  });

  it('forgets a stopped stack cluster but keeps one whose Postgres still runs', () => {
    const env = { STACK_PG_HOME: join(parent, 'home') };
    const stackDir = join(parent, 'stack');
    const dataDir = stackDataDir(stackDir, env);
    mkdirSync(dataDir, { recursive: true });
    // A postmaster.pid naming a live process (this one) stands for a running Postgres.
    writeFileSync(join(dataDir, 'postmaster.pid'), `${process.pid}\n`);
    expect(forgetClusters(stackDir, { everything: true }, env)).toEqual({ removed: [], kept: [dataDir] });
    expect(existsSync(dataDir)).toBe(true);
    rmSync(join(dataDir, 'postmaster.pid'));
    const forgotten = forgetClusters(stackDir, { everything: true }, env);
    expect(forgotten.kept).toEqual([]);
    expect(existsSync(join(parent, 'home'))).toBe(true);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(checkoutHomeDir(join(parent, 'home')))).toBe(false);
  });
});
