/**
 * Known-variant hints: when a run fails because the target looks like public Powernode in one of
 * CONTRACT 9's known ways, the diagnosis says so and names the setting that accepts it, so a QA
 * engineer learns the profile from the failure, not from the source. Each hint rests on what the
 * failing test's page showed (a sighting) or on a cheap live probe, and fires only while the suite
 * is not already set for that variant. A hint is never a troubleshooting row: the target may be
 * wrong instead, hence "if that is intended".
 */
import type { Config } from '../config';
import { costLineName } from '../runbook';

/** Public Powernode core's chat route (CONTRACT 9 `route_core`). */
export const CORE_CHAT_ROUTE = '/app/system/provision';

/** What the failing test's page showed when it failed (helpers/diagnosis/sighting.ts). */
export type PageSighting = {
  path: string;
  /** `provisioning-page` is on the page. */
  chatShown: boolean;
  /** Asked only when the configured route showed no chat: whether CORE_CHAT_ROUTE shows one. */
  coreRouteShowsChat?: boolean;
  loginIds: { runbook: boolean; core: boolean };
  /** `execution-step-*` inside an execution pill, and `step-*` inside a step-progress-stream. */
  pillSteps: number;
  streamSteps: number;
  /** What the step-status recorder saw, per step. */
  stepStatuses: Record<string, string[]>;
  briefHeading: string | null;
  briefScale: string | null;
  /** `data-reason` of an UpgradeRequiredCard inside an AI chat message. */
  chatUpgradeCard: string | null;
  lastApproval?: { status: number; dataKeys: string[] };
};

/** What the hints are read from; a part left undefined was not probed, or its probe failed. */
export type HintEvidence = {
  sightings?: PageSighting[];
  /** The columns of system_node_instances. */
  nodeInstanceColumns?: string[];
  /** `data` of GET /ai/missions/:id for one of the failing test's missions. */
  missionData?: unknown;
  /** The body of an error answer (an anonymous GET of a mission). */
  errorBody?: unknown;
  /** What WORKER_HEALTH_URL answered when it held no worker state. */
  workerHealthAnswer?: number;
  /** The failing test's latest plan, as stored. */
  plan?: { monthlyUsd: number | null; hoursPerMonth: number | null; lineNames: string[] };
  /** An assistant chat message carrying `upgrade_required`, with its reason. */
  chatPaywall?: { reason: string | null } | null;
  log?: { journalBeside?: string; jsonLines?: number; railsLines?: number };
};

export type HintConfig = Pick<
  Config,
  | 'PROVISIONING_ROUTE'
  | 'EXPECTED_MONTHLY_COST_USD'
  | 'EXPECTED_REGION'
  | 'EXPECTED_INSTANCE_TYPE'
  | 'EXPECTED_COST_LINE'
  | 'NODE_INSTANCE_PROVIDER_ID_SQL'
  | 'STEP_RUNNING_STATUS'
  | 'MISSION_API'
  | 'ERROR_ENVELOPE'
  | 'PAYWALL_SOURCE'
  | 'UPGRADE_REASON_INSTANCES'
  | 'LOGIN_IDS'
  | 'STEP_STATUS_SOURCE'
  | 'BRIEF_CARD_FORMAT'
  | 'WORKER_STATE_COMMAND'
  | 'BACKEND_LOG_FORMAT'
>;

export type VariantHint = {
  /** The CONTRACT 9 variant it points at. */
  variant: string;
  seen: string;
  /** "public Powernode's <looksLike>". */
  looksLike: string;
  /** The setting that accepts it, as the operator would write it. */
  set: string;
  /** What the troubleshooting rows would otherwise blame on a defect: missing schema items, or WORKER_HEALTH_URL_MISSING. */
  explains?: string[];
};

/** What the worker hint explains: a health URL the target does not have, which is no worker down. */
export const WORKER_HEALTH_URL_MISSING = 'worker health URL';

