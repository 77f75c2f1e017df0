import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { readEnvelope } from '../clients/api';
import { scanForServerErrors } from '../clients/backend-log';
import { createQueries, type Queryable } from '../clients/queries';
import { parseConfig } from '../config';
import { missionSchema } from '../schemas';
import { dialectOf, RUNBOOK_DIALECT } from '.';
import { BRIEF_CARD_FORMATS } from './brief-card';
import { ERROR_ENVELOPES } from './errors';
import { journaldEntries, LOG_FORMATS } from './log-format';
import { MISSION_APIS, type ApiCall } from './mission-api';
import { NODE_INSTANCE_INSERTS } from './node-instances';
import { PAYWALL_SOURCES, type PaywallSource } from './paywall';
import { WORKER_STATE_SOURCES, WorkerStateError } from './worker-state';

describe('dialectOf', () => {
  it('is the runbook by default and public Powernode with TARGET_PROFILE=powernode-core', () => {
    expect(dialectOf(parseConfig({}))).toEqual(RUNBOOK_DIALECT);
    const core = dialectOf(parseConfig({ TARGET_PROFILE: 'powernode-core', WORKER_STATE_COMMAND: 'x' }));
    expect(core).toMatchObject({ missions: MISSION_APIS.core, errors: ERROR_ENVELOPES.flat, paywall: PAYWALL_SOURCES.chat, worker: WORKER_STATE_SOURCES.command, log: LOG_FORMATS.journald });
  });
});

describe('error envelopes', () => {
  const nested = { success: false, error: { code: 'upgrade_required', message: 'Free plan limit reached', details: { reason: 'max_node_instances' } } };
  const flat = { success: false, error: 'Free plan limit reached', code: 'UPGRADE_REQUIRED', details: { reason: 'max_node_instances' } };

  it('reads each shape as {code, message, details}, the flat code in lower case', () => {
    expect(ERROR_ENVELOPES.nested.read(nested)).toEqual(nested.error);
    expect(ERROR_ENVELOPES.flat.read(flat)).toEqual({ code: 'upgrade_required', message: 'Free plan limit reached', details: { reason: 'max_node_instances' } });
  });

  it('does not read the other shape, so a client set for one reports the other as an unexpected body', () => {
    expect(ERROR_ENVELOPES.nested.read(flat)).toBeNull();
    expect(ERROR_ENVELOPES.flat.read(nested)).toBeNull();
    expect(readEnvelope(402, flat, missionSchema)).toMatchObject({ ok: false, error: { code: 'unexpected_body' } });
    expect(readEnvelope(402, flat, missionSchema, ERROR_ENVELOPES.flat)).toMatchObject({ ok: false, status: 402, error: { code: 'upgrade_required' } });
  });
});

