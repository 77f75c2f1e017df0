/**
 * Runbook-level reads of the backend's state, for specs: each method answers one question a step
 * asks ("what did bootstrap create?", "is the instance running yet?", "is the schema current?").
 * Probes used with expect.poll answer null until what the step waits for is there, and then answer
 * it, so the step asserts on what the poll saw; they throw at once on a terminal failure (an
 * instance in `error`) instead of waiting out the timeout.
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dispatcher } from 'undici';
import { readBackendLog, scanForServerErrors, type LogScan } from '../clients/backend-log';
import { pollable } from '../clients/http';
import type { Queries } from '../clients/queries';
import type { Config } from '../config';
import type { Dialect } from '../dialect';
import type { ApproveAnswer, MissionOutcome, Refusal } from '../dialect/paywall';
import type { WorkerState } from '../dialect/worker-state';
import { impliedHoursPerMonth, spendFromUsageRecords } from '../metering';
import {
  backendUpStatus,
  credentialHealth,
  missingSchema,
  pendingMigrations,
  rollupEndpointStatus,
  stackIdentity,
  stackOwnershipProblem,
  stalePlans,
} from '../preflight/health';
import { FUNNEL_LABEL, runEmailPattern } from '../run/identity-emails';
import { CREDENTIAL_FAILURES_UNHEALTHY, NODE_INSTANCE_FAILURES, planLimits, type PlanLimitsConfig } from '../runbook';
import type { AccountRow, MissionRow, NodeInstanceRow, UsageRecordRow } from '../schemas';

/** This checkout (helpers/system/backend.ts is two folders below it), as the reference stack reports its own. */
const CHECKOUT = realpathSync(resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'));

export type BackendConfig = Pick<
  Config,
  | 'BASE_URL'
  | 'WORKER_HEALTH_URL'
  | 'WORKER_STATE_COMMAND'
  | 'START_STACK'
  | 'E2E_EMAIL_DOMAIN'
  | 'NODE_INSTANCE_PROVIDER_ID_SQL'
  | 'BACKEND_LOG_COMMAND'
  | 'BACKEND_LOG_FILE'
  | 'INTERNAL_API_TOKEN'
  | 'REQUIRED_MIGRATIONS'
  | 'IN_FLIGHT_MISSION_STATUSES'
  | 'EXPECTED_MONTHLY_COST_USD'
  | 'EXPECTED_INSTANCE_TYPE'
> &
  PlanLimitsConfig;

/** Mission statuses after which the worker will not change the mission again (CONTRACT 4 additions: completed | failed). */
const SETTLED_MISSION_STATUSES = ['completed', 'failed'];

export class Backend {
  constructor(
    private readonly queries: Queries,
    private readonly dispatcher: Dispatcher,
    private readonly config: BackendConfig,
    private readonly dialect: Pick<Dialect, 'worker' | 'log' | 'paywall'>,
  ) {}

  // ---------------------------------------------------------------- health (pre-flight, verification)

  /** The status GET /up answers. */
  upStatus(): Promise<number> {
    return backendUpStatus(this.dispatcher, this.config.BASE_URL);
  }

  /** Why the stack answering at BASE_URL is not this checkout's own (and its log not the one this run reads), or null. */
  async stackOwnershipProblem(): Promise<string | null> {
    const identity = await stackIdentity(this.dispatcher, this.config.BASE_URL);
    const backendLog = this.config.BACKEND_LOG_COMMAND ? null : resolve(process.cwd(), this.config.BACKEND_LOG_FILE);
    return stackOwnershipProblem(identity, { checkout: CHECKOUT, backendLog, requireIdentity: this.config.START_STACK === 'auto' });
  }

  /** The worker's state: running or not, and its failed jobs by name (from its health URL or an operator command). */
  workerState(): Promise<WorkerState> {
    return this.dialect.worker.read({ url: this.config.WORKER_HEALTH_URL, command: this.config.WORKER_STATE_COMMAND, dispatcher: this.dispatcher });
  }

  /**
   * RUNBOOK pre-flight 1: the required migrations schema_migrations does not list
   * (REQUIRED_MIGRATIONS), then the tables and columns the suite reads that the database lacks.
   */
  async missingSchema(): Promise<string[]> {
    const columns = await missingSchema(this.queries, this.config.NODE_INSTANCE_PROVIDER_ID_SQL);
    // Without the table there is no list to compare: the column check names the table.
    const applied = columns.includes('table schema_migrations') ? [] : await this.queries.appliedMigrations();
    return [...pendingMigrations(applied, this.config.REQUIRED_MIGRATIONS), ...columns];
  }

  /** The plans whose limits are stale or missing against the configured limits, each with what is wrong. */
  async stalePlanLimits(): Promise<string[]> {
    const expected = planLimits(this.config);
    return stalePlans(await this.queries.plans(Object.keys(expected)), expected);
  }

  /** The runbook's fix for stale plan limits (UPDATE saas_plans SET limits = limits || ...), with the configured limits. */
  async refreshPlanLimits(): Promise<void> {
    for (const [slug, limits] of Object.entries(planLimits(this.config))) await this.queries.mergePlanLimits(slug, limits);
  }

  /** How many operator-managed (platform-pool) Vultr credentials are active. */
  async activePlatformPoolCredentials(): Promise<number> {
    return (await this.queries.platformPoolCredentials()).filter((c) => c.is_active).length;
  }

  /** RUNBOOK pre-flight 3: the active platform-pool credentials' own health (consecutive failures, last error). */
  async platformPoolCredentialHealth(): Promise<{ problems: string[]; notes: string[] }> {
    return credentialHealth(await this.queries.platformPoolCredentials(), CREDENTIAL_FAILURES_UNHEALTHY);
  }

  /** RUNBOOK pre-flight 5: how the internal rollup endpoint answers INTERNAL_API_TOKEN (a no-op rollup). */
  rollupEndpoint(): Promise<{ status: number; call: string }> {
    return rollupEndpointStatus(this.dispatcher, this.config.BASE_URL, this.config.INTERNAL_API_TOKEN);
  }

  /** The backend log read and scanned for 5xx answers since a moment, with where it was read. */
  async logSince(since: Date): Promise<LogScan & { source: string }> {
    const log = await readBackendLog(this.config);
    return { source: log.source, ...scanForServerErrors(log.text, since, this.dialect.log) };
  }

  // ---------------------------------------------------------------- the run's accounts

  /** The accounts of one run's funnel identities (the ones verification checks). */
  funnelAccountsOfRun(runId: string) {
    return this.queries.accountsByEmailPattern(runEmailPattern(runId, this.config.E2E_EMAIL_DOMAIN, FUNNEL_LABEL));
  }

  /** The run's accounts and their NodeInstance rows in any status but terminated (the approve gate's count). */
  runHoldings(runId: string): Promise<{ accountIds: string[]; rows: { provider_instance_id: string | null }[] }> {
    return this.queries.runHoldings(runEmailPattern(runId, this.config.E2E_EMAIL_DOMAIN));
  }

  /** An approval's effect is visible: its mission has a NodeInstance row, or is no longer in flight. */
  approvalEffectVisible(missionId: string): Promise<boolean> {
    return this.queries.approvalEffectVisible(missionId, this.config.IN_FLIGHT_MISSION_STATUSES);
  }

  /** The account behind an identity's e-mail; throws when sign-up never created one. */
  async accountOf(email: string): Promise<AccountRow> {
    const user = await this.queries.userByEmail(email);
    const account = user ? await this.queries.account(user.account_id) : null;
    if (!account) throw new Error(`no account exists for ${email}: sign-up did not create one`);
    return account;
  }

  async account(accountId: string): Promise<AccountRow> {
    const account = await this.queries.account(accountId);
    if (!account) throw new Error(`account ${accountId} does not exist`);
    return account;
  }

  /** Probe: the account's Stripe customer id, or null until the account is linked to one. */
  async stripeCustomerId(accountId: string): Promise<string | null> {
    return (await this.account(accountId)).stripe_customer_id || null;
  }

  bootstrapCounts(accountId: string) {
    return this.queries.bootstrapCounts(accountId);
  }

  subscriptions(accountId: string) {
    return this.queries.subscriptions(accountId);
  }

  /** The status of the account's latest subscription, or null when it has none. */
  async subscriptionStatus(accountId: string): Promise<string | null> {
    const rows = await this.queries.subscriptions(accountId);
    return rows.at(-1)?.status ?? null;
  }

  async activeSubscriptionCount(accountId: string): Promise<number> {
    return (await this.queries.subscriptions(accountId)).filter((s) => s.status === 'active').length;
  }

  /** Probe: the account's newest mission not among `known` (earlier missions), or null until one exists. */
  async newMission(accountId: string, known: string[] = []): Promise<MissionRow | null> {
    const missions = await this.queries.missions(accountId);
    return missions.filter((m) => !known.includes(m.id)).at(-1) ?? null;
  }

  /** The account's newest mission; throws when it has none (no brief was captured). */
  async latestMission(accountId: string): Promise<MissionRow> {
    const mission = await this.newMission(accountId);
    if (!mission) throw new Error(`account ${accountId} has no mission: the brief was not captured`);
    return mission;
  }

  /**
   * Probe: a mission's outcome once it has settled (completed or failed), as the worker wrote it,
   * else null, so a poll stops as soon as the worker is done, whatever the outcome, and the caller
   * then asserts the outcome itself. Read from the database: public Powernode's mission API
   * carries no error code. Throws when the mission does not exist.
   */
  async settledMission(missionId: string): Promise<MissionOutcome | null> {
    const row = await pollable(() => this.queries.mission(missionId));
    if (typeof row === 'string') return null;
    if (!row) throw new Error(`mission ${missionId} does not exist`);
    return SETTLED_MISSION_STATUSES.includes(row.status) ? { status: row.status, error_code: row.error_code } : null;
  }

  /**
   * Probe for RUNBOOK step 5 and the QuotaGuard negative path: whether the paywall refused an
   * approve, where this target's paywall shows (PAYWALL_SOURCE): the approve's own answer, or the
   * mission the worker failed after an approve that answered 200. Null until that can be told.
   */
  paywallRefusal(answer: ApproveAnswer): Promise<Refusal | null> {
    return this.dialect.paywall.refusal(answer, (missionId) => this.settledMission(missionId));
  }

  nodeInstances(accountId: string): Promise<NodeInstanceRow[]> {
    return this.queries.nodeInstances([accountId]);
  }

  usageRecords(accountId: string) {
    return this.queries.usageRecords([accountId]);
  }

  /** The account's hourly price of an instance type, from system_provider_instance_types; throws when it has none. */
  async instanceTypePrice(accountId: string, instanceTypeCode: string): Promise<number> {
    const price = await this.queries.instanceTypePrice(accountId, instanceTypeCode);
    if (price === null) throw new Error(`account ${accountId} has no instance type ${instanceTypeCode} in system_provider_instance_types`);
    return price;
  }

  /**
   * RUNBOOK step 6's third source: live spend from the account's usage records alone, at the hours
   * the expected cost implies for the expected instance type's price (metering.ts).
   */
  async spendFromUsageRecords(accountId: string): Promise<{ monthly: number; today: number; running: number; hoursPerMonth: number; records: UsageRecordRow[] }> {
    const [records, price] = await Promise.all([this.usageRecords(accountId), this.instanceTypePrice(accountId, this.config.EXPECTED_INSTANCE_TYPE)]);
    const hoursPerMonth = impliedHoursPerMonth(this.config.EXPECTED_MONTHLY_COST_USD, price);
    return { ...spendFromUsageRecords(records, hoursPerMonth), hoursPerMonth, records };
  }

  /** Whether a mission has left the statuses in which a worker may still act on it (approved, running). */
  async missionSettled(missionId: string): Promise<boolean> {
    const status = await this.queries.missionStatus(missionId);
    if (status === null) throw new Error(`mission ${missionId} does not exist`);
    return !this.config.IN_FLIGHT_MISSION_STATUSES.includes(status);
  }

  /** The run's NodeInstances that reached the cloud, newest first (whose Vultr tags can be checked). */
  cloudNodeInstancesOfRun(runId: string, limit = 3): Promise<NodeInstanceRow[]> {
    return this.queries.cloudNodeInstancesOfRun(runEmailPattern(runId, this.config.E2E_EMAIL_DOMAIN), limit);
  }

  accountCredentials(accountId: string) {
    return this.queries.accountCredentials(accountId);
  }

  /**
   * Probe for RUNBOOK step 4: the account's NodeInstances once every one of them is running; null
   * before (none created yet, one still on its way, or a network blip). Throws as soon as one has
   * failed, so the poll stops there.
   */
  async runningNodeInstances(accountId: string): Promise<NodeInstanceRow[] | null> {
    const rows = await pollable(() => this.queries.nodeInstances([accountId]));
    if (typeof rows === 'string') return null;
    const failed = rows.find((r) => (NODE_INSTANCE_FAILURES as readonly string[]).includes(r.status));
    if (failed) throw new Error(`NodeInstance ${failed.id} (${failed.name}) is ${failed.status}: provisioning failed; see the worker log`);
    return rows.length > 0 && rows.every((r) => r.status === 'running') ? rows : null;
  }

  /** QuotaGuard negative path: the free account now has one active instance, created in the DB only. */
  giveActiveInstance(accountId: string): Promise<NodeInstanceRow> {
    return this.queries.insertNodeInstance({ accountId, name: 'e2e-quota-guard-existing-instance', status: 'running' });
  }
}
