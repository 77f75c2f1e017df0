/**
 * The target's dialect: for each way public Powernode differs from the runbook (CONTRACT 9), the
 * adapter the config picks (TARGET_PROFILE sets them all; each variable overrides its own part).
 * Specs never see a dialect's name: page objects, flows, the system objects and the clients ask
 * their adapter how to read the target. Differences that are a value, not a way of reading (the
 * chat route, the cost, the step's running status, the paywall's reason, the Vultr id's SQL), stay
 * plain config values.
 */
import type { Config } from '../config';
import { BRIEF_CARD_FORMATS, type BriefCardFormat } from './brief-card';
import { ERROR_ENVELOPES, type ErrorEnvelope } from './errors';
import { LOG_FORMATS, type LogFormat } from './log-format';
import { LOGIN_IDS, type LoginIds } from './login';
import { MISSION_APIS, type MissionApi } from './mission-api';
import { NODE_INSTANCE_INSERTS, type NodeInstanceInsert } from './node-instances';
import { PAYWALL_SOURCES, type PaywallSource } from './paywall';
import { STEP_STATUS_SOURCES, type StepStatusSource } from './step-statuses';
import { workerStateSource, type WorkerStateSource } from './worker-state';

export type Dialect = {
  missions: MissionApi;
  errors: ErrorEnvelope;
  paywall: PaywallSource;
  login: LoginIds;
  steps: StepStatusSource;
  briefCard: BriefCardFormat;
  nodeInstanceInsert: NodeInstanceInsert;
  worker: WorkerStateSource;
  log: LogFormat;
};

export type DialectConfig = Pick<
  Config,
  | 'MISSION_API'
  | 'ERROR_ENVELOPE'
  | 'PAYWALL_SOURCE'
  | 'LOGIN_IDS'
  | 'STEP_STATUS_SOURCE'
  | 'BRIEF_CARD_FORMAT'
  | 'NODE_INSTANCE_INSERT'
  | 'WORKER_STATE_COMMAND'
  | 'BACKEND_LOG_FORMAT'
>;

export function dialectOf(config: DialectConfig): Dialect {
  return {
    missions: MISSION_APIS[config.MISSION_API],
    errors: ERROR_ENVELOPES[config.ERROR_ENVELOPE],
    paywall: PAYWALL_SOURCES[config.PAYWALL_SOURCE],
    login: LOGIN_IDS[config.LOGIN_IDS],
    steps: STEP_STATUS_SOURCES[config.STEP_STATUS_SOURCE],
    briefCard: BRIEF_CARD_FORMATS[config.BRIEF_CARD_FORMAT],
    nodeInstanceInsert: NODE_INSTANCE_INSERTS[config.NODE_INSTANCE_INSERT],
    worker: workerStateSource(config.WORKER_STATE_COMMAND),
    log: LOG_FORMATS[config.BACKEND_LOG_FORMAT],
  };
}

/** The runbook's dialect: the default of every adapter. */
export const RUNBOOK_DIALECT: Dialect = dialectOf({
  MISSION_API: 'runbook',
  ERROR_ENVELOPE: 'nested',
  PAYWALL_SOURCE: 'approve_402',
  LOGIN_IDS: 'runbook',
  STEP_STATUS_SOURCE: 'pill',
  BRIEF_CARD_FORMAT: 'runbook',
  NODE_INSTANCE_INSERT: 'runbook',
  WORKER_STATE_COMMAND: '',
  BACKEND_LOG_FORMAT: 'json',
});
