/**
 * The pre-flight health checks: the backend's /up, the schema the suite reads, and the plan limits
 * QuotaGuard enforces (the worker's state is the dialect's: helpers/dialect/worker-state.ts).
 * Pre-flight fails on them; verification and the failure diagnosis ask them again.
 */
import type { Dispatcher } from 'undici';
import { httpJson } from '../clients/http';
import { missingSchemaItems, requiredSchema, type Queries } from '../clients/queries';
import { RUNBOOK_PLAN_LIMITS } from '../runbook';

export async function backendUpStatus(dispatcher: Dispatcher, baseUrl: string): Promise<number> {
  return (await httpJson(dispatcher, `${baseUrl.replace(/\/+$/, '')}/up`, { timeoutMs: 10_000 })).status;
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
