/**
 * Worker state as public Powernode's operators get it (CONTRACT 9 `worker_command`): there is no
 * health URL, only a command (on Powernode a `rails runner` one-liner over Sidekiq's API) that
 * prints `{"running":true,"failed":{"BillingProvisioningMeterJob":0}}`. Failed jobs are counted as
 * on the health endpoint (the last 24 h), under the job's class name.
 */
import type pg from 'pg';
import { QUEUES } from '../lib/queue';
import { healthReport } from './health';

/** The meter job's class on Powernode. */
export const METER_JOB_CLASS = 'BillingProvisioningMeterJob';

export type WorkerState = { running: boolean; failed: Record<string, number> };

export async function workerState(pool: pg.Pool, running: () => Promise<boolean>): Promise<WorkerState> {
  const [report, up] = await Promise.all([healthReport(pool), running()]);
  return { running: up, failed: { [METER_JOB_CLASS]: report.failed[QUEUES.meter] ?? 0 } };
}
