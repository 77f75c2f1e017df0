/**
 * The failure diagnosis's probes: the pre-flight health checks again (helpers/preflight/health.ts),
 * and what a failing test touched: the backend log, Vultr, Stripe and its webhook deliveries, and
 * the test's own NodeInstances. Then what the known-variant hints read (variant-hints.ts): the
 * failing test's sightings, and a few cheap questions to the target.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { MissingLogError, readBackendLog, scanForServerErrors } from '../clients/backend-log';
import type { Config } from '../config';
import { dialectOf } from '../dialect';
import { LOG_FORMATS, type LogFormat } from '../dialect/log-format';
import { WorkerStateError } from '../dialect/worker-state';
import type { ProbeResults, StuckInstance, VultrReachability } from './diagnosis';
import { httpJson, noAnswerCode } from '../clients/http';
import type { Payments } from '../system/payments';
import type { Queries } from '../clients/queries';
import { backendUpStatus, credentialHealth, missingSchema } from '../preflight/health';
import { CREDENTIAL_FAILURES_UNHEALTHY, RUNBOOK_PLAN_LIMITS } from '../runbook';
import { VultrApiError, type VultrClient } from '../clients/vultr';
import { variantHints, type HintEvidence, type PageSighting } from './variant-hints';

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The error's message, with its network code when the message does not already name it. */
const noAnswer = (error: unknown, code: string | null) => {
  const text = message(error);
  return code && !text.includes(code) ? `${text} (${code})` : text;
};

/** GET /account with the suite's key: accepted, rejected (401/403), rate limited (429) or no answer. */
export async function vultrReachability(vultr: Pick<VultrClient, 'account'>): Promise<VultrReachability> {
  try {
    await vultr.account();
    return { outcome: 'accepted', detail: 'GET /account answered 200' };
  } catch (error) {
    if (error instanceof VultrApiError && (error.status === 401 || error.status === 403)) {
      return { outcome: 'rejected', detail: `${error.call} answered ${error.status}: ${error.vultrMessage}` };
    }
    if (error instanceof VultrApiError && error.status === 429) {
      return { outcome: 'rate_limited', detail: `${error.call} kept answering 429 through the client's backoff: ${error.vultrMessage}` };
    }
    const code = noAnswerCode(error);
    if (code) return { outcome: 'unreachable', detail: `GET /account got no answer: ${noAnswer(error, code)}` };
    throw error;
  }
}

/** Whether the Stripe API answers at all; an answer that is an error (a bad key) is pre-flight's to report. */
export async function stripeReachability(payments: Pick<Payments, 'probe'>, apiBase: string): Promise<{ reachable: boolean; detail: string }> {
  try {
    await payments.probe();
    return { reachable: true, detail: `${apiBase} answered` };
  } catch (error) {
    const connection = (error as { type?: unknown }).type === 'StripeConnectionError';
    const code = noAnswerCode(error);
    if (connection || code) return { reachable: false, detail: `${apiBase} gave no answer: ${noAnswer(error, code)}` };
    throw error;
  }
}

/**
 * A delivery in flight is not a failed one: events younger than this are left out. Stripe's first
 * attempt follows an event within seconds; a failed one is retried for days.
 */
export const WEBHOOK_GRACE_SECONDS = 5;

export async function undeliveredWebhooks(
  payments: Pick<Payments, 'undeliveredEvents'>,
  since: Date,
  now: Date = new Date(),
): Promise<{ id: string; type: string }[]> {
  const cutoff = Math.floor(now.getTime() / 1000) - WEBHOOK_GRACE_SECONDS;
  return (await payments.undeliveredEvents(since)).filter((e) => e.created <= cutoff).map(({ id, type }) => ({ id, type }));
}

const MAX_LOG_LINES = 5;
const MAX_LINE_CHARS = 300;

