/**
 * After the run, in the runbook's order: Verification (the final state the runbook expects, a clean
 * backend log, no failed metering jobs), then Rollback of everything this run created. One teardown
 * project on one worker runs this file top to bottom; a failing verification test does not stop the
 * rollback (Playwright carries on with the next test in a fresh worker).
 * `npm run rollback -- --run-id <id>` does the rollback by hand.
 */
import { config, expect, test as teardown } from '../fixtures';
import { readBackendLog, scanForServerErrors } from '../helpers/clients/backend-log';
import { runId } from '../helpers/config';
import { FUNNEL_LABEL } from '../helpers/run/identity-emails';
import { formatRollbackReport, foundNothing, rollback, rollbackFailures } from '../helpers/run/rollback';
import { readPreflightFailures, readRunStart } from '../helpers/run/state';
import { METER_JOB_NAME } from '../helpers/runbook';
import { workerHealth } from '../helpers/preflight/health';
import { SUMMARY_ATTACHMENT, summarizeRollback } from '../helpers/run/summary';

/** Verification has nothing to check when pre-flight failed: the funnel and negative paths never ran. */
function skipWhenNothingToVerify(): void {
  const failed = readPreflightFailures(runId());
  teardown.skip(readRunStart(runId()) === null, 'the run never started (pre-flight did not run): nothing to verify');
  teardown.skip(failed.length > 0, `pre-flight failed (${failed.join('; ')}): the funnel never ran, nothing to verify`);
}

teardown("Final state: one running NodeInstance and one 'running' usage record per funnel identity", async ({ backend, evidence }) => {
  skipWhenNothingToVerify();
  const accounts = await backend.accountsOfRun(runId(), FUNNEL_LABEL);
  if (accounts.length === 0) teardown.info().annotations.push({ type: 'note', description: 'no funnel identity signed up in this run' });
  for (const account of accounts) {
    await teardown.step(account.email, async () => {
      const nodes = await backend.nodeInstances(account.account_id);
      const usage = await backend.usageRecords(account.account_id);
      await evidence.attach(`final state of ${account.email}`, { nodeInstances: nodes, usageRecords: usage });
      expect(nodes.map((n) => n.status), 'NodeInstance statuses').toEqual(['running']);
      expect(usage.map((u) => u.event), 'usage record events').toEqual(['running']);
    });
  }
});

teardown('No 500s in the backend log since the run started', async ({ evidence }) => {
  skipWhenNothingToVerify();
  const since = readRunStart(runId());
  if (!since) throw new Error('the run start was not recorded: pre-flight must run first (do not use --no-deps)');
  const log = await readBackendLog(config);
  const scan = scanForServerErrors(log.text, since);
  await evidence.attach('backend log scan', {
    source: log.source,
    since,
    linesRead: scan.linesRead,
    requestLinesSince: scan.requestLinesSince,
    serverErrors: scan.serverErrors.map((e) => e.line),
    undatedServerErrors: scan.undatedServerErrors.map((e) => e.line),
  });
  expect(scan.requestLinesSince, `${log.source} has no request lines since the run started: point BACKEND_LOG_FILE or BACKEND_LOG_COMMAND at the live backend log`).toBeGreaterThan(0);
  expect(scan.serverErrors.map((e) => e.line), '5xx answers logged since the run started').toEqual([]);
});

teardown(`No failed ${METER_JOB_NAME} jobs`, async ({ dispatcher, evidence }) => {
  skipWhenNothingToVerify();
  const health = await workerHealth(dispatcher, config.WORKER_HEALTH_URL);
  await evidence.attach('worker health', health);
  expect(health.failed[METER_JOB_NAME] ?? 0, `failed ${METER_JOB_NAME} jobs in the last 24 h`).toBe(0);
});

teardown("Rollback: destroy the run's Vultr instances, delete its NodeInstances and usage records", async ({ queries, vultr, evidence }) => {
  const deps = { store: queries, cloud: vultr };
  const options = { domain: config.E2E_EMAIL_DOMAIN, settleTimeoutMs: config.PROVISION_TIMEOUT_MS + 15_000 };

  const report = await rollback({ kind: 'run', runId: runId() }, deps, options);
  await teardown.info().attach('rollback report', { body: evidence.redactText(formatRollbackReport(report)), contentType: 'text/plain' });
  await teardown.info().attach(SUMMARY_ATTACHMENT, { body: JSON.stringify(summarizeRollback(report, 'run')), contentType: 'application/json' });
  expect(rollbackFailures(report), 'rollback problems').toEqual([]);

  await teardown.step('Safe to run twice: a second rollback finds nothing left', async () => {
    const again = await rollback({ kind: 'run', runId: runId() }, deps, options);
    expect(foundNothing(again), formatRollbackReport(again)).toBe(true);
  });
});
