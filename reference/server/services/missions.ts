/**
 * Missions: the brief → plan → approve → execute lifecycle of one provisioning request.
 * Approve follows CONTRACT 6.7 in order: QuotaGuard, credential resolution, worker availability,
 * then the job, all under a row lock on the mission so a double click cannot approve twice.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import { publishMissionEvent } from '../../lib/events';
import { QUEUES, type ProvisionJob } from '../../lib/queue';
import { completeBrief, type PartialBrief } from '../../rules/brief-capture';
import { composePlan, plannedInstanceCount, type Plan } from '../../rules/composer';
import { resolveCredential } from '../../rules/credentials';
import { checkQuota } from '../../rules/quota-guard';
import { NO_VARIANTS, type Variants } from '../../lib/variants';
import { ApiError, notFound } from '../http/errors';
import { loadCatalog } from './catalog';
import { inTransaction, type Db } from './db';
import { planOptions, spendHours, type Faults } from './faults';
import { currentPlan } from './plans';
import { accountSpend, activeInstanceCount } from './usage';

export type MissionRow = {
  id: string;
  account_id: string;
  conversation_id: string;
  phase: string;
  status: string;
  brief: PartialBrief;
  plan: Plan | null;
  error_code: string | null;
  error_message: string | null;
};

export type MissionView = {
  id: string;
  phase: string;
  status: string;
  brief: PartialBrief;
  plan: Plan | null;
  error_code: string | null;
  error_message: string | null;
};

const MISSION_COLUMNS = 'id, account_id, conversation_id, phase, status, brief, plan, error_code, error_message';

export const CREDENTIALS_MISSING_MESSAGE = 'Vultr credentials missing or invalid: register a key under Settings → Cloud Credentials';

export function missionView(row: MissionRow): MissionView {
  return {
    id: row.id,
    phase: row.phase,
    status: row.status,
    brief: row.brief,
    plan: row.plan,
    error_code: row.error_code,
    error_message: row.error_message,
  };
}

export async function findMission(db: Db, accountId: string, missionId: string, options: { lock?: boolean } = {}): Promise<MissionRow> {
  const { rows } = await db.query<MissionRow>(
    `SELECT ${MISSION_COLUMNS} FROM ai_missions WHERE id = $1 AND account_id = $2${options.lock ? ' FOR UPDATE' : ''}`,
    [missionId, accountId],
  );
  if (!rows[0]) throw notFound('The mission');
  return rows[0];
}

/** Composes and stores the plan of a mission whose brief is complete; a stored plan is returned as is. */
export async function composeMissionPlan(db: Db, mission: MissionRow, faults: Faults, variants: Variants = NO_VARIANTS): Promise<Plan> {
  if (mission.plan) return mission.plan;
  const capture = completeBrief(mission.brief);
  if (!capture.complete) {
    throw new ApiError(422, 'brief_incomplete', `The brief is missing: ${capture.missing.join(', ')}`, { missing: capture.missing });
  }
  const catalog = await loadCatalog(db, mission.account_id);
  const plan = composePlan(capture.brief, { planId: randomUUID(), catalog, ...planOptions(faults, variants) });
  await db.query(
    `UPDATE ai_missions SET brief = $2, plan = $3, phase = 'plan_review', status = 'plan_ready', updated_at = now() WHERE id = $1`,
    [mission.id, JSON.stringify(capture.brief), JSON.stringify(plan)],
  );
  mission.brief = capture.brief;
  mission.plan = plan;
  mission.phase = 'plan_review';
  mission.status = 'plan_ready';
  return plan;
}

export type Queue = Pick<PgBoss, 'send'>;

export type ApproveDeps = {
  pool: pg.Pool;
  queue: Queue;
  faults: Faults;
  variants?: Variants;
  workerHealthy: () => Promise<boolean>;
  now: () => Date;
};

