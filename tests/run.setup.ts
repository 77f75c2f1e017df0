/**
 * The run proper begins once pre-flight has passed. Its own setup project exists for two reasons:
 * it records when the run started (verification bounds "no 5xx since the run started" with it), and
 * its teardown is the verification project, nested inside pre-flight's teardown (the rollback), so
 * the runbook's order holds even when a test fails: verification, then rollback.
 */
import { test as setup } from '../fixtures';
import { runId } from '../helpers/config';
import { recordRunStart } from '../helpers/run-state';

setup('Record the start of the run', () => {
  const startedAt = recordRunStart(runId());
  setup.info().annotations.push({ type: 'run', description: `${runId()} started ${startedAt.toISOString()}` });
});
