/**
 * The API server under each variant that lives in it (CONTRACT 9), and the same requests with no
 * variant named, which must answer exactly as the runbook says.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MissionEvent } from '../lib/events';
import { variantsOf } from '../lib/variants';
import { completedLine, shortIso, startedLine } from './http/journal-log';
import { eventOut, snapshotOut } from './services/mission-shapes';
import { body, chat, DISCORD_PROMPT, discordMission, registerUser, seedRunningInstance, startHarness, type Harness } from './test-support';

const THREE_COMPONENT_PROMPT = 'I need a web app with a Postgres database and a private network between them.';

describe('variants in the API server', () => {
  let h: Harness;
  let plain: FastifyInstance;
  const scratch: string[] = [];

  function tempDir(prefix: string): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    scratch.push(dir);
    return dir;
  }

  beforeAll(async () => {
    h = await startHarness();
    plain = await h.app();
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  });

  describe('with no variant named', () => {
    it('answers the runbook’s mission, plan, approve and error shapes', async () => {
      const who = await registerUser(plain, 'plain');
      const missionId = await discordMission(plain, who);
      const mission = body(await plain.inject({ method: 'GET', url: `/api/v1/ai/missions/${missionId}`, headers: who.auth })).data;
      expect(Object.keys(mission).sort()).toEqual(['brief', 'error_code', 'error_message', 'id', 'phase', 'plan', 'status']);
      expect(mission.plan.dag.step_count).toBe(1);
      expect(mission.plan.cost_estimate).toMatchObject({ monthly_usd: 5.04, hours_per_month: 720, lines: [{ name: 'us-east-1 vc2-1c-1gb' }] });
      const plan = body(await plain.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/compose_plan`, headers: who.auth })).data.plan;
      expect(plan).toEqual(mission.plan);

      const approved = await plain.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
      expect(approved.statusCode).toBe(202);
      expect(body(approved).data).toEqual({ mission_id: missionId, status: 'approved' });

      const missing = await plain.inject({ method: 'GET', url: '/api/v1/nope', headers: who.auth });
      expect(body(missing)).toEqual({ success: false, error: { code: 'not_found', message: 'No route for GET /api/v1/nope' } });
    });

    it('sends step statuses as `running`', () => {
      const event: MissionEvent = { type: 'step', mission_id: 'm', account_id: 'a', step_id: 's', status: 'running' };
      expect(eventOut(event, variantsOf([]))).toEqual(event);
    });
  });

  describe('cost_730h', () => {
    it('prices at 730 h ($5.11 for tiny), names the line "us-east-1 tiny", and keeps the Vultr plan', async () => {
      const app = await h.app({ variants: ['cost_730h'] });
      const who = await registerUser(app, 'cost730');
      const answer = await chat(app, who, DISCORD_PROMPT);
      expect(answer.assistant_message.content).toContain('$5.11/mo');
      const missionId = answer.assistant_message.metadata.plan_ready.mission_id as string;
      const plan = body(await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/compose_plan`, headers: who.auth })).data.plan;
      expect(plan.cost_estimate).toEqual({
        monthly_usd: 5.11,
        hours_per_month: 730,
        lines: [{ name: 'us-east-1 tiny', monthly_usd: 5.11, hourly_price: 0.007, count: 1 }],
      });
      expect(plan.dag.nodes[0].params.instance_type).toBe('vc2-1c-1gb');

      await seedRunningInstance(h.db, who.accountId);
      const spend = body(await app.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth })).data;
      expect(spend.monthly_run_rate_usd).toBe(5.11);
    });
  });

  describe('mission_api_core', () => {
    it('answers GET mission as {mission:{…configuration…}} and compose_plan without step_count, edges source/target', async () => {
      const app = await h.app({ variants: ['mission_api_core'] });
      const who = await registerUser(app, 'core-mission');
      const answer = await chat(app, who, DISCORD_PROMPT);
      const missionId = answer.assistant_message.metadata.plan_ready.mission_id as string;

      const got = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${missionId}`, headers: who.auth });
      expect(got.statusCode).toBe(200);
      const data = body(got).data;
      expect(Object.keys(data)).toEqual(['mission']);
      expect(data.mission).toEqual({
        id: missionId,
        status: 'plan_ready',
        current_phase: 'plan_review',
        configuration: { brief: expect.objectContaining({ regions: ['us-east-1'] }), brief_missing_fields: [], plan: { plan_id: expect.any(String) } },
        error_message: null,
        conversation_id: answer.conversationId,
      });

      const composed = body(await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/compose_plan`, headers: who.auth })).data;
      expect(Object.keys(composed)).toEqual(['plan']);
      expect(composed.plan).toMatchObject({ plan_id: data.mission.configuration.plan.plan_id, mission_id: missionId, risk: { severity: 'low' } });
      expect(composed.plan.dag.step_count).toBeUndefined();
      expect(composed.plan.dag.nodes).toHaveLength(1);
      expect(composed.plan.cost_estimate.monthly_usd).toBe(5.04);
      expect(composed.plan.topology_preview.nodes).toEqual([{ id: 'step-1', skill: 'provision_full_stack', label: expect.any(String) }]);
      expect(composed.plan.step_collapse).toMatchObject({ original_step_count: 3, collapsed_step_count: 1 });

      const three = await chat(app, who, THREE_COMPONENT_PROMPT);
      const threeId = three.assistant_message.metadata.plan_ready.mission_id as string;
      const chain = body(await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${threeId}/compose_plan`, headers: who.auth })).data.plan;
      expect(chain.dag.edges).toEqual([
        { source: 'step-1', target: 'step-2' },
        { source: 'step-2', target: 'step-3' },
      ]);
      expect(chain.step_collapse).toBeUndefined();
    });

    it('lists the brief’s missing fields while it is collecting', async () => {
      const app = await h.app({ variants: ['mission_api_core'] });
      const who = await registerUser(app, 'core-collect');
      const first = await chat(app, who, 'hello');
      const mission = body(
        await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${first.assistant_message.metadata.mission_id}`, headers: who.auth }),
      ).data.mission;
      expect(mission).toMatchObject({ status: 'collecting', current_phase: 'brief', configuration: { plan: null } });
      expect(mission.configuration.brief_missing_fields).toEqual(expect.arrayContaining(['intent', 'use_case']));
    });
  });

  describe('errors_flat', () => {
    it('answers every error as {success:false, error:"<text>", code:"<CODE>", details?}', async () => {
      const app = await h.app({ variants: ['errors_flat'] });
      const unknown = await app.inject({ method: 'GET', url: '/api/v1/nope' });
      expect(body(unknown)).toEqual({ success: false, error: 'No route for GET /api/v1/nope', code: 'NOT_FOUND' });
      const anonymous = await app.inject({ method: 'GET', url: '/api/v1/billing/spend' });
      expect(anonymous.statusCode).toBe(401);
      expect(body(anonymous)).toEqual({ success: false, error: 'Missing or invalid access token', code: 'UNAUTHORIZED' });
      const invalid = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 'x@example.com' } });
      expect(invalid.statusCode).toBe(422);
      expect(body(invalid)).toMatchObject({ success: false, error: expect.any(String), code: 'VALIDATION_FAILED', details: { password: expect.any(String) } });

      const who = await registerUser(app, 'flat');
      await seedRunningInstance(h.db, who.accountId);
      const missionId = await discordMission(app, who);
      const refused = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
      expect(refused.statusCode).toBe(402);
      expect(body(refused)).toMatchObject({
        success: false,
        error: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.',
        code: 'UPGRADE_REQUIRED',
        details: { reason: 'max_node_instances', plan_slug: 'free' },
      });
    });
  });

  describe('paywall_in_chat', () => {
    it('approves with 200 and the mission even over the limit: the quota check is the worker’s', async () => {
      const app = await h.app({ variants: ['paywall_in_chat'] });
      const who = await registerUser(app, 'paywall-chat');
      await seedRunningInstance(h.db, who.accountId);
      const missionId = await discordMission(app, who);
      const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
      expect(approved.statusCode).toBe(200);
      expect(body(approved).data).toEqual({
        mission: expect.objectContaining({ id: missionId, status: 'approved', phase: 'execution', error_code: null }),
      });
      const job = await h.db.pool.query(`SELECT 1 FROM pgboss.job WHERE name = 'provisioning.execute' AND data->>'mission_id' = $1`, [missionId]);
      expect(job.rowCount).toBe(1);
      const instances = await h.db.pool.query('SELECT 1 FROM system_node_instances WHERE mission_id = $1', [missionId]);
      expect(instances.rowCount).toBe(0);
    });

    it('answers with the core mission shape when mission_api_core is on too', async () => {
      const app = await h.app({ variants: ['paywall_in_chat', 'mission_api_core'] });
      const who = await registerUser(app, 'paywall-core');
      const missionId = await discordMission(app, who);
      const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
      expect(approved.statusCode).toBe(200);
      expect(body(approved).data.mission).toMatchObject({ id: missionId, status: 'approved', current_phase: 'execution' });
    });
  });

  describe('step_executing', () => {
    it('sends a running step as `executing` in events and snapshots', () => {
      const variants = variantsOf(['step_executing']);
      const event: MissionEvent = { type: 'step', mission_id: 'm', account_id: 'a', step_id: 's', status: 'running' };
      expect(eventOut(event, variants)).toEqual({ ...event, status: 'executing' });
      expect(eventOut({ ...event, status: 'completed' }, variants)).toEqual({ ...event, status: 'completed' });
      const snapshot = {
        mission: { id: 'm', phase: 'execution', status: 'running', error_code: null, error_message: null },
        steps: [
          { step_id: 's1', skill: 'x', position: 1, status: 'completed' },
          { step_id: 's2', skill: 'x', position: 2, status: 'running' },
        ],
      };
      expect(snapshotOut(snapshot, variants).steps.map((s) => s.status)).toEqual(['completed', 'executing']);
      expect(snapshotOut(snapshot, variantsOf([]))).toBe(snapshot);
    });

    it('streams `executing` from the events endpoint', async () => {
      const app = await h.app({ variants: ['step_executing'] });
      const who = await registerUser(app, 'executing');
      const missionId = await discordMission(app, who);
      await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
      await h.db.pool.query(`UPDATE ai_mission_steps SET status = 'running' WHERE mission_id = $1`, [missionId]);
      const ticket = body(await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket`, headers: who.auth })).data.ticket;
      const address = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${address}/api/v1/ai/missions/${missionId}/events?ticket=${encodeURIComponent(ticket as string)}`);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!/event: snapshot\ndata: .*\n\n/.test(text)) text += decoder.decode((await reader.read()).value, { stream: true });
      await reader.cancel();
      const snapshot = JSON.parse(/event: snapshot\ndata: (.*)\n/.exec(text)![1]!) as { steps: { status: string }[] };
      expect(snapshot.steps.map((s) => s.status)).toEqual(['executing']);
    });
  });

  describe('log_journald', () => {
    it('writes journald short-iso Rails lines to backend.journal and no backend.log', async () => {
      const stackDir = tempDir('m1-journald-');
      const at = new Date('2026-12-07T10:00:01Z');
      const app = await h.app({ variants: ['log_journald'], faults: ['billing_page_500'], config: { ...h.config, stackDir }, logFile: undefined, now: () => at });
      const who = await registerUser(app, 'journald');
      const failed = await app.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth, remoteAddress: '127.0.0.1' });
      expect(failed.statusCode).toBe(500);
      await app.close();

      expect(existsSync(join(stackDir, 'logs', 'backend.log'))).toBe(false);
      const lines = readFileSync(join(stackDir, 'logs', 'backend.journal'), 'utf8').trimEnd().split('\n');
      const prefix = /^2026-12-07T10:00:01\+0000 \S+ puma\[\d+\]: /;
      for (const line of lines) expect(line).toMatch(prefix);
      const messages = lines.map((line) => line.replace(prefix, ''));
      const started = messages.indexOf('Started GET "/api/v1/billing/spend" for 127.0.0.1 at 2026-12-07 10:00:01 +0000');
      expect(started).toBeGreaterThan(-1);
      expect(messages.slice(started + 1)).toContainEqual(expect.stringMatching(/^Completed 500 Internal Server Error in \d+ms \(.*\)$/));
      expect(messages).toContain('Started POST "/api/v1/auth/register" for 127.0.0.1 at 2026-12-07 10:00:01 +0000');
      expect(messages).toContainEqual(expect.stringMatching(/^Completed 201 Created in \d+ms/));
    });

    it('formats the stamps and lines as journalctl -o short-iso shows a Rails app', () => {
      const at = new Date('2026-12-07T10:00:01.250Z');
      expect(shortIso(at)).toBe('2026-12-07T10:00:01+0000');
      expect(startedLine('POST', '/api/v1/x?ticket=abc', '127.0.0.1', at)).toBe('Started POST "/api/v1/x?ticket=[REDACTED]" for 127.0.0.1 at 2026-12-07 10:00:01 +0000');
      expect(completedLine(404, 3.4)).toMatch(/^Completed 404 Not Found in 3ms /);
    });

    it('without the variant, writes the JSON backend.log and no journal', async () => {
      const stackDir = tempDir('m1-jsonlog-');
      const app = await h.app({ config: { ...h.config, stackDir }, logFile: undefined });
      await app.inject({ method: 'GET', url: '/api/v1/nope' });
      await app.close();
      expect(existsSync(join(stackDir, 'logs', 'backend.journal'))).toBe(false);
      const line = JSON.parse(readFileSync(join(stackDir, 'logs', 'backend.log'), 'utf8').trim()) as Record<string, unknown>;
      expect(line).toMatchObject({ method: 'GET', url: '/api/v1/nope', statusCode: 404 });
    });
  });

  describe('the web UI learns the variants from its HTML shell', () => {
    function webDist(): string {
      const dir = tempDir('m1-web-');
      mkdirSync(join(dir, 'assets'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html>\n<html>\n  <head>\n    <title>Powernode</title>\n  </head>\n  <body></body>\n</html>\n');
      writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1);');
      return dir;
    }

    it('names the active variants in a meta tag on every page', async () => {
      const app = await h.app({ variants: ['route_core', 'login_ids_core'], webDistDir: webDist() });
      for (const url of ['/', '/login', '/app/system/provision', '/index.html']) {
        const page = await app.inject({ method: 'GET', url });
        expect(page.statusCode, url).toBe(200);
        expect(page.body, url).toContain('<meta name="powernode-variants" content="route_core,login_ids_core" />\n  </head>');
      }
      expect((await app.inject({ method: 'GET', url: '/assets/app.js' })).body).toBe('console.log(1);');
    });

    it('names the page faults in a meta tag of their own, and only the page faults', async () => {
      const app = await h.app({ faults: ['cost_cap_max_wrong', 'cost_730h'], webDistDir: webDist() });
      for (const url of ['/', '/new', '/index.html']) {
        const page = await app.inject({ method: 'GET', url });
        expect(page.statusCode, url).toBe(200);
        expect(page.body, url).toContain('<meta name="powernode-faults" content="cost_cap_max_wrong" />');
      }
    });

    it('serves index.html untouched with no variant named', async () => {
      const dist = webDist();
      const app = await h.app({ webDistDir: dist });
      for (const url of ['/', '/new']) {
        const page = await app.inject({ method: 'GET', url });
        expect(page.body, url).toBe(readFileSync(join(dist, 'index.html'), 'utf8'));
      }
    });
  });
});
