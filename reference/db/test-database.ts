/**
 * A throwaway embedded Postgres for unit tests that need real SQL: a fresh cluster on an ephemeral
 * port, migrated and seeded, in a folder of its own (see cluster.ts for where, and as whom, when
 * running as root). Stopped and removed by `stop()`.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import type pg from 'pg';
import { ensureDatabase, initCluster, prepareClusterHome, startCluster, throwawayClusterHome } from './cluster';
import { migrate, seed } from './migrate';
import { createPool } from './pool';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type TestDatabase = { url: string; pool: pg.Pool; stop(): Promise<void> };

const USER = 'm1';
const PASSWORD = 'm1';
const DATABASE = 'm1_test';

export async function startTestDatabase(
  options: { seed?: boolean; vultrApiKey?: string; encryptionKey?: string; variants?: readonly string[] } = {},
): Promise<TestDatabase> {
  const home = await throwawayClusterHome(tmpdir());
  const discard = () => rmSync(home.dir, { recursive: true, force: true });
  const quiet = () => undefined;
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  try {
    await prepareClusterHome(home);
    await initCluster(home, { user: USER, password: PASSWORD, log: quiet });
    const port = await freePort();
    cluster = await startCluster(home, { port, settings: ['listen_addresses=127.0.0.1', 'fsync=off'], log: quiet });
    await ensureDatabase({ port, user: USER, password: PASSWORD, database: DATABASE });
    const url = `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`;
    const pool = createPool(url, 5);
    await migrate(pool, { variants: options.variants });
    if (options.seed !== false) {
      await seed(pool, {
        vultrApiKey: options.vultrApiKey ?? 'vk_test_platform_pool',
        credentialsEncryptionKey: options.encryptionKey ?? 'test-key',
      });
    }
    const running = cluster;
    return {
      url,
      pool,
      async stop() {
        await pool.end().catch(() => undefined);
        await running.stop().catch(() => undefined);
        discard();
      },
    };
  } catch (error) {
    await cluster?.stop().catch(() => undefined);
    discard();
    throw error;
  }
}
