import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { body, chat, DISCORD_PROMPT, discordMission, registerUser, startHarness, type Harness } from './test-support';

describe('concierge chat and missions', () => {
  let h: Harness;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await startHarness();
    app = await h.app();
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  it('reuses the account’s open concierge conversation', async () => {
    const who = await registerUser(app, 'concierge');
    const first = await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: who.auth });
    const second = await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: who.auth });
    expect(first.statusCode).toBe(200);
    expect(body(first).data.conversation.id).toBe(body(second).data.conversation.id);
    const other = await registerUser(app, 'concierge2');
    const theirs = await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: other.auth });
    expect(body(theirs).data.conversation.id).not.toBe(body(first).data.conversation.id);
  });

  it('captures the Discord brief and announces a ready plan', async () => {
    const who = await registerUser(app, 'discord');
    const answer = await chat(app, who, DISCORD_PROMPT);
    expect(answer.user_message).toMatchObject({ role: 'user', content: DISCORD_PROMPT, metadata: {} });
    const meta = answer.assistant_message.metadata;
    expect(answer.assistant_message.role).toBe('assistant');
    expect(meta.mission_phase).toBe('plan_review');
    expect(meta.plan_ready).toEqual({ mission_id: meta.mission_id });
    expect(meta.brief).toMatchObject({
      intent: 'Run my Discord bot 24/7',
      scale: { initial: 1, target: 1, growth_profile: 'flat' },
      regions: ['us-east-1'],
      budget_cap_usd_monthly: 10,
      preferred_provider: 'pro_cloud',
    });
    expect(meta.brief.use_case).toMatch(/Discord bot/);
    expect(answer.assistant_message.content).toMatch(/plan is ready/i);
    expect(answer.assistant_message.content).toContain('$5.04/mo');

    const mission = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${meta.mission_id}`, headers: who.auth });
    const data = body(mission).data;
    expect(data).toMatchObject({ id: meta.mission_id, phase: 'plan_review', status: 'plan_ready', error_code: null, error_message: null });
    expect(data.plan.dag.step_count).toBe(1);
    expect(data.plan.dag.nodes[0]).toMatchObject({ id: 'step-1', skill: 'provision_full_stack', depends_on: [] });
    expect(data.plan.cost_estimate).toEqual({
      monthly_usd: 5.04,
      hours_per_month: 720,
      lines: [{ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 5.04, hourly_price: 0.007, count: 1 }],
    });
    expect(data.plan.risk.severity).toBe('low');
    expect(data.plan.step_collapse).toEqual({ original_step_count: 3, collapsed_step_count: 1, reason: 'redundant_sequential_provision_full_stack' });

    const messages = await app.inject({ method: 'GET', url: `/api/v1/ai/conversations/${answer.conversationId}/messages`, headers: who.auth });
    expect(body(messages).data.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant']);
    expect(body(messages).data.messages[1]).toEqual({
      id: expect.any(String),
      role: 'assistant',
      content: expect.any(String),
      metadata: meta,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('asks for the workload, then completes the same mission on the next message', async () => {
    const who = await registerUser(app, 'collect');
    const first = await chat(app, who, 'hello');
    const meta = first.assistant_message.metadata;
    expect(meta).toMatchObject({ mission_phase: 'brief', missing: ['intent', 'use_case', 'components'], brief: {} });
    expect(meta.plan_ready).toBeUndefined();
    expect(first.assistant_message.content).toMatch(/What would you like to run\?/);
    const pending = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${meta.mission_id}`, headers: who.auth });
    expect(body(pending).data).toMatchObject({ phase: 'brief', status: 'collecting', plan: null });

    const compose = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${meta.mission_id}/compose_plan`, headers: who.auth });
    expect(compose.statusCode).toBe(422);
    expect(body(compose).error.code).toBe('brief_incomplete');
    const early = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${meta.mission_id}/approve`, headers: who.auth });
    expect(early.statusCode).toBe(422);
    expect(body(early).error.code).toBe('plan_not_ready');

    const second = await chat(app, who, 'a telegram bot in LA');
    expect(second.assistant_message.metadata.mission_id).toBe(meta.mission_id);
    expect(second.assistant_message.metadata.plan_ready).toEqual({ mission_id: meta.mission_id });
    expect(second.assistant_message.metadata.brief.regions).toEqual(['us-west-1']);
  });

  it('starts a new mission for "another bot host" with the first brief as context', async () => {
    const who = await registerUser(app, 'another');
    const firstId = await discordMission(app, who);
    const second = await chat(app, who, 'Spin up another bot host alongside the first one.');
    const meta = second.assistant_message.metadata;
    expect(meta.mission_id).not.toBe(firstId);
    expect(meta.brief).toMatchObject({ intent: 'Run my Discord bot 24/7', regions: ['us-east-1'], budget_cap_usd_monthly: 10 });
    expect(meta.plan_ready).toEqual({ mission_id: meta.mission_id });
  });

  it('keeps the compute + database + network plan at 3 steps', async () => {
    const who = await registerUser(app, 'three');
    const answer = await chat(app, who, 'I need a web app with a Postgres database and a private network between them.');
    const id = answer.assistant_message.metadata.mission_id;
    const mission = body(await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data;
    expect(mission.brief.components).toEqual(['compute', 'database', 'network']);
    expect(mission.plan.dag.step_count).toBe(3);
    expect(mission.plan.dag.nodes.map((n: { skill: string }) => n.skill).sort()).toEqual(['provision_compute', 'provision_database', 'provision_network']);
    expect(mission.plan.step_collapse).toBeUndefined();
  });

  it('returns the stored plan from compose_plan (idempotent)', async () => {
    const who = await registerUser(app, 'compose');
    const id = await discordMission(app, who);
    const a = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${id}/compose_plan`, headers: who.auth });
    const b = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${id}/compose_plan`, headers: who.auth });
    expect(a.statusCode).toBe(200);
    expect(body(a).data.plan.plan_id).toBe(body(b).data.plan.plan_id);
  });

  it('applies the plan faults: collapse_disabled, collapse_over_merge, cost_730h, risk_wrong, brief_region_wrong', async () => {
    const faulty = await h.app({ faults: ['collapse_disabled', 'cost_730h', 'risk_wrong', 'brief_region_wrong'] });
    const who = await registerUser(faulty, 'faults');
    const id = await discordMission(faulty, who);
    const mission = body(await faulty.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data;
    expect(mission.plan.dag.step_count).toBe(3);
    expect(mission.plan.step_collapse).toBeUndefined();
    expect(mission.plan.cost_estimate.monthly_usd).toBe(5.11);
    expect(mission.plan.risk.severity).toBe('med');
    expect(mission.brief.regions).toEqual(['us-west-1']);

    const over = await h.app({ faults: ['collapse_over_merge'] });
    const who2 = await registerUser(over, 'overmerge');
    const answer = await chat(over, who2, 'I need a web app with a Postgres database and a private network between them.');
    const merged = body(await over.inject({ method: 'GET', url: `/api/v1/ai/missions/${answer.assistant_message.metadata.mission_id}`, headers: who2.auth })).data;
    expect(merged.plan.dag.step_count).toBe(1);
  });

  it('applies the brief faults: brief_use_case_not_bot, brief_reworded_on_read (no two reads agree)', async () => {
    const faulty = await h.app({ faults: ['brief_use_case_not_bot', 'brief_reworded_on_read'] });
    const who = await registerUser(faulty, 'brieffaults');
    const id = await discordMission(faulty, who);
    const read = async () => body(await faulty.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data.brief;
    const [first, second] = [await read(), await read()];
    expect(first.use_case).toMatch(/^Discord server\b/);
    expect(first.intent).toMatch(/Discord bot 24\/7/);
    expect(second.intent).not.toBe(first.intent);
    expect({ ...second, intent: first.intent }).toEqual(first);

    const owner = await registerUser(app, 'briefclean');
    const cleanId = await discordMission(app, owner);
    const readClean = async () => body(await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${cleanId}`, headers: owner.auth })).data.brief;
    const cleanFirst = await readClean();
    expect(cleanFirst.use_case).toMatch(/^Discord bot\b/);
    expect(await readClean(), 'without the fault, two reads agree').toEqual(cleanFirst);
  });

  it('answers 429 ai_quota_exhausted once the AI provider quota is used up, and stores nothing', async () => {
    const who = await registerUser(app, 'quota');
    const conversation = body(await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: who.auth })).data.conversation.id;
    const before = await h.db.pool.query(`SELECT current_quota_usage FROM ai_providers WHERE name = 'pro_cloud'`);
    await chat(app, who, 'hello');
    const after = await h.db.pool.query(`SELECT current_quota_usage FROM ai_providers WHERE name = 'pro_cloud'`);
    expect(after.rows[0].current_quota_usage).toBe(before.rows[0].current_quota_usage + 1);

    await h.db.pool.query(`UPDATE ai_providers SET current_quota_usage = quota_limit WHERE name = 'pro_cloud'`);
    try {
      const response = await app.inject({
        method: 'POST',
        url: `/api/v1/ai/conversations/${conversation}/messages`,
        headers: who.auth,
        payload: { message: { content: DISCORD_PROMPT } },
      });
      expect(response.statusCode).toBe(429);
      expect(body(response).error).toEqual({ code: 'ai_quota_exhausted', message: 'AI provider quota exhausted' });
      const messages = body(await app.inject({ method: 'GET', url: `/api/v1/ai/conversations/${conversation}/messages`, headers: who.auth })).data.messages;
      expect(messages).toHaveLength(2);
    } finally {
      await h.db.pool.query(`UPDATE ai_providers SET current_quota_usage = 0 WHERE name = 'pro_cloud'`);
    }
  });

  it('hides other accounts’ conversations and missions behind 404', async () => {
    const owner = await registerUser(app, 'iso-owner');
    const stranger = await registerUser(app, 'iso-stranger');
    const answer = await chat(app, owner, DISCORD_PROMPT);
    const missionId = answer.assistant_message.metadata.mission_id;
    const probes = [
      { method: 'GET' as const, url: `/api/v1/ai/conversations/${answer.conversationId}/messages` },
      { method: 'POST' as const, url: `/api/v1/ai/conversations/${answer.conversationId}/messages`, payload: { message: { content: 'hi' } } },
      { method: 'GET' as const, url: `/api/v1/ai/missions/${missionId}` },
      { method: 'POST' as const, url: `/api/v1/ai/missions/${missionId}/compose_plan` },
      { method: 'POST' as const, url: `/api/v1/ai/missions/${missionId}/approve` },
      { method: 'GET' as const, url: `/api/v1/ai/missions/${missionId}/events` },
    ];
    for (const probe of probes) {
      const response = await app.inject({ ...probe, headers: stranger.auth });
      expect(response.statusCode, `${probe.method} ${probe.url}`).toBe(404);
      expect(body(response).error.code).toBe('not_found');
    }
  });

  it('rejects blank messages', async () => {
    const who = await registerUser(app, 'blank');
    const conversation = body(await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: who.auth })).data.conversation.id;
    const response = await app.inject({
      method: 'POST',
      url: `/api/v1/ai/conversations/${conversation}/messages`,
      headers: who.auth,
      payload: { message: { content: '   ' } },
    });
    expect(response.statusCode).toBe(422);
    expect(body(response).error.details).toEqual({ 'message.content': 'Message content must not be empty.' });
  });
});