describe('mission APIs', () => {
  const plan = {
    plan_id: 'p1',
    mission_id: 'm1',
    dag: { nodes: [{ id: 'step-1', skill: 'provision_full_stack' }], edges: [] },
    cost_estimate: { monthly_usd: 5.11, hours_per_month: 730, lines: [{ name: 'us-east-1 tiny', monthly_usd: 5.11 }] },
    topology_preview: { nodes: [], edges: [] },
    risk: { score: 0.1, severity: 'low' },
    step_collapse: { original_step_count: 3, collapsed_step_count: 1, reason: 'merged' },
  };
  const mission = { id: 'm1', status: 'plan_ready', current_phase: 'plan_review', configuration: { brief: { intent: 'a Discord bot' }, plan: { plan_id: 'p1' } }, error_message: null };

  /** A stand-in for the API client's call: answers by method and path, records what was asked. */
  function fakeCall(answers: Record<string, unknown>, asked: string[]): ApiCall {
    return (method, path, schema) => {
      asked.push(`${method} ${path}`);
      return Promise.resolve(readEnvelope(200, { success: true, data: answers[`${method} ${path}`] }, schema));
    };
  }

  it("public Powernode's: the mission from GET, the plan from compose_plan, its steps counted", async () => {
    const asked: string[] = [];
    const call = fakeCall({ 'GET /ai/missions/m1': { mission }, 'POST /ai/missions/m1/compose_plan': { plan } }, asked);
    const read = await MISSION_APIS.core.read(call, 'm1');
    expect(asked).toEqual(['GET /ai/missions/m1', 'POST /ai/missions/m1/compose_plan']);
    expect(read).toMatchObject({ ok: true, data: { id: 'm1', phase: 'plan_review', status: 'plan_ready', brief: { intent: 'a Discord bot' } } });
    expect(read.ok && read.data.plan?.dag.step_count).toBe(1);
    expect(read.ok && read.data.plan?.step_collapse?.collapsed_step_count).toBe(1);
  });

  it('asks for no plan before there is one, and passes an error through', async () => {
    const asked: string[] = [];
    const read = await MISSION_APIS.core.read(fakeCall({ 'GET /ai/missions/m1': { mission: { ...mission, configuration: { brief: null, plan: null } } } }, asked), 'm1');
    expect(asked).toEqual(['GET /ai/missions/m1']);
    expect(read).toMatchObject({ ok: true, data: { plan: null } });
    const missing: ApiCall = () => Promise.resolve({ ok: false, status: 404, error: { code: 'not_found', message: 'gone' } });
    expect(await MISSION_APIS.core.read(missing, 'm1')).toMatchObject({ ok: false, status: 404 });
  });

  it("the runbook's reader finds no mission in public Powernode's answer", async () => {
    expect(await MISSION_APIS.runbook.read(fakeCall({ 'GET /ai/missions/m1': { mission } }, []), 'm1')).toMatchObject({ ok: false, error: { code: 'unexpected_body' } });
  });
});

describe('paywall sources', () => {
  const settled = (status: string, error_code: string | null) => () => Promise.resolve({ status, error_code });

  it('the runbook: approve refuses with 402 at once', async () => {
    const runbook: PaywallSource = PAYWALL_SOURCES.approve_402;
    expect(await runbook.refusal({ missionId: 'm', status: 402, errorCode: 'upgrade_required' }, settled('x', null))).toEqual({
      refused: true,
      code: 'upgrade_required',
      seen: 'approve answered 402 upgrade_required',
    });
    expect(await runbook.refusal({ missionId: 'm', status: 200, errorCode: null }, settled('x', null))).toMatchObject({ refused: false });
  });

  it('the chat: approve answers 200, then the worker fails the mission; nothing to tell while it has not', async () => {
    const answer = { missionId: 'm', status: 200, errorCode: null };
    expect(await PAYWALL_SOURCES.chat.refusal(answer, () => Promise.resolve(null))).toBeNull();
    expect(await PAYWALL_SOURCES.chat.refusal(answer, settled('failed', 'upgrade_required'))).toEqual({
      refused: true,
      code: 'upgrade_required',
      seen: 'approve answered 200; the worker then failed the mission (upgrade_required)',
    });
    expect(await PAYWALL_SOURCES.chat.refusal(answer, settled('completed', null))).toMatchObject({ refused: false });
    expect(await PAYWALL_SOURCES.chat.refusal({ ...answer, status: 402, errorCode: 'upgrade_required' }, settled('x', null))).toMatchObject({ refused: false });
  });
});

describe('the Brief Card formats', () => {
  it('prints the scale as the runbook does, or with "users"', () => {
    const scale = { initial: 1, target: 1, growth_profile: 'flat' };
    expect(BRIEF_CARD_FORMATS.runbook.scaleText(scale)).toBe('1→1 · flat');
    expect(BRIEF_CARD_FORMATS.core.scaleText(scale)).toBe('1→1 users · flat');
    expect(BRIEF_CARD_FORMATS.runbook.scaleText({ initial: 5 })).toBe('5→5');
  });
});

