/**
 * Starts the API server: `tsx reference/server/main.ts`, configured by the environment
 * (lib/config.ts). Listens on 127.0.0.1 at BASE_URL's port; SIGTERM/SIGINT stop it cleanly.
 */
import { readStackConfig, portOf } from '../lib/config';
import { hashPassword } from '../lib/crypto';
import { parseFaults } from '../lib/faults';
import { parseVariants } from '../lib/variants';
import { createBoss, ensureQueues } from '../lib/queue';
import { createPool } from '../db/pool';
import { startGate } from '../stack/start-gate';
import { buildApp } from './app';
import { createStripeClient } from './stripe';

const BOSS_STOP_TIMEOUT_MS = 3_000;

async function main(): Promise<void> {
  const config = readStackConfig();
  // Unknown fault names stop the start here, with the list of known ones.
  const faults = parseFaults(config.faults);
  const variants = parseVariants(config.variants);

  const pool = createPool(config.databaseUrl);
  // Sends on the server's own pool; the worker runs the queue's maintenance and clock.
  const boss = createBoss(config.databaseUrl, { pool, sendOnly: true });

  // A process's first two password hashes take 10-25 ms longer than the rest: libuv starts its
  // thread pool, and glibc maps scrypt's 16 MB block fresh, then (having raised its mmap threshold)
  // carves it from the heap, where it stays warm for every later hash. Paid while the server
  // starts, not by the first signups.
  void hashPassword('warm-up')
    .then(() => hashPassword('warm-up'))
    .catch(() => undefined);

  // Nothing here touches the database yet: under the stack this all runs while Postgres initialises.
  const app = await buildApp({ config, pool, queue: boss, stripe: createStripeClient(config) });
  await app.ready();
  await startGate();

  await boss.start();
  await ensureQueues(boss);
  await app.listen({ host: '127.0.0.1', port: portOf(config.baseUrl) });
  const switches = [faults.length > 0 ? `faults: ${faults.join(', ')}` : '', variants.length > 0 ? `variants: ${variants.join(', ')}` : ''].filter(Boolean);
  console.log(`api ready on ${config.baseUrl}${switches.length > 0 ? ` (${switches.join('; ')})` : ''}`);

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
