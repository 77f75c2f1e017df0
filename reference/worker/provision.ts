/**
 * The `provisioning.execute` job: runs an approved mission's steps in order, creating one
 * NodeInstance and one Vultr VM per instance the step's plan node asks for (CONTRACT 6.7, 6.8).
 *
 * State lives in the database; every step and mission transition is NOTIFYed on the mission
 * events channel from inside the transaction that wrote it, so the page hears of it on commit.
 * Failures are outcomes, not exceptions: the mission is marked failed with an error code and the
 * job completes. Only an unexpected error (the database went away) fails the job.
 */
import type pg from 'pg';
import { decryptSecret } from '../lib/crypto';
import { publishMissionEvent } from '../lib/events';
import { cloudIdSql } from '../db/node-instances';
import { hasFault, SLOW_PROVISIONING_DELAY_MS, type FaultName } from '../lib/faults';
import { hasVariant, type Variants } from '../lib/variants';
import type { ProvisionJob } from '../lib/queue';
import { createsInstances } from '../rules/composer';
import type { PlanNode } from '../rules/step-collapse';
import { inTransaction, type Queryable } from './db';
import {
  DEFAULT_OS_ID,
  ProCloudProvider,
  VULTR_REGIONS,
  VultrApiError,
  VultrAuthError,
  VultrUnreachableError,
  type VultrInstance,
} from './pro-cloud-provider';
import { checkInstanceQuota, checkMissionQuota, postUpgradeRequired } from './quota';

export const CREDENTIALS_INVALID_MESSAGE = 'Vultr credentials missing or invalid';
/**
 * How often a booting instance is polled: the page sees `running` at most this late. 5 requests a
 * second per booting instance stays well inside Vultr's 30 per second per IP with a few in flight.
 */
export const DEFAULT_POLL_INTERVAL_MS = 200;

export type ProvisionSettings = {
  vultrApiUrl: string;
  credentialsEncryptionKey: string;
  provisionTimeoutMs: number;
  pollIntervalMs: number;
};

export type ProvisionDeps = {
  pool: pg.Pool;
  settings: ProvisionSettings;
  /** Defaults to the process's STACK_FAULTS; tests pass their own. */
  faults?: (name: FaultName) => boolean;
  /** Defaults to the process's STACK_VARIANTS; tests pass their own. */
  variants?: Variants;
  /** Aborted when the worker shuts down; the mission is then failed rather than left running. */
  signal?: AbortSignal;
  providerFor?: (apiKey: string) => ProCloudProvider;
};

export type ProvisionOutcome =
  | { outcome: 'completed'; node_instance_ids: string[] }
  | { outcome: 'failed'; error_code: string; error_message: string }
  | { outcome: 'skipped'; reason: string };

type MissionRow = {
  id: string;
  account_id: string;
  conversation_id: string;
  status: string;
  phase: string;
  plan: { dag?: { nodes?: PlanNode[] }; cost_estimate?: { monthly_usd?: number; lines?: { count?: number }[] } } | null;
};
type StepRow = { id: string; step_id: string; skill: string; position: number };
type InstanceTypeRow = { id: string; instance_type_code: string; hourly_price: number };

/** A business failure: the mission ends `failed` with this code; the job itself succeeds. */
class MissionFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class MissionAlreadyClaimed extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isProvisionJob(data: unknown): data is ProvisionJob {
  const job = data as Partial<Record<keyof ProvisionJob, unknown>> | null;
  return (
    typeof job === 'object' &&
    job !== null &&
    [job.mission_id, job.account_id, job.credential_id].every((v) => typeof v === 'string' && UUID.test(v))
  );
}

