/**
 * The pre-flight health checks: the backend's /up, the schema the suite reads, and the plan limits
 * QuotaGuard enforces (the worker's state is the dialect's: helpers/dialect/worker-state.ts).
 * Pre-flight fails on them; verification and the failure diagnosis ask them again.
 */
import type { Dispatcher } from 'undici';
import { describeCall, httpJson } from '../clients/http';
import { missingSchemaItems, requiredSchema, type Queries } from '../clients/queries';
import { RUNBOOK_PLAN_LIMITS } from '../runbook';
import type { CredentialRow } from '../schemas';

export async function backendUpStatus(dispatcher: Dispatcher, baseUrl: string): Promise<number> {
  return (await httpJson(dispatcher, `${baseUrl.replace(/\/+$/, '')}/up`, { timeoutMs: 10_000 })).status;
}

/** What a stack says of itself on /up: the checkout that started it and its backend log (the reference stack's headers). */
export type StackIdentity = { status: number; checkout: string | null; backendLog: string | null };

export async function stackIdentity(dispatcher: Dispatcher, baseUrl: string): Promise<StackIdentity> {
  const response = await httpJson(dispatcher, `${baseUrl.replace(/\/+$/, '')}/up`, { timeoutMs: 10_000 });
  const header = (name: string) => {
    const value = response.headers?.[name];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  return { status: response.status, checkout: header('x-m1-stack-checkout'), backendLog: header('x-m1-backend-log') };
}

/**
 * Why a stack that answers at BASE_URL is not this run's own, or null when it is. A run that reuses
 * another checkout's stack reads a backend log that stack does not write, and fails a verification
 * later for a reason nobody can see; this says it at once.
 */
export function stackOwnershipProblem(
  identity: StackIdentity,
  expected: { checkout: string; backendLog: string | null; /** START_STACK=auto: a stack that does not say whose it is may not be reused. */ requireIdentity: boolean },
): string | null {
  if (identity.checkout === null && identity.backendLog === null) {
    // START_STACK=never: whatever answers is an external target by choice (a local Powernode, say).
    if (!expected.requireIdentity) return null;
    return 'the server at BASE_URL does not say which checkout started it (no x-m1-stack-checkout on /up), so the run cannot tell its logs apart: stop it, or set START_STACK=never to test it as an external target';
  }
  if (identity.checkout !== null && identity.checkout !== expected.checkout) {
    return `the stack at BASE_URL was started from ${identity.checkout}, not from this checkout (${expected.checkout}): stop it (cd ${identity.checkout} && npm run stack -- --stop) or give this run other ports`;
  }
  if (expected.backendLog !== null && identity.backendLog !== null && identity.backendLog !== expected.backendLog) {
    return `the stack at BASE_URL writes its backend log to ${identity.backendLog}, but this run reads ${expected.backendLog}: set BACKEND_LOG_FILE to its log, or restart the stack from this checkout`;
  }
  return null;
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
