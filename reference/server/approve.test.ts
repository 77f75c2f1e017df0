import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUES, type ProvisionJob } from '../lib/queue';
import { body, discordMission, registerUser, seedRunningInstance, startHarness, type Harness, type Identity } from './test-support';

let h: Harness;
let app: FastifyInstance;
let workerUp = true;
beforeAll(async () => {
  h = await startHarness();
  app = await h.app({ workerUp: () => workerUp });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

describe('approve (CONTRACT 6.7)', () => {

  function approve(who: Identity, id: string, on = app) {
    return on.inject({ method: 'POST', url: `/api/v1/ai/missions/${id}/approve`, headers: who.auth });
  }

  /** A free account that already runs an instance approves a Discord-bot mission: QuotaGuard's case. */
  async function approveOverQuota(on: typeof app, label: string) {
    const who = await registerUser(on, label);
    await seedRunningInstance(h.db, who.accountId);
    const id = await discordMission(on, who);
    return { who, id, response: await approve(who, id, on) };
  }

  async function jobsFor(missionId: string): Promise<ProvisionJob[]> {
    const { rows } = await h.db.pool.query(`SELECT data FROM pgboss.job WHERE name = $1 AND data->>'mission_id' = $2`, [QUEUES.provision, missionId]);
    return rows.map((r) => r.data as ProvisionJob);
  }

  async function instanceCount(accountId: string): Promise<number> {
    const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM system_node_instances WHERE account_id = $1`, [accountId]);
    return rows[0].n;
  }

  it('approves a ready plan: steps pending, mission in execution, one job on the queue', async () => {
    const who = await registerUser(app, 'approve');
    const id = await discordMission(app, who);
    const response = await approve(who, id);
    expect(response.statusCode).toBe(202);
    expect(body(response)).toEqual({ success: true, data: { mission_id: id, status: 'approved' } });

    const mission = await h.db.pool.query('SELECT phase, status, approved_at FROM ai_missions WHERE id = $1', [id]);
    expect(mission.rows[0]).toMatchObject({ phase: 'execution', status: 'approved' });
    expect(mission.rows[0].approved_at).toBeInstanceOf(Date);
    const steps = await h.db.pool.query('SELECT step_id, skill, position, status FROM ai_mission_steps WHERE mission_id = $1', [id]);
    expect(steps.rows).toEqual([{ step_id: 'step-1', skill: 'provision_full_stack', position: 1, status: 'pending' }]);
    const pool = await h.db.pool.query('SELECT id FROM system_provider_credentials WHERE scope = 1');
    expect(await jobsFor(id)).toEqual([{ mission_id: id, account_id: who.accountId, credential_id: pool.rows[0].id }]);
    // Approve itself creates no instance: that is the worker's job.
    expect(await instanceCount(who.accountId)).toBe(0);

    const again = await approve(who, id);
    expect(again.statusCode).toBe(409);
    expect(body(again).error.code).toBe('already_approved');
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('lets only one of two simultaneous approvals through', async () => {
    const who = await registerUser(app, 'double');
    const id = await discordMission(app, who);
    const [a, b] = await Promise.all([approve(who, id), approve(who, id)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([202, 409]);
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('answers 402 upgrade_required with the contract body when the free plan already runs an instance', async () => {
    const { who, id, response } = await approveOverQuota(app, 'paywall');
    expect(response.statusCode).toBe(402);
    expect(body(response)).toEqual({
      success: false,
      error: {
        code: 'upgrade_required',
        message: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.',
        details: {
          reason: 'max_node_instances',
          plan_slug: 'free',
          limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
          current_usage: { node_instance_count: 1, monthly_provisioning_usd: 5.04 },
        },
      },
    });
    expect(await instanceCount(who.accountId)).toBe(1);
    expect(await jobsFor(id)).toEqual([]);
    const mission = await h.db.pool.query('SELECT status FROM ai_missions WHERE id = $1', [id]);
    expect(mission.rows[0].status).toBe('plan_ready');
  });

  it('ignores terminated and failed instances in the count', async () => {
    const who = await registerUser(app, 'ended');
    await h.db.pool.query(`INSERT INTO system_node_instances (account_id, name, status) VALUES ($1, 'old', 'terminated'), ($1, 'bad', 'error')`, [
      who.accountId,
    ]);
    const id = await discordMission(app, who);
    expect((await approve(who, id)).statusCode).toBe(202);
  });

  it('denies on the monthly cap when the run-rate plus the plan exceed it', async () => {
    const who = await registerUser(app, 'cap');
    await h.db.pool.query(`UPDATE saas_plans SET limits = '{"max_node_instances": 5, "max_monthly_provisioning_usd": 20}' WHERE slug = 'free'`);
    try {
      const instance = await seedRunningInstance(h.db, who.accountId, 0.021);
      expect(instance).toBeTruthy();
      const id = await discordMission(app, who);
      const response = await approve(who, id);
      expect(response.statusCode).toBe(402);
      expect(body(response).error.details.reason).toBe('max_monthly_provisioning_usd');
      expect(body(response).error.details.current_usage).toEqual({ node_instance_count: 1, monthly_provisioning_usd: 15.12 });
    } finally {
      await h.db.pool.query(`UPDATE saas_plans SET limits = '{"max_node_instances": 1, "max_monthly_provisioning_usd": 20}' WHERE slug = 'free'`);
    }
  });

  it('treats stale plan limits as unlimited (the runbook’s pre-flight hazard)', async () => {
    const who = await registerUser(app, 'stale');
    await seedRunningInstance(h.db, who.accountId);
    await h.db.pool.query(`UPDATE saas_plans SET limits = '{}' WHERE slug = 'free'`);
    try {
      const id = await discordMission(app, who);
      expect((await approve(who, id)).statusCode).toBe(202);
    } finally {
      await h.db.pool.query(`UPDATE saas_plans SET limits = '{"max_node_instances": 1, "max_monthly_provisioning_usd": 20}' WHERE slug = 'free'`);
    }
  });

  it('skips QuotaGuard under quota_guard_disabled and quota_after_vultr; answers generically under paywall_generic_error', async () => {
    for (const fault of ['quota_guard_disabled', 'quota_after_vultr'] as const) {
      const { response } = await approveOverQuota(await h.app({ faults: [fault] }), fault);
      expect(response.statusCode, fault).toBe(202);
    }
    const { response } = await approveOverQuota(await h.app({ faults: ['paywall_generic_error'] }), 'generic');
    expect(response.statusCode).toBe(402);
    expect(body(response).error.code).toBe('payment_required');
    expect(body(response).error.details).toBeUndefined();
  });

  it('quota_checked_after_commit: answers the 402, yet the refused approval and its job are committed', async () => {
    const faulty = await h.app({ faults: ['quota_checked_after_commit'] });
    const { who, id, response } = await approveOverQuota(faulty, 'latequota');
    expect(response.statusCode).toBe(402);
    expect(body(response).error.code).toBe('upgrade_required');
    const mission = body(await faulty.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data;
    expect(mission.status).toBe('approved');
    expect(await jobsFor(id)).toHaveLength(1);
  });

  it('fails the mission with credentials_missing when no key is active, and allows a re-approve after a fix', async () => {
    const who = await registerUser(app, 'nocreds');
    const id = await discordMission(app, who);
    await h.db.pool.query('UPDATE system_provider_credentials SET is_active = false WHERE scope = 1');
    try {
      const response = await approve(who, id);
      expect(response.statusCode).toBe(422);
      expect(body(response).error).toEqual({
        code: 'credentials_missing',
        message: 'Vultr credentials missing or invalid: register a key under Settings → Cloud Credentials',
      });
      const mission = body(await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data;
      expect(mission).toMatchObject({ status: 'failed', error_code: 'credentials_missing' });
      expect(await jobsFor(id)).toEqual([]);

      const saved = await app.inject({
        method: 'POST',
        url: '/api/v1/system/provider_credentials',
        headers: who.auth,
        payload: { provider_type: 'pro_cloud', api_key: 'VULTRACCOUNTKEY1234' },
      });
      const credentialId = body(saved).data.credential.id;
      const retry = await approve(who, id);
      expect(retry.statusCode).toBe(202);
      expect(await jobsFor(id)).toEqual([{ mission_id: id, account_id: who.accountId, credential_id: credentialId }]);
      const after = body(await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${id}`, headers: who.auth })).data;
      expect(after).toMatchObject({ status: 'approved', phase: 'execution', error_code: null });
    } finally {
      await h.db.pool.query('UPDATE system_provider_credentials SET is_active = true WHERE scope = 1');
    }
  });

  it('answers 503 worker_unavailable and leaves the mission plan_ready when the worker is down', async () => {
    const who = await registerUser(app, 'noworker');
    const id = await discordMission(app, who);
    workerUp = false;
    try {
      const response = await approve(who, id);
      expect(response.statusCode).toBe(503);
      expect(body(response).error).toEqual({ code: 'worker_unavailable', message: 'The provisioning worker is not running' });
    } finally {
      workerUp = true;
    }
    const mission = await h.db.pool.query('SELECT status, phase FROM ai_missions WHERE id = $1', [id]);
    expect(mission.rows[0]).toEqual({ status: 'plan_ready', phase: 'plan_review' });
    expect(await jobsFor(id)).toEqual([]);
    const steps = await h.db.pool.query('SELECT 1 FROM ai_mission_steps WHERE mission_id = $1', [id]);
    expect(steps.rowCount).toBe(0);
    expect((await approve(who, id)).statusCode).toBe(202);
  });

  it('checks the real worker health URL with a short timeout by default', async () => {
    const { workerHealthCheck } = await import('./app');
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      res.writeHead(req.url === '/health' ? 200 : 500, { 'content-type': 'application/json' });
      res.end('{"status":"ok","failed":{}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    try {
      expect(await workerHealthCheck(`http://127.0.0.1:${port}/health`)()).toBe(true);
      expect(await workerHealthCheck(`http://127.0.0.1:${port}/other`)()).toBe(false);
    } finally {
      server.close();
    }
    expect(await workerHealthCheck('http://127.0.0.1:9/health')()).toBe(false);
  });
});

