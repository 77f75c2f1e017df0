/**
 * `npm run rollback -- --run-id <id> | --older-than <age> [--dry-run]`: RUNBOOK Rollback by
 * hand, for a run whose teardown never ran (Ctrl+C, a crashed machine) or for every suite identity
 * older than an age. Touches only identities matching e2e+...@E2E_EMAIL_DOMAIN.
 * Exit codes: 0 done, 1 something could not be removed, 2 bad arguments or configuration.
 */
import pg from 'pg';
import { ConfigError, loadConfig } from '../helpers/config';
import { createDispatcher } from '../helpers/clients/http';
import { createQueries } from '../helpers/clients/queries';
import { ROLLBACK_USAGE, formatRollbackReport, parseRollbackArgs, rollback, rollbackFailures } from '../helpers/run/rollback';
import { VultrClient } from '../helpers/clients/vultr';
import { withNpmConfigFlags } from './lib/npm-flags';

async function main(): Promise<number> {
  const argv = withNpmConfigFlags(process.argv.slice(2), process.env, ['run-id', 'older-than', 'dry-run', 'help']);
  const parsed = parseRollbackArgs(argv);
  if (!parsed.ok) {
    console.error(`rollback: ${parsed.message}\n\n${ROLLBACK_USAGE}`);
    return 2;
  }
  if (parsed.args.help) {
    console.log(ROLLBACK_USAGE);
    return 0;
  }
  const { selector, dryRun } = parsed.args;

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) console.error(`config: ${problem}`);
    return 2;
  }

  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 2, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined);
  const dispatcher = createDispatcher();
  try {
    const report = await rollback(
      selector,
      {
        store: createQueries(pool, { providerIdSql: config.NODE_INSTANCE_PROVIDER_ID_SQL }),
        cloud: new VultrClient({ baseUrl: config.VULTR_API_URL, apiKey: config.VULTR_API_KEY, dispatcher }),
      },
      // A job already queued for a killed run would otherwise create its VM after we looked.
      { domain: config.E2E_EMAIL_DOMAIN, dryRun, settleTimeoutMs: config.PROVISION_TIMEOUT_MS + 15_000, inFlightMissionStatuses: config.IN_FLIGHT_MISSION_STATUSES },
    );
    console.log(formatRollbackReport(report));
    const failures = rollbackFailures(report);
    for (const failure of failures) console.error(`rollback: ${failure}`);
    return failures.length > 0 ? 1 : 0;
  } finally {
    await pool.end();
    await dispatcher.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`rollback: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
