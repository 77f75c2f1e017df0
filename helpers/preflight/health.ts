/**
 * The pre-flight health checks: the backend's /up, the worker's health endpoint, the schema the
 * suite reads, and the plan limits QuotaGuard enforces. Pre-flight fails on them; verification and
 * the failure diagnosis ask them again.
 */
import type { Dispatcher } from 'undici';
import { describeCall, httpJson } from '../clients/http';
import { missingSchemaItems, requiredSchema, type Queries } from '../clients/queries';
import { RUNBOOK_PLAN_LIMITS } from '../runbook';
import { workerHealthSchema, type CredentialRow } from '../schemas';

export async function backendUpStatus(dispatcher: Dispatcher, baseUrl: string): Promise<number> {
  return (await httpJson(dispatcher, `${baseUrl.replace(/\/+$/, '')}/up`, { timeoutMs: 10_000 })).status;
}

export async function workerHealth(dispatcher: Dispatcher, url: string) {
  const response = await httpJson(dispatcher, url, { timeoutMs: 10_000 });
  const parsed = workerHealthSchema.safeParse(response.json);
  if (!parsed.success) throw new Error(`${describeCall('GET', url)} answered ${response.status} without {status, failed}`);
  return parsed.data;
}

export async function missingSchema(queries: Queries, providerIdSql: string): Promise<string[]> {
  const required = requiredSchema(providerIdSql);
  return missingSchemaItems(required, await queries.schemaColumns(Object.keys(required)));
}

/**
 * The plans whose limits are missing or differ from the expected ones (QuotaGuard reads them):
 * the configured limits in pre-flight (runbook.ts planLimits), the runbook's own by default.
 */
export function stalePlans(
  plans: { slug: string; limits: Record<string, unknown> | null }[],
  expectedLimits: Record<string, Record<string, unknown>> = RUNBOOK_PLAN_LIMITS,
): string[] {
  const stale: string[] = [];
  for (const [slug, expected] of Object.entries(expectedLimits)) {
    const row = plans.find((p) => p.slug === slug);
    if (!row) {
      stale.push(`${slug} (no plan row)`);
      continue;
    }
    const wrong = Object.entries(expected).filter(([key, value]) => row.limits?.[key] !== value);
    if (wrong.length > 0) stale.push(`${slug} (${wrong.map(([k, v]) => `${k} is ${JSON.stringify(row.limits?.[k] ?? null)}, expected ${JSON.stringify(v)}`).join('; ')})`);
  }
  return stale;
}

/** RUNBOOK pre-flight 1: the required migrations schema_migrations does not list as applied. */
export function pendingMigrations(applied: readonly string[], required: readonly string[]): string[] {
  const done = new Set(applied);
  return required.filter((version) => !done.has(version)).map((version) => `migration ${version}`);
}

/**
 * RUNBOOK pre-flight 3, the stored platform-pool credentials' own health: an active row that
 * Vultr keeps refusing is a problem (with its last error); a failure or two below `unhealthyAt`,
 * or a last error left from an earlier refusal, is a note worth showing.
 */
export function credentialHealth(credentials: CredentialRow[], unhealthyAt: number): { problems: string[]; notes: string[] } {
  const problems: string[] = [];
  const notes: string[] = [];
  for (const c of credentials.filter((row) => row.is_active)) {
    const failures = `${c.consecutive_failures} consecutive failure${c.consecutive_failures === 1 ? '' : 's'}`;
    const lastError = `last error: ${c.last_error ?? 'none'}`;
    if (c.consecutive_failures >= unhealthyAt) problems.push(`platform-pool credential ${c.id}: ${failures} (${lastError})`);
    else if (c.consecutive_failures > 0 || c.last_error) notes.push(`platform-pool credential ${c.id}: ${failures} (${lastError})`);
  }
  return { problems, notes };
}

/** The internal rollup endpoint the meter job posts to (RUNBOOK pre-flight 5, CONTRACT 4). */
export const ROLLUP_PATH = '/api/v1/internal/billing/provisioning/meter/rollup';

/**
 * RUNBOOK pre-flight 5: asks the rollup endpoint, with INTERNAL_API_TOKEN, to roll up what was
 * metered before the epoch. No record is that old, so the probe changes nothing; what it learns
 * is whether the endpoint exists (404 when it does not) and takes the token.
 */
export async function rollupEndpointStatus(dispatcher: Dispatcher, baseUrl: string, token: string): Promise<{ status: number; call: string }> {
  const url = `${baseUrl.replace(/\/+$/, '')}${ROLLUP_PATH}`;
  const response = await httpJson(dispatcher, url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: { now: new Date(0).toISOString() },
    timeoutMs: 10_000,
  });
  return { status: response.status, call: describeCall('POST', url) };
}