async function quotaCheck(client: pg.PoolClient, deps: ApproveDeps, accountId: string, plan: Plan): Promise<void> {
  const { plan: saasPlan } = await currentPlan(client, accountId);
  const count = await activeInstanceCount(client, accountId);
  const spend = await accountSpend(client, accountId, deps.now(), { hoursPerMonth: spendHours(deps.faults, deps.variants) });
  const decision = checkQuota(
    { slug: saasPlan.slug, name: saasPlan.name, limits: saasPlan.limits },
    { node_instance_count: count, monthly_provisioning_usd: spend.monthly_run_rate_usd },
    { instance_count: plannedInstanceCount(plan), monthly_usd: plan.cost_estimate.monthly_usd },
  );
  if (decision.allowed) return;
  if (deps.faults('paywall_generic_error')) {
    throw new ApiError(402, 'payment_required', 'Something went wrong with your request. Please try again later.');
  }
  throw new ApiError(402, 'upgrade_required', decision.message, decision.details);
}

type ApproveOutcome =
  | { kind: 'approved'; mission: MissionRow; credentialId: string }
  | { kind: 'credentials_missing'; mission: MissionRow };

/** The approved mission as it now stands (public Powernode answers with it). */
export type Approved = { mission_id: string; status: 'approved'; mission: MissionRow };

export async function approveMission(deps: ApproveDeps, accountId: string, missionId: string): Promise<Approved> {
  const variants = deps.variants ?? NO_VARIANTS;
  const outcome = await inTransaction<ApproveOutcome>(deps.pool, async (client) => {
    const mission = await findMission(client, accountId, missionId, { lock: true });
    if (mission.status === 'collecting') {
      throw new ApiError(422, 'plan_not_ready', 'The plan is not ready yet: finish the brief first');
    }
    if (mission.status !== 'plan_ready' && mission.status !== 'failed') {
      throw new ApiError(409, 'already_approved', 'This mission was already approved');
    }
    if (!mission.plan) throw new ApiError(422, 'plan_not_ready', 'The plan is not ready yet: compose it first');

    // (a) QuotaGuard, before anything else touches the account's resources. Under
    // quota_after_vultr the worker checks instead, after it has created the VM (the defect); under
    // quota_checked_after_commit the check runs after this transaction has committed the job (below);
    // under the paywall_in_chat variant the worker checks before it creates anything (public Powernode).
    const guardNow = !deps.faults('quota_guard_disabled') && !deps.faults('quota_after_vultr') && !deps.faults('quota_checked_after_commit');
    if (guardNow && !variants('paywall_in_chat')) {
      await quotaCheck(client, deps, accountId, mission.plan);
    }

    // (b) Which key would the worker use? None: fail the mission now, visibly (the event goes out
    // when this transaction commits).
    const credential = await resolveCredential(client, accountId);
    if (!credential) {
      await client.query(
        `UPDATE ai_missions SET status = 'failed', error_code = 'credentials_missing', error_message = $2, updated_at = now() WHERE id = $1`,
        [mission.id, CREDENTIALS_MISSING_MESSAGE],
      );
      await publishMissionEvent(client, {
        type: 'mission',
        mission_id: mission.id,
        account_id: accountId,
        phase: mission.phase,
        status: 'failed',
        error_code: 'credentials_missing',
        error_message: CREDENTIALS_MISSING_MESSAGE,
      });
      return { kind: 'credentials_missing', mission };
    }

    // (c) A queued job nobody works would leave the page waiting forever.
    if (!(await deps.workerHealthy())) {
      throw new ApiError(503, 'worker_unavailable', 'The provisioning worker is not running');
    }

    // (d) Steps, state, job and event in the same transaction: the job is visible only if approval
    // commits, and the NOTIFY goes out at commit, so listeners hear of the approval before anything
    // the worker publishes about the job, and only once a snapshot read would show it.
    for (const [position, node] of mission.plan.dag.nodes.entries()) {
      await client.query(
        `INSERT INTO ai_mission_steps (mission_id, step_id, skill, position, status) VALUES ($1, $2, $3, $4, 'pending')
         ON CONFLICT (mission_id, step_id) DO UPDATE
           SET skill = EXCLUDED.skill, position = EXCLUDED.position, status = 'pending', started_at = NULL, finished_at = NULL, updated_at = now()`,
        [mission.id, node.id, node.skill, position + 1],
      );
    }
    await client.query(
      `UPDATE ai_missions SET phase = 'execution', status = 'approved', approved_at = now(), error_code = NULL, error_message = NULL, updated_at = now()
        WHERE id = $1`,
      [mission.id],
    );
    const job: ProvisionJob = { mission_id: mission.id, account_id: accountId, credential_id: credential.id };
    const jobId = await deps.queue.send(QUEUES.provision, job, {
      db: { executeSql: (text: string, values: unknown[]) => client.query(text, values) },
    });
    if (!jobId) throw new Error(`pg-boss did not accept the ${QUEUES.provision} job for mission ${mission.id}`);
    await publishMissionEvent(client, {
      type: 'mission',
      mission_id: mission.id,
      account_id: accountId,
      phase: 'execution',
      status: 'approved',
      error_code: null,
      error_message: null,
    });
    return { kind: 'approved', mission, credentialId: credential.id };
  });

  if (outcome.kind === 'credentials_missing') throw new ApiError(422, 'credentials_missing', CREDENTIALS_MISSING_MESSAGE);
  // Self-test fault: the refusal comes after the job it should have prevented was committed.
  if (deps.faults('quota_checked_after_commit') && outcome.mission.plan) {
    const late = await deps.pool.connect();
    try {
      await quotaCheck(late, deps, accountId, outcome.mission.plan);
    } finally {
      late.release();
    }
  }
  const mission: MissionRow = { ...outcome.mission, phase: 'execution', status: 'approved', error_code: null, error_message: null };
  return { mission_id: mission.id, status: 'approved', mission };
}