export function instanceName(missionId: string, n: number): string {
  return `pn-${missionId.slice(0, 8)}-${n}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describeVultrStatus(instance: VultrInstance): string {
  return `status ${instance.status}, power_status ${instance.power_status}, server_status ${instance.server_status}`;
}

export async function provisionMission(deps: ProvisionDeps, job: ProvisionJob): Promise<ProvisionOutcome> {
  if (!isProvisionJob(job)) throw new Error('invalid provisioning job payload: expects {mission_id, account_id, credential_id} uuids');
  const { pool } = deps;
  const faults = deps.faults ?? hasFault;
  const variants = deps.variants ?? hasVariant;

  const missionResult = await pool.query<MissionRow>(
    'SELECT id, account_id, conversation_id, status, phase, plan FROM ai_missions WHERE id = $1 AND account_id = $2',
    [job.mission_id, job.account_id],
  );
  const mission = missionResult.rows[0];
  if (!mission) return { outcome: 'skipped', reason: 'mission not found for this account' };
  // A redelivered or duplicate job must not provision twice.
  if (mission.status !== 'approved') return { outcome: 'skipped', reason: `mission is ${mission.status}, not approved` };

  const steps = (
    await pool.query<StepRow>('SELECT id, step_id, skill, position FROM ai_mission_steps WHERE mission_id = $1 ORDER BY position', [
      mission.id,
    ])
  ).rows;
  const nodes = mission.plan?.dag?.nodes ?? [];

  let provider: ProCloudProvider | undefined;
  const resolveProvider = async (): Promise<ProCloudProvider> => {
    provider ??= await providerForCredential(deps, job, faults);
    return provider;
  };

  const instanceIds: string[] = [];
  let current: StepRow | undefined;
  // A failed mission may be approved again; its retry's instances continue the numbering.
  let instanceNumber = (
    await pool.query<{ count: number }>('SELECT count(*)::int AS count FROM system_node_instances WHERE mission_id = $1', [mission.id])
  ).rows[0]!.count;
  try {
    if (faults('slow_provisioning')) await sleep(SLOW_PROVISIONING_DELAY_MS, deps.signal);
    if (steps.length === 0) throw new MissionFailure('plan_invalid', 'the approved mission has no steps to execute');
    // Public Powernode (paywall_in_chat) runs QuotaGuard here, before any step, instead of on approve.
    if (variants('paywall_in_chat') && !faults('quota_guard_disabled') && !faults('quota_after_vultr')) {
      const denied = await checkMissionQuota(pool, mission.account_id, mission.plan, { faults, variants });
      if (denied) {
        await failMission(pool, mission, undefined, 'upgrade_required', denied.message, (client) => postUpgradeRequired(client, mission, denied));
        return { outcome: 'failed', error_code: 'upgrade_required', error_message: denied.message };
      }
    }
    for (const [index, step] of steps.entries()) {
      current = step;
      await startStep(pool, mission, step, index === 0);
      const node = nodes.find((n) => n.id === step.step_id);
      if (!node || typeof node.params !== 'object' || node.params === null) {
        throw new MissionFailure('plan_invalid', `step ${step.step_id} is not in the mission's plan`);
      }
      // A network step, or the configure/boot stage of a split provision, has no VM to create
      // (the emulated Vultr API carries no VPC endpoints); such a step completes once reached.
      const count = createsInstances(node) ? node.params.count : 0;
      for (let i = 0; i < count; i++) {
        instanceNumber += 1;
        instanceIds.push(await provisionInstance({ deps, faults, variants, mission, node, n: instanceNumber, resolveProvider, job }));
      }
      await finishStep(pool, mission, step);
    }
    await completeMission(pool, mission);
    return { outcome: 'completed', node_instance_ids: instanceIds };
  } catch (error) {
    if (error instanceof MissionAlreadyClaimed) return { outcome: 'skipped', reason: 'another worker claimed the mission' };
    if (error instanceof MissionFailure) {
      await failMission(pool, mission, current, error.code, error.message);
      return { outcome: 'failed', error_code: error.code, error_message: error.message };
    }
    if (deps.signal?.aborted) {
      const message = 'the worker stopped before provisioning finished';
      await failMission(pool, mission, current, 'worker_stopped', message);
      return { outcome: 'failed', error_code: 'worker_stopped', error_message: message };
    }
    await failMission(pool, mission, current, 'internal_error', 'provisioning failed unexpectedly; see the worker log').catch(
      () => undefined,
    );
    throw error;
  }
}

/** The Vultr adapter for the approve's credential (CONTRACT 6.7 b): an account's own key, or the platform pool's. */
async function providerForCredential(deps: ProvisionDeps, job: ProvisionJob, faults: (name: FaultName) => boolean): Promise<ProCloudProvider> {
  const result = await deps.pool.query<{ credentials: string; is_active: boolean; account_id: string | null; scope: number }>(
    'SELECT credentials, is_active, account_id, scope FROM system_provider_credentials WHERE id = $1',
    [job.credential_id],
  );
  const row = result.rows[0];
  // An account may use its own key or the platform pool, never another account's key.
  const usable = row && row.is_active && (row.scope === 1 || row.account_id === job.account_id);
  if (!usable) throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
  const provider = providerFor(deps, decryptOrFail(row.credentials, deps));
  if (row.scope === 1 || !faults('credential_scope_ignored')) return provider;
  // The defect: the account's key is proven (a bad one still fails closed, as the invalid-key
  // negative path expects), and then the instance is made with the platform pool's key, in the
  // pool's Vultr account, where the account's own key never sees it.
  await provider.getAccount().catch(async (error: unknown) => {
    if (error instanceof VultrApiError || error instanceof VultrUnreachableError) throw new MissionFailure('provider_error', error.message);
    if (!(error instanceof VultrAuthError)) throw error;
    await recordCredentialFailure(deps.pool, job.credential_id, error);
    throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
  });
  const pool = await deps.pool.query<{ credentials: string }>(
    `SELECT credentials FROM system_provider_credentials
      WHERE scope = 1 AND account_id IS NULL AND is_active ORDER BY created_at DESC LIMIT 1`,
  );
  if (!pool.rows[0]) throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
  return providerFor(deps, decryptOrFail(pool.rows[0].credentials, deps));
}