describe('the NodeInstance insert', () => {
  it('adds node_id and an empty config for public Powernode', async () => {
    const sql: string[] = [];
    const db: Queryable = {
      query: (text) => {
        sql.push(text.replace(/\s+/g, ' '));
        return Promise.resolve({ rows: [{ id: 'n', account_id: 'a', mission_id: null, name: 'x', status: 'running', provider_instance_id: null, public_ip_address: null, created_at: new Date() }], rowCount: 1 });
      },
    };
    await createQueries(db, { providerIdSql: "config->>'cloud_instance_id'", insert: NODE_INSTANCE_INSERTS.core }).insertNodeInstance({ accountId: 'a', name: 'x', status: 'running' });
    await createQueries(db, { providerIdSql: 'provider_instance_id' }).insertNodeInstance({ accountId: 'a', name: 'x', status: 'running' });
    expect(sql[0]).toContain("(account_id, name, status, node_id, config) VALUES ($1, $2, $3, gen_random_uuid(), '{}'::jsonb)");
    expect(sql[1]).toContain('(account_id, name, status) VALUES ($1, $2, $3)');
  });
});

describe('worker state', () => {
  const dispatcher = new Agent();

  it('from a command: the JSON on its last line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'worker-state-'));
    const script = join(dir, 'state.sh');
    writeFileSync(script, '#!/bin/sh\necho "connecting..."\necho \'{"running":true,"failed":{"BillingProvisioningMeterJob":2}}\'\n');
    chmodSync(script, 0o755);
    expect(await WORKER_STATE_SOURCES.command.read({ url: '', command: script, dispatcher })).toEqual({
      running: true,
      failed: { BillingProvisioningMeterJob: 2 },
      source: 'WORKER_STATE_COMMAND',
    });
    await expect(WORKER_STATE_SOURCES.command.read({ url: '', command: 'echo hello', dispatcher })).rejects.toThrow(/printed no JSON on its last line/);
  });

  it('from a URL that answers without a worker state: the status it answered', async () => {
    const error = await WORKER_STATE_SOURCES.url.read({ url: 'http://127.0.0.1:9/health', command: '', dispatcher }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(WorkerStateError);
  });
});

describe('journald backend logs', () => {
  const journal = [
    '2026-12-07T10:00:01+0000 host puma[812]: Started GET "/api/v1/billing/spend" for 127.0.0.1 at 2026-12-07 10:00:01 +0000',
    '2026-12-07T10:00:01+0000 host puma[812]: Started POST "/api/v1/ai/missions/m1/approve" for 127.0.0.1 at 2026-12-07 10:00:01 +0000',
    '2026-12-07T10:00:02+0000 host puma[812]: RuntimeError (boom):',
    '2026-12-07T10:00:02+0000 host puma[812]: Completed 500 Internal Server Error in 12ms (Views: 0.0ms | ActiveRecord: 0.0ms)',
    '2026-12-07T10:00:02+0000 host puma[812]: Completed 202 Accepted in 30ms (Views: 0.0ms | ActiveRecord: 0.0ms)',
    '-- Boot 1234 --',
  ].join('\n');

  it('takes a request from each Completed line, at the end of its second, with the likely request beside it', () => {
    const entries = journaldEntries(journal);
    expect(entries.map((e) => e.status)).toEqual([500, 202]);
    expect(entries[0]!.time).toEqual(new Date('2026-12-07T10:00:02.999Z'));
    expect(entries[0]!.line).toMatch(/^GET \/api\/v1\/billing\/spend: 2026-12-07T10:00:02\+0000 host puma\[812\]: Completed 500/);
  });

  it('finds 5xx since the run started, never missing one in the second the run started', () => {
    const scan = scanForServerErrors(journal, new Date('2026-12-07T10:00:02.500Z'), LOG_FORMATS.journald);
    expect(scan).toMatchObject({ linesRead: 2, requestLinesSince: 2 });
    expect(scan.serverErrors.map((e) => e.status)).toEqual([500]);
    expect(scanForServerErrors(journal, new Date('2026-12-07T10:00:03Z'), LOG_FORMATS.journald).requestLinesSince).toBe(0);
    expect(scanForServerErrors(journal, new Date('2026-12-07T10:00:00Z')).linesRead, 'read as JSON, the journal has no line').toBe(0);
  });
});