export type StepSnapshot = { step_id: string; skill: string; position: number; status: string };
export type MissionSnapshot = {
  mission: { id: string; phase: string; status: string; error_code: string | null; error_message: string | null };
  steps: StepSnapshot[];
};

/**
 * What the execution pill needs on (re)connect: the mission's state, its error and every step's
 * status, read in one statement so mission and steps agree. Read it after subscribing to the
 * mission's events, never from a row fetched before: a change committed in between would be in
 * neither the snapshot nor the stream.
 */
export async function readMissionSnapshot(db: Db, accountId: string, missionId: string): Promise<MissionSnapshot> {
  const { rows } = await db.query<{
    id: string;
    phase: string;
    status: string;
    error_code: string | null;
    error_message: string | null;
    plan: Plan | null;
    steps: StepSnapshot[];
  }>(
    `SELECT m.id, m.phase, m.status, m.error_code, m.error_message, m.plan,
            COALESCE((SELECT json_agg(json_build_object('step_id', s.step_id, 'skill', s.skill, 'position', s.position, 'status', s.status)
                                      ORDER BY s.position)
                        FROM ai_mission_steps s WHERE s.mission_id = m.id), '[]'::json) AS steps
       FROM ai_missions m WHERE m.id = $1 AND m.account_id = $2`,
    [missionId, accountId],
  );
  const row = rows[0];
  if (!row) throw notFound('The mission');
  // Before approval there are no step rows yet: the plan's nodes, all pending, stand in for them.
  const steps =
    row.steps.length > 0
      ? row.steps
      : (row.plan?.dag.nodes ?? []).map((node, index) => ({ step_id: node.id, skill: node.skill, position: index + 1, status: 'pending' }));
  return {
    mission: { id: row.id, phase: row.phase, status: row.status, error_code: row.error_code, error_message: row.error_message },
    steps,
  };
}