function decryptOrFail(credentials: string, deps: ProvisionDeps): string {
  try {
    return decryptSecret(credentials, deps.settings.credentialsEncryptionKey);
  } catch {
    throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
  }
}

function providerFor(deps: ProvisionDeps, apiKey: string): ProCloudProvider {
  return deps.providerFor ? deps.providerFor(apiKey) : new ProCloudProvider({ baseUrl: deps.settings.vultrApiUrl, apiKey });
}

type InstanceContext = {
  deps: ProvisionDeps;
  faults: (name: FaultName) => boolean;
  variants: Variants;
  mission: MissionRow;
  node: PlanNode;
  n: number;
  job: ProvisionJob;
  resolveProvider: () => Promise<ProCloudProvider>;
};

/** One NodeInstance through pending → provisioning → starting → running; returns its id. */
async function provisionInstance(ctx: InstanceContext): Promise<string> {
  const { deps, faults, mission, node } = ctx;
  const { pool } = deps;
  const cloudId = cloudIdSql(ctx.variants);
  const regionCode = node.params.region ?? '';
  const typeCode = node.params.instance_type ?? '';

  const region = (
    await pool.query<{ id: string }>('SELECT id FROM system_provider_regions WHERE account_id = $1 AND region_code = $2', [
      mission.account_id,
      regionCode,
    ])
  ).rows[0];
  if (!region) throw new MissionFailure('plan_invalid', `the account has no region ${regionCode || '(none)'}; was it bootstrapped?`);
  const type = (
    await pool.query<InstanceTypeRow>(
      'SELECT id, instance_type_code, hourly_price FROM system_provider_instance_types WHERE account_id = $1 AND instance_type_code = $2',
      [mission.account_id, typeCode],
    )
  ).rows[0];
  if (!type) throw new MissionFailure('plan_invalid', `the account has no instance type ${typeCode || '(none)'}; was it bootstrapped?`);

  const name = instanceName(mission.id, ctx.n);
  const inserted = await pool.query<{ id: string }>(
    `INSERT INTO system_node_instances (account_id, mission_id, name, status, provider_region_id, provider_instance_type_id${cloudId.insertColumns})
     VALUES ($1, $2, $3, 'pending', $4, $5${cloudId.insertValues}) RETURNING id`,
    [mission.account_id, mission.id, name, region.id, type.id],
  );
  const instanceId = inserted.rows[0]!.id;
  await setInstanceStatus(pool, instanceId, 'provisioning');

  const vultrRegion = faults('region_unmapped') ? regionCode : VULTR_REGIONS[regionCode];
  if (!vultrRegion) {
    const message = `no Vultr region is mapped for ${regionCode}`;
    await failInstance(pool, instanceId, message);
    throw new MissionFailure('provider_error', message);
  }

  const provider = await ctx.resolveProvider().catch(async (error: unknown) => {
    if (error instanceof MissionFailure) await failInstance(pool, instanceId, error.message);
    throw error;
  });

  let created: VultrInstance;
  try {
    created = await provider.createInstance({
      region: vultrRegion,
      plan: type.instance_type_code,
      os_id: DEFAULT_OS_ID,
      label: name,
      hostname: name,
      tags: faults('vultr_tag_missing') ? ['powernode', `mission:${mission.id}`] : ['powernode', `account:${mission.account_id}`, `mission:${mission.id}`],
    });
  } catch (error) {
    if (error instanceof VultrAuthError) {
      await recordCredentialFailure(pool, ctx.job.credential_id, error);
      if (faults('credentials_fail_open')) {
        await markRunning(pool, faults, mission.account_id, instanceId, type, null);
        return instanceId;
      }
      await failInstance(pool, instanceId, error.message);
      throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
    }
    throw await providerFailure(pool, instanceId, error);
  }
  await recordCredentialSuccess(pool, ctx.job.credential_id);

  if (faults('quota_after_vultr')) {
    const decision = await checkInstanceQuota(pool, mission.account_id, instanceId);
    if (!decision.allowed) {
      const message = decision.message;
      await pool.query(
        `UPDATE system_node_instances SET status = 'error', ${cloudId.write('$2')}, last_error = $3, updated_at = now() WHERE id = $1`,
        [instanceId, created.id, message],
      );
      throw new MissionFailure('upgrade_required', message);
    }
  }

  const stored = await pool.query(
    `UPDATE system_node_instances SET status = 'starting', ${cloudId.write('$2')}, updated_at = now() WHERE id = $1`,
    [instanceId, created.id],
  );
  // The row was deleted while Vultr was creating the VM (an operator's rollback): nothing would
  // ever bill or remove that VM, so destroy it now instead of leaving an orphan.
  if (stored.rowCount === 0) throw await orphanedInstance(provider, created.id);

  const ready = await waitUntilRunning(ctx, provider, created, instanceId);
  const ip = ready.main_ip && ready.main_ip !== '0.0.0.0' ? ready.main_ip : null;
  if (!(await markRunning(pool, faults, mission.account_id, instanceId, type, ip))) throw await orphanedInstance(provider, created.id);
  return instanceId;
}

