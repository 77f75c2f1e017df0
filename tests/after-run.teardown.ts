/**
 * After the run, in the runbook's order: Verification (the final state the runbook expects, a clean
 * backend log, no failed metering jobs), then Rollback of everything this run created. One teardown
 * project on one worker runs this file top to bottom; a failing verification test does not stop the
 * rollback (Playwright carries on with the next test in a fresh worker).
 * `npm run rollback -- --run-id <id>` does the rollback by hand.
 */
import { config, expect, test as teardown } from '../fixtures';
import type { RunState } from '../helpers/run/state';
import { formatRollbackReport, foundNothing, rollbackFailures } from '../helpers/run/rollback';
import { SUMMARY_ATTACHMENT, summarizeRollback } from '../helpers/run/summary';
import { AFTER_RUN } from './steps';

/** Verification has nothing to check when pre-flight failed: the funnel and negative paths never ran. */
function skipWhenNothingToVerify(run: RunState): void {
  const failed = run.preflightFailures();
  teardown.skip(run.start() === null, 'the run never started (pre-flight did not run): nothing to verify');
  teardown.skip(failed.length > 0, `pre-flight failed (${failed.join('; ')}): the funnel never ran, nothing to verify`);
}

teardown(AFTER_RUN.finalState, async ({ run, backend, evidence }) => {
  skipWhenNothingToVerify(run);
  const accounts = await backend.funnelAccountsOfRun(run.id);
  const found = new Set(accounts.map((a) => a.email.toLowerCase()));
  expect(
    run.funnelIdentities().filter((email) => !found.has(email.toLowerCase())),
    'funnel identities this run used that the final-state query does not find (no account: sign-up failed, or the query cannot see it)',
  ).toEqual([]);
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

teardown(AFTER_RUN.noServerErrors, async ({ run, backend, evidence }) => {
  skipWhenNothingToVerify(run);
  const since = run.start();
  if (!since) throw new Error('the run start was not recorded: pre-flight must run first (do not use --no-deps)');
  const scan = await backend.logSince(since);
  await evidence.attach('backend log scan', {
    source: scan.source,
    since,
    linesRead: scan.linesRead,
    requestLinesSince: scan.requestLinesSince,
    serverErrors: scan.serverErrors.map((e) => e.line),
    undatedServerErrors: scan.undatedServerErrors.map((e) => e.line),
  });
  expect(scan.requestLinesSince, `${scan.source} has no request lines since the run started: point BACKEND_LOG_FILE or BACKEND_LOG_COMMAND at the live backend log`).toBeGreaterThan(0);
  expect(
    scan.unreadable,
    `${scan.source} has ${scan.unreadableCount} line(s) the scan cannot read or date (BACKEND_LOG_FORMAT, BACKEND_LOG_COMMAND's output format): a 5xx there would go unseen`,
  ).toEqual([]);
  expect(scan.serverErrors.map((e) => e.line), '5xx answers logged since the run started').toEqual([]);
});

teardown(AFTER_RUN.noFailedMeterJobs(config.METER_JOB_NAME), async ({ run, backend, evidence }) => {
  skipWhenNothingToVerify(run);
  const worker = await backend.workerState();
  await evidence.attach('worker state', worker);
  // A job the worker does not list would read as "0 failed": the absence must be seeable first.
  const failed = worker.failed[config.METER_JOB_NAME];
  expect(
    failed,
    `the worker's state (${worker.source}) lists no job named ${config.METER_JOB_NAME}; it lists: ${Object.keys(worker.failed).join(', ') || 'nothing'} — set METER_JOB_NAME to the meter job's name`,
  ).toBeDefined();
  expect(failed, `failed ${config.METER_JOB_NAME} jobs in the last 24 h (${worker.source})`).toBe(0);
});

teardown(AFTER_RUN.rollback, async ({ run, rollback, evidence }) => {
  const report = await rollback({ kind: 'run', runId: run.id });
  await teardown.info().attach('rollback report', { body: evidence.redactText(formatRollbackReport(report)), contentType: 'text/plain' });
  await teardown.info().attach(SUMMARY_ATTACHMENT, { body: JSON.stringify(summarizeRollback(report, 'run')), contentType: 'application/json' });
  expect(rollbackFailures(report), 'rollback problems').toEqual([]);

  // The second pass finds a VM whose row is gone only through its tag: that must have worked on the first.
  await teardown.step(AFTER_RUN.rollbackSawTags, () => {
    const untagged = report.cloudInstances.filter((i) => !i.foundVia.includes('tag')).map((i) => `${i.id} lacks the tag account:${i.accountId}`);
    expect(untagged, "instances the first pass found only through their NodeInstance row, not through their account tag").toEqual([]);
  });

  await teardown.step(AFTER_RUN.rollbackTwice, async () => {
    const again = await rollback({ kind: 'run', runId: run.id });
    expect(foundNothing(again), formatRollbackReport(again)).toBe(true);
  });
});
