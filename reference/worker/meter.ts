/**
 * The `billing.provisioning_meter` job: asks the API server to roll pending usage records up.
 * A non-2xx answer throws, so the job is recorded as failed and shows on the health endpoint
 * (RUNBOOK Verification: "no failed meter jobs"), instead of failing silently.
 */
import { hasFault, type FaultName } from '../lib/faults';

export const ROLLUP_PATH = '/api/v1/internal/billing/provisioning/meter/rollup';

export type MeterSettings = { baseUrl: string; internalApiToken: string };

export type MeterResult = { metered_count?: number; invoiced_count?: number };

export async function runMeterJob(
  settings: MeterSettings,
  data: { now?: string } = {},
  faults: (name: FaultName) => boolean = hasFault,
  fetchImpl: typeof fetch = fetch,
): Promise<MeterResult> {
  const now = data.now ?? new Date().toISOString();
  // The fault reproduces a deployment whose worker lacks the internal token: every rollup is a 401.
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (!faults('meter_job_failing')) headers.authorization = `Bearer ${settings.internalApiToken}`;

  const response = await fetchImpl(`${settings.baseUrl}${ROLLUP_PATH}`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ now }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`meter rollup answered ${response.status}: ${text.slice(0, 200)}`);
  try {
    const body = JSON.parse(text) as { data?: MeterResult } & MeterResult;
    return body.data ?? body;
  } catch {
    throw new Error(`meter rollup answered ${response.status} with a body that is not JSON`);
  }
}