async function orphanedInstance(provider: ProCloudProvider, vultrId: string): Promise<MissionFailure> {
  await provider.deleteInstance(vultrId).catch(() => undefined);
  return new MissionFailure('node_instance_deleted', `the NodeInstance was deleted during provisioning; Vultr instance ${vultrId} was destroyed`);
}

/** Terraform's notion of ready: `active` and powered on (server_status may still be booting). */
async function waitUntilRunning(
  ctx: InstanceContext,
  provider: ProCloudProvider,
  created: VultrInstance,
  instanceId: string,
): Promise<VultrInstance> {
  const { pool, settings, signal } = ctx.deps;
  const deadline = Date.now() + settings.provisionTimeoutMs;
  let last = created;
  for (;;) {
    if (last.status === 'active' && last.power_status === 'running') return last;
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const message = `Vultr instance ${created.id} was not running after ${settings.provisionTimeoutMs} ms (last Vultr ${describeVultrStatus(last)})`;
      await failInstance(pool, instanceId, message);
      throw new MissionFailure('provision_timeout', message);
    }
    await sleep(Math.min(settings.pollIntervalMs, remaining), signal);
    try {
      last = await provider.getInstance(created.id);
    } catch (error) {
      if (error instanceof VultrAuthError) {
        await recordCredentialFailure(pool, ctx.job.credential_id, error);
        await failInstance(pool, instanceId, error.message);
        throw new MissionFailure('credentials_invalid', CREDENTIALS_INVALID_MESSAGE);
      }
      throw await providerFailure(pool, instanceId, error);
    }
  }
}

async function providerFailure(pool: pg.Pool, instanceId: string, error: unknown): Promise<Error> {
  if (error instanceof VultrApiError || error instanceof VultrUnreachableError) {
    await failInstance(pool, instanceId, error.message);
    return new MissionFailure('provider_error', error.message);
  }
  return error as Error;
}

async function setInstanceStatus(db: Queryable, instanceId: string, status: string): Promise<void> {
  await db.query('UPDATE system_node_instances SET status = $2, updated_at = now() WHERE id = $1', [instanceId, status]);
}

async function failInstance(db: Queryable, instanceId: string, message: string): Promise<void> {
  await db.query(`UPDATE system_node_instances SET status = 'error', last_error = $2, updated_at = now() WHERE id = $1`, [
    instanceId,
    message,
  ]);
}

/**
 * The transition to running and its usage record commit together: an instance is never running
 * without being metered, and never metered without running.
 */
async function markRunning(
  pool: pg.Pool,
  faults: (name: FaultName) => boolean,
  accountId: string,
  instanceId: string,
  type: InstanceTypeRow,
  publicIp: string | null,
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const updated = await client.query(
      `UPDATE system_node_instances SET status = 'running', public_ip_address = $2, updated_at = now() WHERE id = $1`,
      [instanceId, publicIp],
    );
    if (updated.rowCount === 0) return false;
    if (faults('usage_record_missing')) return true;
    // The self-test's price fault takes the account's next dearer instance type (or keeps the price when none is).
    const price = faults('usage_record_price_wrong')
      ? `COALESCE((SELECT min(hourly_price) FROM system_provider_instance_types WHERE account_id = $1 AND hourly_price > $4::numeric), $4::numeric)`
      : '$4::numeric';
    await client.query(
      `INSERT INTO billing_provisioning_usage_records (account_id, node_instance_id, event, status, hourly_price, metered_at)
       VALUES ($1, $2, 'running', $3, ${price}, COALESCE($5::timestamptz, now()))
       ON CONFLICT (node_instance_id, event) DO NOTHING`,
      [
        accountId,
        instanceId,
        faults('usage_record_rolled_up') ? 'rolled_up' : 'pending',
        type.hourly_price,
        faults('usage_record_unmetered') ? new Date(0) : null,
      ],
    );
    return true;
  });
}

