/**
 * Starts the API server: `tsx reference/server/main.ts`, configured by the environment
 * (lib/config.ts). Listens on 127.0.0.1 at BASE_URL's port; SIGTERM/SIGINT stop it cleanly.
 */
import { readStackConfig, portOf } from '../lib/config';
import { parseFaults } from '../lib/faults';
import { createBoss, ensureQueues } from '../lib/queue';
import { createPool } from '../db/pool';
import { buildApp } from './app';
import { createStripeClient } from './stripe';

const BOSS_STOP_TIMEOUT_MS = 3_000;

async function main(): Promise<void> {
  const config = readStackConfig();
  // Unknown fault names stop the start here, with the list of known ones.
  const faults = parseFaults(config.faults);

  const pool = createPool(config.databaseUrl);
  const boss = createBoss(config.databaseUrl);
  await boss.start();
  await ensureQueues(boss);

  const app = await buildApp({ config, pool, queue: boss, stripe: createStripeClient(config) });
  await app.listen({ host: '127.0.0.1', port: portOf(config.baseUrl) });
  console.log(`api ready on ${config.baseUrl}${faults.length > 0 ? ` (faults: ${faults.join(', ')})` : ''}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`api: ${signal}, shutting down`);
    await app.close().catch((error: Error) => console.error(`api: closing http: ${error.message}`));
    await boss.stop({ graceful: true, wait: true, timeout: BOSS_STOP_TIMEOUT_MS }).catch((error: Error) => console.error(`api: stopping pg-boss: ${error.message}`));
    await pool.end().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: Error) => {
  console.error(`api failed to start: ${error.message}`);
  process.exit(1);
});