describe('provider credentials', () => {

  it('lists the platform pool read-only and the account’s own keys, never the key itself', async () => {
    const who = await registerUser(app, 'creds');
    const listed = body(await app.inject({ method: 'GET', url: '/api/v1/system/provider_credentials', headers: who.auth })).data.credentials;
    expect(listed).toEqual([
      {
        id: expect.any(String),
        scope: 'platform_pool',
        provider_type: 'pro_cloud',
        key_last4: 'pool',
        is_active: true,
        consecutive_failures: 0,
        last_error: null,
      },
    ]);

    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/system/provider_credentials',
      headers: who.auth,
      payload: { provider_type: 'pro_cloud', api_key: ' SECRETVULTRKEYWXYZ ' },
    });
    expect(created.statusCode).toBe(201);
    const credential = body(created).data.credential;
    expect(credential).toEqual({
      id: expect.any(String),
      scope: 'account',
      provider_type: 'pro_cloud',
      key_last4: 'WXYZ',
      is_active: true,
      consecutive_failures: 0,
      last_error: null,
    });
    expect(created.body).not.toContain('SECRETVULTRKEY');
    const row = await h.db.pool.query('SELECT credentials, scope, account_id, provider_id FROM system_provider_credentials WHERE id = $1', [credential.id]);
    expect(row.rows[0].credentials).not.toContain('SECRETVULTRKEY');
    expect(row.rows[0]).toMatchObject({ scope: 0, account_id: who.accountId });
    const provider = await h.db.pool.query('SELECT account_id FROM system_providers WHERE id = $1', [row.rows[0].provider_id]);
    expect(provider.rows[0].account_id).toBe(who.accountId);

    const patched = await app.inject({
      method: 'PATCH',
      url: `/api/v1/system/provider_credentials/${credential.id}`,
      headers: who.auth,
      payload: { is_active: false },
    });
    expect(body(patched).data.credential.is_active).toBe(false);
    const after = body(await app.inject({ method: 'GET', url: '/api/v1/system/provider_credentials', headers: who.auth })).data.credentials;
    expect(after.map((c: { scope: string; is_active: boolean }) => [c.scope, c.is_active])).toEqual([
      ['platform_pool', true],
      ['account', false],
    ]);
  });

  it('refuses to PATCH the platform pool or another account’s key (404)', async () => {
    const owner = await registerUser(app, 'creds-owner');
    const stranger = await registerUser(app, 'creds-stranger');
    const created = await app.inject({
      method: 'POST',
      url: '/api/v1/system/provider_credentials',
      headers: owner.auth,
      payload: { provider_type: 'pro_cloud', api_key: 'OWNERSKEY12345678' },
    });
    const ownerKey = body(created).data.credential.id;
    const pool = (await h.db.pool.query('SELECT id FROM system_provider_credentials WHERE scope = 1')).rows[0].id;
    for (const id of [ownerKey, pool]) {
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/system/provider_credentials/${id}`,
        headers: stranger.auth,
        payload: { is_active: false },
      });
      expect(response.statusCode).toBe(404);
    }
    const strangerList = body(await app.inject({ method: 'GET', url: '/api/v1/system/provider_credentials', headers: stranger.auth })).data.credentials;
    expect(strangerList.map((c: { id: string }) => c.id)).toEqual([pool]);
    const poolRow = await h.db.pool.query('SELECT is_active FROM system_provider_credentials WHERE id = $1', [pool]);
    expect(poolRow.rows[0].is_active).toBe(true);
  });

  it('registers against the canonical provider when bootstrap never ran', async () => {
    const skipped = await h.app({ faults: ['bootstrap_skipped'] });
    const who = await registerUser(skipped, 'creds-skip');
    const created = await skipped.inject({
      method: 'POST',
      url: '/api/v1/system/provider_credentials',
      headers: who.auth,
      payload: { provider_type: 'pro_cloud', api_key: 'SKIPPEDKEY12345678' },
    });
    expect(created.statusCode).toBe(201);
    const row = await h.db.pool.query(
      `SELECT p.account_id FROM system_provider_credentials c JOIN system_providers p ON p.id = c.provider_id WHERE c.id = $1`,
      [body(created).data.credential.id],
    );
    expect(row.rows[0].account_id).toBeNull();
  });

  it('validates the body', async () => {
    const who = await registerUser(app, 'creds-bad');
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/system/provider_credentials',
      headers: who.auth,
      payload: { provider_type: 'aws', api_key: 'short' },
    });
    expect(response.statusCode).toBe(422);
    expect(body(response).error.details).toEqual({
      provider_type: 'Provider type must be one of: pro_cloud.',
      api_key: 'Api key must be at least 8 characters.',
    });
  });
});