async function recordCredentialFailure(db: Queryable, credentialId: string, error: VultrAuthError): Promise<void> {
  await db.query(
    `UPDATE system_provider_credentials
        SET consecutive_failures = consecutive_failures + 1, last_error = $2, updated_at = now()
      WHERE id = $1`,
    [credentialId, error.message],
  );
}

async function recordCredentialSuccess(db: Queryable, credentialId: string): Promise<void> {
  await db.query(
    `UPDATE system_provider_credentials SET consecutive_failures = 0, last_error = NULL, updated_at = now()
      WHERE id = $1 AND (consecutive_failures > 0 OR last_error IS NOT NULL)`,
    [credentialId],
  );
}

async function startStep(pool: pg.Pool, mission: MissionRow, step: StepRow, first: boolean): Promise<void> {
  await inTransaction(pool, async (client) => {
    let phase = 'execution';
    if (first) {
      // The claim: only one worker moves an approved mission to running.
      const claimed = await client.query<{ phase: string }>(
        `UPDATE ai_missions SET status = 'running', phase = 'execution', updated_at = now()
          WHERE id = $1 AND status = 'approved' RETURNING phase`,
        [mission.id],
      );
      if (claimed.rowCount === 0) throw new MissionAlreadyClaimed();
      phase = claimed.rows[0]!.phase;
    }
    await client.query(`UPDATE ai_mission_steps SET status = 'running', started_at = now(), updated_at = now() WHERE id = $1`, [step.id]);
    await publishMissionEvent(client, { type: 'step', mission_id: mission.id, account_id: mission.account_id, step_id: step.step_id, status: 'running' });
    if (first) {
      await publishMissionEvent(client, {
        type: 'mission',
        mission_id: mission.id,
        account_id: mission.account_id,
        phase,
        status: 'running',
        error_code: null,
        error_message: null,
      });
    }
  });
}

async function finishStep(pool: pg.Pool, mission: MissionRow, step: StepRow): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`UPDATE ai_mission_steps SET status = 'completed', finished_at = now(), updated_at = now() WHERE id = $1`, [step.id]);
    await publishMissionEvent(client, { type: 'step', mission_id: mission.id, account_id: mission.account_id, step_id: step.step_id, status: 'completed' });
  });
}

async function completeMission(pool: pg.Pool, mission: MissionRow): Promise<void> {
  await inTransaction(pool, async (client) => {
    await client.query(`UPDATE ai_missions SET status = 'completed', phase = 'done', updated_at = now() WHERE id = $1`, [mission.id]);
    await publishMissionEvent(client, {
      type: 'mission',
      mission_id: mission.id,
      account_id: mission.account_id,
      phase: 'done',
      status: 'completed',
      error_code: null,
      error_message: null,
    });
  });
}

/** `alongside` writes in the same transaction, so whoever hears of the failure finds it done. */
async function failMission(
  pool: pg.Pool,
  mission: MissionRow,
  step: StepRow | undefined,
  code: string,
  message: string,
  alongside?: (client: Queryable) => Promise<void>,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    if (step) {
      await client.query(`UPDATE ai_mission_steps SET status = 'failed', finished_at = now(), updated_at = now() WHERE id = $1`, [step.id]);
      await publishMissionEvent(client, { type: 'step', mission_id: mission.id, account_id: mission.account_id, step_id: step.step_id, status: 'failed' });
    }
    const updated = await client.query<{ phase: string }>(
      `UPDATE ai_missions SET status = 'failed', error_code = $2, error_message = $3, updated_at = now()
        WHERE id = $1 AND status NOT IN ('completed', 'failed') RETURNING phase`,
      [mission.id, code, message],
    );
    if (updated.rowCount === 0) return;
    await alongside?.(client);
    await publishMissionEvent(client, {
      type: 'mission',
      mission_id: mission.id,
      account_id: mission.account_id,
      phase: updated.rows[0]!.phase,
      status: 'failed',
      error_code: code,
      error_message: message,
    });
  });
}
