/**
 * Health of the system under test as a whole: the backend's /up, the worker's health endpoint,
 * the schema. Shared by pre-flight (which fails on them), verification and the failure diagnosis.
 */
import type { Dispatcher } from 'undici';
import type { Config } from './config';
import type { ProbeResults } from './diagnosis';
import { describeCall, httpJson } from './http';
import { missingSchemaItems, requiredSchema, type Queries } from './queries';
import { RUNBOOK_PLAN_LIMITS } from './runbook';
import { workerHealthSchema } from './schemas';
import type { VultrClient } from './vultr';

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

/** Runs every probe, recording (not throwing) the ones that could not run. */
export async function probeSystem(deps: {
  config: Config;
  dispatcher: Dispatcher;
  queries: Queries;
  vultr: VultrClient;
}): Promise<ProbeResults> {
  const results: ProbeResults = { probeErrors: [] };
  const attempt = async (what: string, probe: () => Promise<void>) => {
    try {
      await probe();
    } catch (error) {
      results.probeErrors.push(`${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  await attempt('backend /up', async () => {
    results.backendUp = (await backendUpStatus(deps.dispatcher, deps.config.BASE_URL)) === 200;
  });
  await attempt('schema', async () => {
    results.missingSchema = await missingSchema(deps.queries, deps.config.NODE_INSTANCE_PROVIDER_ID_SQL);
  });
  await attempt('AI provider quota', async () => {
    const row = await deps.queries.aiProvider('pro_cloud');
    results.aiQuota = row ? { current: row.current_quota_usage, limit: row.quota_limit } : null;
  });
  await attempt('worker health', async () => {
    try {
      results.workerStatus = (await workerHealth(deps.dispatcher, deps.config.WORKER_HEALTH_URL)).status;
    } catch {
      results.workerStatus = null;
    }
  });
  await attempt('platform-pool credential', async () => {
    results.activePlatformCredentials = (await deps.queries.platformPoolCredentials()).filter((c) => c.is_active).length;
  });
  await attempt('Vultr key', async () => {
    try {
      await deps.vultr.account();
      results.vultrKeyValid = true;
    } catch (error) {
      if ((error as { status?: number }).status === 401 || (error as { status?: number }).status === 403) results.vultrKeyValid = false;
      else throw error;
    }
  });
  await attempt('plan limits', async () => {
    results.planLimits = await deps.queries.plans(Object.keys(RUNBOOK_PLAN_LIMITS));
  });
  return results;
}
