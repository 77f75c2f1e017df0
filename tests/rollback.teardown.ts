/**
 * Runbook: Rollback, for everything this run created: destroy its Vultr instances, delete its
 * NodeInstances and usage records (which resets the spend). Run twice to prove it is idempotent;
 * `npm run rollback -- --run-id <id>` does the same by hand.
 */
import { config, expect, test as teardown } from '../fixtures';
import { runId } from '../helpers/config';
import { formatRollbackReport, foundNothing, rollback, rollbackFailures } from '../helpers/rollback';

teardown("Rollback: destroy the run's Vultr instances, delete its NodeInstances and usage records", async ({ queries, vultr, evidence }) => {
  const deps = { store: queries, cloud: vultr };
  const options = { domain: config.E2E_EMAIL_DOMAIN, settleTimeoutMs: config.PROVISION_TIMEOUT_MS + 15_000 };

  const report = await rollback({ kind: 'run', runId: runId() }, deps, options);
  await teardown.info().attach('rollback report', { body: evidence.redactText(formatRollbackReport(report)), contentType: 'text/plain' });
  expect(rollbackFailures(report), 'rollback problems').toEqual([]);

  await teardown.step('Safe to run twice: a second rollback finds nothing left', async () => {
    const again = await rollback({ kind: 'run', runId: runId() }, deps, options);
    expect(foundNothing(again), formatRollbackReport(again)).toBe(true);
  });
});
