/**
 * The operator command of the `worker_command` variant: prints the worker's state as one JSON line,
 * `{"running":true,"failed":{"BillingProvisioningMeterJob":0}}`, and exits 0; exits 1 with a reason
 * on stderr when the database cannot be asked. `running` is whether the worker process answers on
 * the stack's own probe path, which the suite is never told about.
 *
 *   npm run --silent worker-state --workspace reference      (from the repository root)
 */
import { createPool } from '../db/pool';
import { workerProbeUrl } from '../lib/config';
import { loadStackConfig } from '../stack/stack-config';
import { workerState } from '../worker/state';

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  let config;
  try {
    config = loadStackConfig();
  } catch (error) {
    process.stderr.write(`worker-state: ${(error as Error).message}\n`);
    return 2;
  }
  const pool = createPool(config.databaseUrl, 1);
  try {
    const state = await workerState(pool, () => answers(workerProbeUrl(config.workerHealthUrl)));
    process.stdout.write(`${JSON.stringify(state)}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`worker-state: cannot read the job queue: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

main().then((code) => process.exit(code));