/** 5xx answers in the backend log since `since`; the first few lines verbatim (the caller redacts). */
export async function serverErrorsSince(
  read: () => Promise<{ source: string; text: string }>,
  since: Date,
  format: LogFormat = LOG_FORMATS.json,
): Promise<{ source: string; count: number; lines: string[] }> {
  const { source, text } = await read();
  const { serverErrors } = scanForServerErrors(text, since, format);
  const clip = (line: string) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS - 1)}…` : line);
  return { source, count: serverErrors.length, lines: serverErrors.slice(0, MAX_LOG_LINES).map((e) => clip(e.line)) };
}

const IN_FLIGHT = new Set(['pending', 'provisioning', 'starting']);
/** How long the probe may wait for an in-flight instance to reach its provisioning deadline. */
export const SETTLE_MS = 10_000;

export type StuckInstanceDeps = {
  queries: Pick<Queries, 'accountsByEmails' | 'nodeInstances'>;
  vultr: Pick<VultrClient, 'instance'>;
  /** PROVISION_TIMEOUT_MS: how long provisioning may take before it counts as timed out. */
  timeoutMs: number;
  settleMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
};

/**
 * The identities' NodeInstances that did not reach running within PROVISION_TIMEOUT_MS of their
 * creation, with what Vultr says of each now. Counted: an instance still pending, provisioning or
 * starting past the deadline, and one the worker failed past the deadline while its Vultr instance
 * was not yet active and powered on. Not counted: one still within its time (a test that fails
 * right after approve), and one failed before Vultr had an instance (credentials, region: other
 * rows). An instance due within `settleMs` is waited for, so a test and the worker timing out
 * together are not told apart by who was first.
 */
export async function stuckInstances(deps: StuckInstanceDeps, emails: string[]): Promise<StuckInstance[]> {
  if (emails.length === 0) return [];
  const now = deps.now ?? Date.now;
  const settleMs = deps.settleMs ?? SETTLE_MS;
  const accountIds = [...new Set((await deps.queries.accountsByEmails(emails)).map((a) => a.account_id))];
  if (accountIds.length === 0) return [];
  let rows = await deps.queries.nodeInstances(accountIds);
  const dueIn = rows.filter((r) => IN_FLIGHT.has(r.status)).map((r) => deps.timeoutMs - (now() - r.created_at.getTime()));
  const wait = Math.max(0, ...dueIn.filter((ms) => ms > 0 && ms <= settleMs));
  if (wait > 0) {
    await (deps.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms))))(wait + 500);
    rows = await deps.queries.nodeInstances(accountIds);
  }
  const stuck: StuckInstance[] = [];
  for (const row of rows) {
    const ageMs = now() - row.created_at.getTime();
    if (ageMs < deps.timeoutMs) continue;
    const inFlight = IN_FLIGHT.has(row.status);
    if (!inFlight && (row.status !== 'error' || !row.provider_instance_id)) continue;
    const base = { name: row.name, status: row.status, ageSeconds: Math.round(ageMs / 1000) };
    if (!row.provider_instance_id) {
      stuck.push({ ...base, vultr: { kind: 'not_created' } });
      continue;
    }
    const id = row.provider_instance_id;
    let instance;
    try {
      instance = await deps.vultr.instance(id);
    } catch (error) {
      // An in-flight instance past its deadline is stuck whatever Vultr says; a failed one only
      // counts when Vultr shows it was not ready, which is unknown here.
      if (inFlight) stuck.push({ ...base, vultr: { kind: 'unreadable', id, error: message(error) } });
      else throw new Error(`Vultr instance ${id} of NodeInstance ${row.name}: ${message(error)}`, { cause: error });
      continue;
    }
    if (instance === null) {
      if (inFlight) stuck.push({ ...base, vultr: { kind: 'gone', id } });
      continue;
    }
    const ready = instance.status === 'active' && instance.power_status === 'running';
    if (inFlight || !ready) {
      stuck.push({ ...base, vultr: { kind: 'found', id, status: instance.status, power_status: instance.power_status, server_status: instance.server_status ?? 'not given' } });
    }
  }
  return stuck;
}

export type ProbeDeps = {
  config: Config;
  dispatcher: Dispatcher;
  queries: Queries;
  vultr: VultrClient;
  payments: Pick<Payments, 'probe' | 'undeliveredEvents'>;
  /**
   * The failing test: when it started, the e-mails of the identities it used, what its pages
   * showed, and how to read one of its missions as its own identity would (`data` of the answer).
   */
  test?: { startedAt: Date; emails: string[]; sightings?: PageSighting[]; readMission?: () => Promise<unknown> };
  readLog?: () => Promise<{ source: string; text: string }>;
};

/** A mission id no target holds: its GET answers an error in the target's envelope. */
const NO_MISSION = '00000000-0000-4000-8000-000000000000';

/** Rails request lines, in any journald output format. */
const RAILS_COMPLETED = /\bCompleted \d{3}\b/;

const storedPlanSchema = z.looseObject({
  cost_estimate: z
    .looseObject({
      monthly_usd: z.coerce.number().optional(),
      hours_per_month: z.coerce.number().optional(),
      lines: z.array(z.looseObject({ name: z.string() })).optional(),
    })
    .optional(),
});

/**
 * What the known-variant hints read, each part on its own: a part that cannot be read is left out
 * (a hint is a suggestion, never a probe error of its own).
 */
export async function hintEvidence(deps: ProbeDeps, seen: { log?: HintEvidence['log']; workerHealthAnswer?: number }): Promise<HintEvidence> {
  const evidence: HintEvidence = { sightings: deps.test?.sightings ?? [], ...seen };
  const quietly = async (probe: () => Promise<void>) => {
    try {
      await probe();
    } catch {
      // Left out: see above.
    }
  };
  await quietly(async () => {
    evidence.nodeInstanceColumns = (await deps.queries.schemaColumns(['system_node_instances'])).map((c) => c.column_name);
  });
  await quietly(async () => {
    const base = deps.config.BASE_URL.replace(/\/+$/, '');
    evidence.errorBody = (await httpJson(deps.dispatcher, `${base}/api/v1/ai/missions/${NO_MISSION}`, { timeoutMs: 5_000 })).json;
  });
  const emails = deps.test?.emails ?? [];
  if (emails.length === 0) return evidence;
  const accountIds = [...new Set((await deps.queries.accountsByEmails(emails).catch(() => [])).map((a) => a.account_id))];
  await quietly(async () => {
    const stored = storedPlanSchema.safeParse(await deps.queries.latestPlan(accountIds));
    const cost = stored.success ? stored.data.cost_estimate : undefined;
    if (cost) evidence.plan = { monthlyUsd: cost.monthly_usd ?? null, hoursPerMonth: cost.hours_per_month ?? null, lineNames: (cost.lines ?? []).map((l) => l.name) };
  });
  await quietly(async () => {
    evidence.chatPaywall = await deps.queries.chatPaywall(accountIds);
  });
  const readMission = deps.test?.readMission;
  if (readMission) {
    await quietly(async () => {
      evidence.missionData = await readMission();
    });
  }
  return evidence;
}

/** Runs every probe, recording (not throwing) the ones that could not run. */
export async function probeSystem(deps: ProbeDeps): Promise<ProbeResults> {
  const results: ProbeResults = { probeErrors: [] };
  const attempt = async (what: string, probe: () => Promise<void>) => {
    try {
      await probe();
    } catch (error) {
      results.probeErrors.push(`${what}: ${message(error)}`);
    }
  };
  await attempt('backend /up', async () => {
    results.backendUp = (await backendUpStatus(deps.dispatcher, deps.config.BASE_URL)) === 200;
  });
  const dialect = dialectOf(deps.config);
  const seen: { log?: HintEvidence['log']; workerHealthAnswer?: number } = {};
  const test = deps.test;
  if (test) {
    const read = deps.readLog ?? (() => readBackendLog(deps.config));
    await attempt('backend log', async () => {
      const log = await read().catch((error: unknown) => {
        // No log where BACKEND_LOG_FILE says: public Powernode's journal may be beside it.
        if (error instanceof MissingLogError) {
          const journal = join(dirname(error.path), 'backend.journal');
          if (existsSync(journal)) seen.log = { journalBeside: journal };
        }
        throw error;
      });
      seen.log = { jsonLines: LOG_FORMATS.json.entries(log.text).length, railsLines: log.text.split('\n').filter((l) => RAILS_COMPLETED.test(l)).length };
      results.serverErrors = await serverErrorsSince(() => Promise.resolve(log), test.startedAt, dialect.log);
    });
  }
  await attempt('schema', async () => {
    results.missingSchema = await missingSchema(deps.queries, deps.config.NODE_INSTANCE_PROVIDER_ID_SQL);
  });
  await attempt('AI provider quota', async () => {
    const row = await deps.queries.aiProvider('pro_cloud');
    results.aiQuota = row ? { current: row.current_quota_usage, limit: row.quota_limit } : null;
  });
  await attempt('worker health', async () => {
    try {
      const state = await dialect.worker.read({ url: deps.config.WORKER_HEALTH_URL, command: deps.config.WORKER_STATE_COMMAND, dispatcher: deps.dispatcher });
      results.workerStatus = state.running ? 'ok' : 'not running';
    } catch (error) {
      results.workerStatus = null;
      if (error instanceof WorkerStateError && error.httpStatus !== undefined) results.workerHealthAnswer = seen.workerHealthAnswer = error.httpStatus;
    }
  });
  await attempt('platform-pool credential', async () => {
    const credentials = await deps.queries.platformPoolCredentials();
    results.activePlatformCredentials = credentials.filter((c) => c.is_active).length;
    results.unhealthyPlatformCredentials = credentialHealth(credentials, CREDENTIAL_FAILURES_UNHEALTHY).problems;
  });
  await attempt('Vultr GET /account', async () => {
    results.vultrApi = await vultrReachability(deps.vultr);
  });
  await attempt('Stripe API', async () => {
    results.stripeApi = await stripeReachability(deps.payments, deps.config.STRIPE_API_BASE);
  });
  // Each needs an API the probes above found answering; otherwise it says why it did not run.
  if (test) {
    if (results.stripeApi?.reachable) {
      await attempt('Stripe webhook deliveries', async () => {
        results.undeliveredWebhooks = await undeliveredWebhooks(deps.payments, test.startedAt);
      });
    } else results.probeErrors.push('Stripe webhook deliveries: not checked, the Stripe API did not answer');
    if (results.vultrApi?.outcome === 'accepted') {
      await attempt('provisioning', async () => {
        const deadline = { timeoutMs: deps.config.PROVISION_TIMEOUT_MS };
        results.stuckInstances = await stuckInstances({ queries: deps.queries, vultr: deps.vultr, ...deadline }, test.emails);
      });
    } else if (test.emails.length > 0) {
      results.probeErrors.push(`provisioning: not checked, Vultr GET /account was ${results.vultrApi ? results.vultrApi.outcome.replace('_', ' ') : 'not answered'}`);
    }
  }
  await attempt('plan limits', async () => {
    results.planLimits = await deps.queries.plans(Object.keys(RUNBOOK_PLAN_LIMITS));
  });
  results.hints = variantHints(await hintEvidence(deps, seen), deps.config);
  return results;
}