export function hintText(hint: VariantHint): string {
  return `${hint.seen}: this looks like public Powernode's ${hint.looksLike}; set ${hint.set} if that is intended`;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

type Rule = (evidence: HintEvidence, config: HintConfig) => VariantHint | null;

const route: Rule = ({ sightings = [] }, config) => {
  if (config.PROVISIONING_ROUTE === CORE_CHAT_ROUTE) return null;
  const landed = sightings.find((s) => s.path === CORE_CHAT_ROUTE && s.chatShown);
  const missing = sightings.find((s) => s.path === config.PROVISIONING_ROUTE && !s.chatShown && s.coreRouteShowsChat);
  if (!landed && !missing) return null;
  return {
    variant: 'route_core',
    seen: landed
      ? `the provisioning chat opened at ${CORE_CHAT_ROUTE}, not at ${config.PROVISIONING_ROUTE}`
      : `${config.PROVISIONING_ROUTE} shows no provisioning-page, and ${CORE_CHAT_ROUTE} does`,
    looksLike: 'chat route',
    set: `PROVISIONING_ROUTE=${CORE_CHAT_ROUTE}`,
  };
};

const cost: Rule = ({ plan }, config) => {
  // The 730 h figure alone is a defect (self-test fault cost_730h); public Powernode's estimate
  // also names its cost line after the instance type's display name.
  if (!plan || plan.hoursPerMonth !== 730 || plan.monthlyUsd === null) return null;
  if (Math.abs(plan.monthlyUsd - config.EXPECTED_MONTHLY_COST_USD) < 0.005) return null;
  const [line] = plan.lineNames;
  if (line === undefined || plan.lineNames.includes(costLineName(config))) return null;
  const usd = plan.monthlyUsd.toFixed(2);
  return {
    variant: 'cost_730h',
    seen: `the plan costs $${usd}/mo at 730 h/month, its cost line named "${line}"`,
    looksLike: '730 h cost estimate, with the cost line named after the instance type (the Vultr plan is checked apart)',
    set: `EXPECTED_MONTHLY_COST_USD=${usd} and EXPECTED_COST_LINE="${line}"`,
  };
};

const cloudId: Rule = ({ nodeInstanceColumns }, config) => {
  if (!nodeInstanceColumns || nodeInstanceColumns.length === 0) return null;
  const column = config.NODE_INSTANCE_PROVIDER_ID_SQL.split('->>')[0]!;
  if (nodeInstanceColumns.includes(column) || !nodeInstanceColumns.includes('config')) return null;
  const nodeId = nodeInstanceColumns.includes('node_id');
  return {
    variant: 'cloud_id_in_config',
    seen: `system_node_instances has no ${column} but a config column${nodeId ? ' and node_id' : ''}`,
    looksLike: 'NodeInstance, which keeps the Vultr id in config->>\'cloud_instance_id\'',
    set: `NODE_INSTANCE_PROVIDER_ID_SQL=config->>'cloud_instance_id'${nodeId ? ' and NODE_INSTANCE_INSERT=core' : ''}`,
    explains: [`column system_node_instances.${column}`],
  };
};

const stepExecuting: Rule = ({ sightings = [] }, config) => {
  if (config.STEP_RUNNING_STATUS === 'executing') return null;
  const seen = sightings.flatMap((s) => Object.entries(s.stepStatuses)).find(([, statuses]) => statuses.includes('executing'));
  if (!seen) return null;
  return {
    variant: 'step_executing',
    seen: `step ${seen[0]} moved ${seen[1].join(' → ')}`,
    looksLike: 'step status name',
    set: 'STEP_RUNNING_STATUS=executing',
  };
};

const missionApi: Rule = ({ missionData }, config) => {
  if (config.MISSION_API !== 'runbook' || !isObject(missionData) || !isObject(missionData.mission)) return null;
  if (!isObject(missionData.mission.configuration)) return null;
  return {
    variant: 'mission_api_core',
    seen: 'GET /api/v1/ai/missions/:id answers {mission:{…, configuration:{brief, plan:{plan_id}}}}',
    looksLike: 'mission API (the plan from compose_plan)',
    set: 'MISSION_API=core',
  };
};

const errors: Rule = ({ errorBody }, config) => {
  if (config.ERROR_ENVELOPE !== 'nested' || !isObject(errorBody) || typeof errorBody.error !== 'string') return null;
  const code = typeof errorBody.code === 'string' ? `, "code":"${errorBody.code}"` : '';
  return {
    variant: 'errors_flat',
    seen: `error bodies are flat ({"error":"<message>"${code}})`,
    looksLike: 'error envelope',
    set: 'ERROR_ENVELOPE=flat',
  };
};

const paywall: Rule = ({ sightings = [], chatPaywall }, config) => {
  if (config.PAYWALL_SOURCE !== 'approve_402') return null;
  const approved200 = sightings.map((s) => s.lastApproval).find((a) => a?.status === 200 && a.dataKeys.includes('mission'));
  const reason = chatPaywall?.reason ?? sightings.find((s) => s.chatUpgradeCard !== null)?.chatUpgradeCard ?? null;
  const cardInChat = Boolean(chatPaywall) || reason !== null;
  if (!approved200 && !cardInChat) return null;
  const seen = [approved200 ? 'approve answered 200 with the mission' : '', cardInChat ? 'the chat shows an UpgradeRequiredCard' : ''].filter(Boolean).join(' and ');
  const reasonSetting = reason && reason !== config.UPGRADE_REASON_INSTANCES ? ` and UPGRADE_REASON_INSTANCES=${reason}` : '';
  return {
    variant: 'paywall_in_chat',
    seen,
    looksLike: 'paywall (approve answers 200, the worker posts the UpgradeRequiredCard in the chat)',
    set: `PAYWALL_SOURCE=chat${reasonSetting}`,
  };
};

const loginIds: Rule = ({ sightings = [] }, config) => {
  if (config.LOGIN_IDS !== 'runbook') return null;
  if (!sightings.some((s) => s.loginIds.core && !s.loginIds.runbook)) return null;
  return {
    variant: 'login_ids_core',
    seen: 'the login page has email-input and password-input, no login-email-input',
    looksLike: 'login page',
    set: 'LOGIN_IDS=core',
  };
};

const stepStream: Rule = ({ sightings = [] }, config) => {
  if (config.STEP_STATUS_SOURCE !== 'pill') return null;
  if (!sightings.some((s) => s.streamSteps > 0 && s.pillSteps === 0)) return null;
  return {
    variant: 'step_stream_core',
    seen: 'the execution pill holds no execution-step-*, and a step-progress-stream beside it holds the steps',
    looksLike: 'step progress stream',
    set: 'STEP_STATUS_SOURCE=stream',
  };
};

const briefCard: Rule = ({ sightings = [] }, config) => {
  if (config.BRIEF_CARD_FORMAT !== 'runbook') return null;
  const card = sightings.find((s) => s.briefHeading === 'Project brief' || /\d→\d+ users\b/.test(s.briefScale ?? ''));
  if (!card) return null;
  return {
    variant: 'brief_core',
    seen: `the Brief Card is headed ${JSON.stringify(card.briefHeading)} and shows the scale as ${JSON.stringify(card.briefScale)}`,
    looksLike: 'Brief Card',
    set: 'BRIEF_CARD_FORMAT=core',
  };
};

const worker: Rule = ({ workerHealthAnswer }, config) => {
  if (config.WORKER_STATE_COMMAND || workerHealthAnswer !== 404) return null;
  return {
    variant: 'worker_command',
    seen: 'WORKER_HEALTH_URL answered 404',
    looksLike: 'worker, which has no health URL',
    set: 'WORKER_STATE_COMMAND (a command printing {"running":true,"failed":{"BillingProvisioningMeterJob":0}}) and METER_JOB_NAME=BillingProvisioningMeterJob',
    explains: [WORKER_HEALTH_URL_MISSING],
  };
};

const log: Rule = ({ log }, config) => {
  if (config.BACKEND_LOG_FORMAT !== 'json' || !log) return null;
  if (log.journalBeside) {
    return {
      variant: 'log_journald',
      seen: `there is no backend.log, but ${log.journalBeside} beside it`,
      looksLike: 'journald backend log',
      set: `BACKEND_LOG_FORMAT=journald and BACKEND_LOG_COMMAND="cat ${log.journalBeside}"`,
    };
  }
  if ((log.jsonLines ?? 0) > 0 || (log.railsLines ?? 0) === 0) return null;
  return {
    variant: 'log_journald',
    seen: `the backend log has ${log.railsLines} Rails "Completed <status>" lines and no JSON line`,
    looksLike: 'journald backend log',
    set: 'BACKEND_LOG_FORMAT=journald',
  };
};

const RULES: Rule[] = [route, cost, cloudId, stepExecuting, missionApi, errors, paywall, loginIds, stepStream, briefCard, worker, log];

export function variantHints(evidence: HintEvidence, config: HintConfig): VariantHint[] {
  return RULES.flatMap((rule) => rule(evidence, config) ?? []);
}
