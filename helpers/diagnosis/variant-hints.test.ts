import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { diagnose, formatDiagnosis } from './diagnosis';
import { hintText, variantHints, type HintEvidence, type PageSighting } from './variant-hints';

const runbook = parseConfig({});
const core = parseConfig({ TARGET_PROFILE: 'powernode-core', WORKER_STATE_COMMAND: 'worker-state' });

const page = (patch: Partial<PageSighting> = {}): PageSighting => ({
  path: '/new',
  chatShown: true,
  loginIds: { runbook: false, core: false },
  pillSteps: 0,
  streamSteps: 0,
  stepStatuses: {},
  briefHeading: 'Brief',
  briefScale: '1→1 · flat',
  chatUpgradeCard: null,
  ...patch,
});

/** The hints for some evidence, by variant, with the default profile; and none once the profile is powernode-core. */
function hints(evidence: HintEvidence): Record<string, string> {
  expect(variantHints(evidence, core), 'no hint once the suite is set for public Powernode').toEqual([]);
  return Object.fromEntries(variantHints(evidence, runbook).map((h) => [h.variant, hintText(h)]));
}

describe('known-variant hints', () => {
  it('says nothing when the target looks like the runbook', () => {
    const evidence: HintEvidence = {
      sightings: [page({ pillSteps: 1, stepStatuses: { s1: ['pending', 'running', 'completed'] } })],
      nodeInstanceColumns: ['id', 'account_id', 'provider_instance_id'],
      missionData: { id: 'm1', phase: 'plan_review', status: 'plan_ready', brief: {}, plan: null },
      errorBody: { success: false, error: { code: 'unauthorized', message: 'Missing or invalid access token' } },
      plan: { monthlyUsd: 5.04, hoursPerMonth: 720, lineNames: ['us-east-1 vc2-1c-1gb'] },
      chatPaywall: null,
      log: { jsonLines: 40, railsLines: 0 },
    };
    expect(variantHints(evidence, runbook)).toEqual([]);
  });

  it('route_core: the chat opened at /app/system/provision, or only answers there', () => {
    expect(hints({ sightings: [page({ path: '/app/system/provision' })] }).route_core).toBe(
      "the provisioning chat opened at /app/system/provision, not at /new: this looks like public Powernode's chat route; set PROVISIONING_ROUTE=/app/system/provision if that is intended",
    );
    expect(hints({ sightings: [page({ chatShown: false, coreRouteShowsChat: true })] }).route_core).toMatch(/^\/new shows no provisioning-page, and \/app\/system\/provision does/);
    expect(hints({ sightings: [page({ chatShown: false, coreRouteShowsChat: false })] }).route_core).toBeUndefined();
  });

  it('cost_730h: $5.11 at 730 h with the display-name cost line, not the 730 h defect alone', () => {
    expect(hints({ plan: { monthlyUsd: 5.11, hoursPerMonth: 730, lineNames: ['us-east-1 tiny'] } }).cost_730h).toMatch(
      /^the plan costs \$5\.11\/mo at 730 h\/month, its cost line named "us-east-1 tiny": .*set EXPECTED_MONTHLY_COST_USD=5\.11 and EXPECTED_COST_LINE="us-east-1 tiny" if/,
    );
    // The self-test fault cost_730h: 730 h with the runbook's cost-line name is a defect.
    expect(hints({ plan: { monthlyUsd: 5.11, hoursPerMonth: 730, lineNames: ['us-east-1 vc2-1c-1gb'] } }).cost_730h).toBeUndefined();
  });

  it('cloud_id_in_config: no provider_instance_id, a config column and node_id; it explains the missing column', () => {
    const evidence = { nodeInstanceColumns: ['id', 'account_id', 'config', 'node_id'] };
    expect(hints(evidence).cloud_id_in_config).toMatch(/set NODE_INSTANCE_PROVIDER_ID_SQL=config->>'cloud_instance_id' and NODE_INSTANCE_INSERT=core if/);
    // The self-test fault pending_migration drops a table, never moves the Vultr id.
    expect(hints({ nodeInstanceColumns: ['id', 'account_id', 'status'] }).cloud_id_in_config).toBeUndefined();
    const [hint] = variantHints(evidence, runbook);
    const probes = { missingSchema: ['column system_node_instances.provider_instance_id'], hints: [hint!], probeErrors: [] };
    expect(diagnose(probes), 'no "Pending migrations" for the column the hint explains').toEqual([]);
    expect(diagnose({ ...probes, missingSchema: [...probes.missingSchema, 'table ai_missions'] }).map((f) => f.seen)).toEqual(['missing: table ai_missions']);
  });

  it('step_executing: a step was seen executing', () => {
    expect(hints({ sightings: [page({ stepStatuses: { 'step-1': ['pending', 'executing', 'completed'] } })] }).step_executing).toMatch(
      /^step step-1 moved pending → executing → completed: .*set STEP_RUNNING_STATUS=executing if/,
    );
  });

  it('mission_api_core: GET mission answers data.mission with its configuration', () => {
    expect(hints({ missionData: { mission: { id: 'm1', configuration: { brief: {}, plan: null } } } }).mission_api_core).toMatch(/set MISSION_API=core if/);
    expect(hints({ missionData: { mission: 'm1' } }).mission_api_core).toBeUndefined();
  });

  it('errors_flat: an error body whose error is a string', () => {
    expect(hints({ errorBody: { success: false, error: 'Missing or invalid access token', code: 'UNAUTHORIZED' } }).errors_flat).toBe(
      'error bodies are flat ({"error":"<message>", "code":"UNAUTHORIZED"}): this looks like public Powernode\'s error envelope; set ERROR_ENVELOPE=flat if that is intended',
    );
  });

  it('paywall_in_chat: approve answered 200 with the mission, or the chat shows the card; names the reason when it differs', () => {
    expect(hints({ sightings: [page({ lastApproval: { status: 200, dataKeys: ['mission'] } })] }).paywall_in_chat).toMatch(
      /^approve answered 200 with the mission: .*set PAYWALL_SOURCE=chat if/,
    );
    expect(hints({ sightings: [page()], chatPaywall: { reason: 'max_active_instances_exceeded' } }).paywall_in_chat).toMatch(
      /^the chat shows an UpgradeRequiredCard: .*set PAYWALL_SOURCE=chat and UPGRADE_REASON_INSTANCES=max_active_instances_exceeded if/,
    );
    // The runbook's approve: 202 with {mission_id, status}.
    expect(hints({ sightings: [page({ lastApproval: { status: 202, dataKeys: ['mission_id', 'status'] } })] }).paywall_in_chat).toBeUndefined();
  });

  it('login_ids_core: the login page has email-input and no login-email-input', () => {
    expect(hints({ sightings: [page({ path: '/login', chatShown: false, loginIds: { runbook: false, core: true } })] }).login_ids_core).toMatch(/set LOGIN_IDS=core if/);
  });

  it('step_stream_core: steps in a step-progress-stream, none in the pill', () => {
    expect(hints({ sightings: [page({ streamSteps: 1 })] }).step_stream_core).toMatch(/set STEP_STATUS_SOURCE=stream if/);
    expect(hints({ sightings: [page({ streamSteps: 1, pillSteps: 1 })] }).step_stream_core).toBeUndefined();
  });

  it('brief_core: "Project brief", or a scale in users', () => {
    expect(hints({ sightings: [page({ briefHeading: 'Project brief', briefScale: '1→1 users · flat' })] }).brief_core).toMatch(
      /^the Brief Card is headed "Project brief" and shows the scale as "1→1 users · flat": .*set BRIEF_CARD_FORMAT=core if/,
    );
  });

  it('worker_command: the health URL answers 404; it is no "Worker not running"', () => {
    expect(hints({ workerHealthAnswer: 404 }).worker_command).toMatch(/^WORKER_HEALTH_URL answered 404: .*set WORKER_STATE_COMMAND .*METER_JOB_NAME=BillingProvisioningMeterJob if/);
    expect(hints({ workerHealthAnswer: 502 }).worker_command).toBeUndefined();
    const hint = variantHints({ workerHealthAnswer: 404 }, runbook);
    expect(diagnose({ workerStatus: null, workerHealthAnswer: 404, hints: hint, probeErrors: [] })).toEqual([]);
    expect(diagnose({ workerStatus: null, probeErrors: [] }).map((f) => f.likelyCause)).toEqual(['Worker not running']);
  });

  it('log_journald: a journal beside the missing backend.log, or Rails lines and no JSON', () => {
    expect(hints({ log: { journalBeside: '/s/logs/backend.journal' } }).log_journald).toMatch(
      /^there is no backend\.log, but \/s\/logs\/backend\.journal beside it: .*set BACKEND_LOG_FORMAT=journald and BACKEND_LOG_COMMAND="cat \/s\/logs\/backend\.journal" if/,
    );
    expect(hints({ log: { jsonLines: 0, railsLines: 12 } }).log_journald).toMatch(/set BACKEND_LOG_FORMAT=journald if/);
    expect(hints({ log: { jsonLines: 3, railsLines: 12 } }).log_journald).toBeUndefined();
  });

  it('puts each hint in the diagnosis, beside "no row" when no troubleshooting row applies', () => {
    const text = formatDiagnosis([], [], variantHints({ errorBody: { success: false, error: 'x' } }, runbook));
    expect(text).toBe(
      "No row of the runbook troubleshooting table matches the live state.\nKnown variant (errors_flat): error bodies are flat ({\"error\":\"<message>\"}): this looks like public Powernode's error envelope; set ERROR_ENVELOPE=flat if that is intended",
    );
  });
});
