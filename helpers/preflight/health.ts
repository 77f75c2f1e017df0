/**
 * The pre-flight health checks: the backend's /up, the worker's health endpoint, the schema the
 * suite reads, and the plan limits QuotaGuard enforces. Pre-flight fails on them; verification and
 * the failure diagnosis ask them again.
 */
import type { Dispatcher } from 'undici';
import { describeCall, httpJson } from '../clients/http';
import { missingSchemaItems, requiredSchema, type Queries } from '../clients/queries';
import { RUNBOOK_PLAN_LIMITS } from '../runbook';
import { workerHealthSchema } from '../schemas';

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
export function stackOwnershipProblem(identity: StackIdentity, expected: { checkout: string; backendLog: string | null }): string | null {
  if (identity.checkout === null && identity.backendLog === null) {
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

/** The runbook plans whose limits are missing or differ from the runbook's (QuotaGuard reads them). */
export function stalePlans(plans: { slug: string; limits: Record<string, unknown> | null }[]): string[] {
  const stale: string[] = [];
  for (const [slug, expected] of Object.entries(RUNBOOK_PLAN_LIMITS)) {
    const row = plans.find((p) => p.slug === slug);
    if (!row) {
      stale.push(`${slug} (no plan row)`);
      continue;
    }
    const wrong = Object.entries(expected).filter(([key, value]) => row.limits?.[key] !== value);
    if (wrong.length > 0) stale.push(`${slug} (${wrong.map(([k, v]) => `${k} is ${JSON.stringify(row.limits?.[k] ?? null)}, expected ${v}`).join('; ')})`);
  }
  return stale;
}
