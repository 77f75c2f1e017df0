/**
 * Runbook: Verification, after the funnel and the negative paths: the final state the runbook
 * expects, a clean backend log, and no failed metering jobs.
 */
import { config, expect, test as teardown } from '../fixtures';
import { readBackendLog, scanForServerErrors } from '../helpers/backend-log';
import { runId } from '../helpers/config';
import { FUNNEL_LABEL } from '../helpers/identity';
import { readRunStart } from '../helpers/run-state';
import { METER_JOB_NAME } from '../helpers/runbook';
import { workerHealth } from '../helpers/system';

// When pre-flight failed, the run never started and created nothing: there is nothing to verify.
teardown.skip(() => readRunStart(runId()) === null, 'the run never started (pre-flight failed): nothing to verify');

teardown("Final state: one running NodeInstance and one 'running' usage record per funnel identity", async ({ backend, evidence }) => {
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
  const since = readRunStart(runId());
  if (!since) throw new Error('the run start was not recorded: the run project must run first (do not use --no-deps)');
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
  const health = await workerHealth(dispatcher, config.WORKER_HEALTH_URL);
  await evidence.attach('worker health', health);
  expect(health.failed[METER_JOB_NAME] ?? 0, `failed ${METER_JOB_NAME} jobs in the last 24 h`).toBe(0);
});
