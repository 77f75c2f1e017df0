import type { FastifyInstance } from 'fastify';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cardForm } from '../emulators/stripe/test-support';
import { readStackConfig } from '../lib/config';
import { createStripeClient } from './stripe';
import { body, registerUser, seedRunningInstance, startHarness, TEST_KEYS, type Harness, type Identity } from './test-support';

/** What the checkout iframe posts when the customer pays (the emulator's own endpoint). */
async function pay(h: Harness, clientSecret: string, cardNumber = '4242 4242 4242 4242'): Promise<number> {
  const sessionId = clientSecret.split('_secret_')[0]!;
  const response = await fetch(`${h.stripe!.url}/v3/checkout_sessions/${sessionId}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_secret: clientSecret, key: TEST_KEYS.publishable, ...cardForm({ cardNumber }) }),
  });
  await response.body?.cancel();
  return response.status;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('billing', () => {
  let h: Harness;
  let app: FastifyInstance;
  const signer = new Stripe(TEST_KEYS.secret);

  beforeAll(async () => {
    h = await startHarness({ stripe: true });
    app = await h.app();
    // Listening, so the emulator's signed webhooks reach this app.
    await app.listen({ host: '127.0.0.1', port: Number(new URL(h.config.baseUrl).port) });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  async function checkout(who: Identity, plan = 'free'): Promise<{ session_id: string; client_secret: string; publishable_key: string }> {
    const response = await app.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: who.auth, payload: { plan_slug: plan } });
    expect(response.statusCode).toBe(201);
    return body(response).data;
  }

  async function sessionStatus(who: Identity, id: string, on = app) {
    return on.inject({ method: 'GET', url: `/api/v1/billing/checkout_sessions/${id}`, headers: who.auth });
  }

  /** An account that paid the free plan (confirmed on the return page), then paid Pro Cloud (not yet confirmed). */
  async function paidFreeThenPro(label: string) {
    const who = await registerUser(app, label);
    const free = await checkout(who);
    await pay(h, free.client_secret);
    await sessionStatus(who, free.session_id);
    const pro = await checkout(who, 'pro_cloud');
    await pay(h, pro.client_secret);
    return { who, free, pro };
  }

  async function subscriptionStatuses(accountId: string): Promise<string[]> {
    const { rows } = await h.db.pool.query(`SELECT status FROM subscriptions WHERE account_id = $1 ORDER BY created_at`, [accountId]);
    return rows.map((r) => r.status as string);
  }

  function signed(payload: object): { payload: string; headers: Record<string, string> } {
    const text = JSON.stringify(payload);
    const header = signer.webhooks.generateTestHeaderString({ payload: text, secret: TEST_KEYS.webhook });
    return { payload: text, headers: { 'content-type': 'application/json', 'stripe-signature': header } };
  }

  it('creates an embedded subscription session with a customer and an incomplete subscription row', async () => {
    const who = await registerUser(app, 'checkout');
    const session = await checkout(who);
    expect(session.session_id).toMatch(/^cs_test_/);
    expect(session.client_secret).toContain('_secret_');
    expect(session.publishable_key).toBe(TEST_KEYS.publishable);

    const account = await h.db.pool.query('SELECT stripe_customer_id FROM accounts WHERE id = $1', [who.accountId]);
    expect(account.rows[0].stripe_customer_id).toMatch(/^cus_/);
    const sub = await h.db.pool.query('SELECT status, stripe_checkout_session_id FROM subscriptions WHERE account_id = $1', [who.accountId]);
    expect(sub.rows).toEqual([{ status: 'incomplete', stripe_checkout_session_id: session.session_id }]);

    const remote = await createStripeClient(h.config).checkout.sessions.retrieve(session.session_id);
    expect(remote).toMatchObject({ ui_mode: 'embedded_page', mode: 'subscription', client_reference_id: who.accountId, status: 'open' });
    expect(remote.return_url).toBe(`${h.config.baseUrl}/checkout/return?session_id={CHECKOUT_SESSION_ID}`);
    expect(remote.metadata).toEqual({ account_id: who.accountId, plan_slug: 'free' });

    const open = await sessionStatus(who, session.session_id);
    expect(body(open).data).toEqual({ status: 'open', subscription_status: 'incomplete', redirect_to: '/new' });

    const second = await checkout(who);
    const customers = await h.db.pool.query('SELECT stripe_customer_id FROM accounts WHERE id = $1', [who.accountId]);
    expect(customers.rows[0].stripe_customer_id).toBe(account.rows[0].stripe_customer_id);
    expect(second.session_id).not.toBe(session.session_id);
  });

  it('activates the subscription through the signed webhook after payment', async () => {
    const who = await registerUser(app, 'webhook');
    const session = await checkout(who);
    expect(await pay(h, session.client_secret)).toBe(200);
    const status = await until(async () => {
      const row = await h.db.pool.query('SELECT status, stripe_subscription_id FROM subscriptions WHERE stripe_checkout_session_id = $1', [session.session_id]);
      return row.rows[0].status === 'active' ? row.rows[0] : undefined;
    });
    expect(status.stripe_subscription_id).toMatch(/^sub_/);
    const events = await h.db.pool.query(`SELECT count(*)::int AS n FROM stripe_events WHERE type = 'checkout.session.completed'`);
    expect(events.rows[0].n).toBeGreaterThan(0);

    const subscription = await app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: who.auth });
    expect(body(subscription).data).toEqual({
      plan_slug: 'free',
      plan_name: 'Free',
      status: 'active',
      limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
    });
  });

  it('confirms a completed session on the return page even when no webhook arrives', async () => {
    // An emulator whose webhooks go nowhere: only the return-page confirmation can activate.
    const { startStripeEmulator } = await import('../emulators/stripe/server');
    const silent = await startStripeEmulator({
      port: 0,
      secretKeys: [TEST_KEYS.secret],
      publishableKey: TEST_KEYS.publishable,
      webhookSecret: TEST_KEYS.webhook,
    });
    try {
      const config = readStackConfig({ ...envOf(h), STRIPE_API_BASE: silent.url });
      const other = await h.app({ config, stripe: createStripeClient(config) });
      const who = await registerUser(other, 'return');
      const created = await other.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: who.auth, payload: { plan_slug: 'free' } });
      const session = body(created).data;
      await pay({ ...h, stripe: silent }, session.client_secret);
      const confirmed = await sessionStatus(who, session.session_id, other);
      expect(body(confirmed).data).toEqual({ status: 'complete', subscription_status: 'active', redirect_to: '/new' });
      const again = await sessionStatus(who, session.session_id, other);
      expect(body(again).data.subscription_status).toBe('active');
    } finally {
      await silent.close();
    }
  });

  it('keeps a declined card open and the subscription incomplete', async () => {
    const who = await registerUser(app, 'declined');
    const session = await checkout(who);
    expect(await pay(h, session.client_secret, '4000 0000 0000 0002')).not.toBe(200);
    expect(body(await sessionStatus(who, session.session_id)).data).toEqual({ status: 'open', subscription_status: 'incomplete', redirect_to: '/new' });
  });

  it('upgrades to Pro Cloud: one active subscription, on the new plan', async () => {
    const { who, pro } = await paidFreeThenPro('upgrade');
    expect(body(await sessionStatus(who, pro.session_id)).data.subscription_status).toBe('active');
    expect(await subscriptionStatuses(who.accountId)).toEqual(['canceled', 'active']);
    const subscription = await app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: who.auth });
    expect(body(subscription).data).toMatchObject({ plan_slug: 'pro_cloud', status: 'active', limits: { max_node_instances: 50 } });
  });

  it('keeps a replaced plan replaced when its session is confirmed again (a late webhook, the return page reopened)', async () => {
    const { who, free, pro } = await paidFreeThenPro('late');
    await sessionStatus(who, pro.session_id);
    expect(body(await sessionStatus(who, free.session_id)).data.subscription_status).toBe('canceled');
    expect(await subscriptionStatuses(who.accountId)).toEqual(['canceled', 'active']);
  });

  it('hides another account’s session (404) and answers 422 for an unknown plan', async () => {
    const owner = await registerUser(app, 'owner');
    const stranger = await registerUser(app, 'stranger');
    const session = await checkout(owner);
    const peek = await sessionStatus(stranger, session.session_id);
    expect(peek.statusCode).toBe(404);
    expect(body(peek).error.code).toBe('not_found');
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: owner.auth, payload: { plan_slug: 'platinum' } });
    expect(unknown.statusCode).toBe(422);
    expect(body(unknown).error.details).toEqual({ plan_slug: 'Plan slug "platinum" is not a known plan.' });
  });

  it('redirects to /settings/billing under checkout_redirect_wrong', async () => {
    const faulty = await h.app({ faults: ['checkout_redirect_wrong'] });
    const who = await registerUser(faulty, 'redirect');
    const created = await faulty.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: who.auth, payload: { plan_slug: 'free' } });
    const status = await sessionStatus(who, body(created).data.session_id, faulty);
    expect(body(status).data.redirect_to).toBe('/settings/billing');
  });

  it('lands the checkout return on /app/system/provision under the route_core variant', async () => {
    const core = await h.app({ variants: ['route_core'] });
    const who = await registerUser(core, 'route-core');
    const created = await core.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: who.auth, payload: { plan_slug: 'free' } });
    const status = await sessionStatus(who, body(created).data.session_id, core);
    expect(body(status).data.redirect_to).toBe('/app/system/provision');
  });

  it('answers 502 stripe_unavailable when Stripe cannot be reached', async () => {
    const config = readStackConfig({ ...envOf(h), STRIPE_API_BASE: 'http://127.0.0.1:9' });
    const offline = await h.app({ config, stripe: createStripeClient(config) });
    const who = await registerUser(offline, 'offline');
    const response = await offline.inject({ method: 'POST', url: '/api/v1/billing/checkout_sessions', headers: who.auth, payload: { plan_slug: 'free' } });
    expect(response.statusCode).toBe(502);
    expect(body(response).error).toEqual({ code: 'stripe_unavailable', message: 'Stripe is not reachable right now; try again shortly' });
  });

  describe('webhook', () => {
    it('rejects a bad or missing signature with 400 invalid_signature', async () => {
      const event = { id: 'evt_forged_1', type: 'checkout.session.completed', data: { object: { id: 'cs_test_x' } } };
      for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=deadbeef' }]) {
        const response = await app.inject({ method: 'POST', url: '/api/v1/billing/stripe/webhook', payload: JSON.stringify(event), headers });
        expect(response.statusCode).toBe(400);
        expect(body(response).error.code).toBe('invalid_signature');
      }
      const stored = await h.db.pool.query(`SELECT 1 FROM stripe_events WHERE id = 'evt_forged_1'`);
      expect(stored.rowCount).toBe(0);
    });

    it('does not activate an open session even for a correctly signed event, and dedupes replays', async () => {
      const who = await registerUser(app, 'forged');
      const session = await checkout(who);
      const event = { id: `evt_open_${session.session_id}`, type: 'checkout.session.completed', data: { object: { id: session.session_id, status: 'complete' } } };
      const first = await app.inject({ method: 'POST', url: '/api/v1/billing/stripe/webhook', ...signed(event) });
      expect(first.statusCode).toBe(200);
      expect(body(first).data).toEqual({ received: true, activated: false });
      const replay = await app.inject({ method: 'POST', url: '/api/v1/billing/stripe/webhook', ...signed(event) });
      expect(body(replay).data).toEqual({ received: true, duplicate: true });
      const sub = await h.db.pool.query('SELECT status FROM subscriptions WHERE stripe_checkout_session_id = $1', [session.session_id]);
      expect(sub.rows[0].status).toBe('incomplete');
    });

    it('ignores other event types and unknown sessions', async () => {
      const other = await app.inject({ method: 'POST', url: '/api/v1/billing/stripe/webhook', ...signed({ id: 'evt_other_1', type: 'invoice.paid', data: { object: {} } }) });
      expect(body(other).data).toEqual({ received: true, ignored: true });
      const ghost = await app.inject({
        method: 'POST',
        url: '/api/v1/billing/stripe/webhook',
        ...signed({ id: 'evt_ghost_1', type: 'checkout.session.completed', data: { object: { id: 'cs_test_doesnotexist' } } }),
      });
      expect(body(ghost).data).toEqual({ received: true, activated: false });
    });

    it('accepts an unsigned event under webhook_signature_unverified', async () => {
      const faulty = await h.app({ faults: ['webhook_signature_unverified'] });
      const response = await faulty.inject({
        method: 'POST',
        url: '/api/v1/billing/stripe/webhook',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ id: 'evt_unsigned_1', type: 'invoice.paid', data: { object: {} } }),
      });
      expect(response.statusCode).toBe(200);
    });
  });

  describe('spend and rollup', () => {
    it('reports live spend from usage records: $5.04/mo, $0.168/day', async () => {
      const who = await registerUser(app, 'spend');
      const empty = await app.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth });
      expect(body(empty).data).toEqual({ monthly_run_rate_usd: 0, today_usd: 0, month_to_date_usd: 0, source: 'usage_records' });
      await seedRunningInstance(h.db, who.accountId);
      const spend = await app.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth });
      expect(body(spend).data).toMatchObject({ monthly_run_rate_usd: 5.04, today_usd: 0.168, source: 'usage_records' });
      const faulty = await h.app({ faults: ['live_spend_730h'] });
      const wrong = await faulty.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth });
      expect(body(wrong).data.monthly_run_rate_usd).toBe(5.11);
    });

    it('answers free/none for an account without an active subscription', async () => {
      const who = await registerUser(app, 'nosub');
      const response = await app.inject({ method: 'GET', url: '/api/v1/billing/subscription', headers: who.auth });
      expect(body(response).data).toEqual({ plan_slug: 'free', plan_name: 'Free', status: 'none', limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 } });
    });

    it('rolls up pending records only with the internal token', async () => {
      const who = await registerUser(app, 'rollup');
      await seedRunningInstance(h.db, who.accountId);
      const url = '/api/v1/internal/billing/provisioning/meter/rollup';
      for (const authorization of [undefined, 'Bearer wrong', `Bearer ${TEST_KEYS.internal}x`]) {
        const denied = await app.inject({ method: 'POST', url, headers: authorization ? { authorization } : {}, payload: {} });
        expect(denied.statusCode).toBe(401);
      }
      const auth = { authorization: `Bearer ${TEST_KEYS.internal}` };
      const past = await app.inject({ method: 'POST', url, headers: auth, payload: { now: '2000-01-01T00:00:00Z' } });
      expect(body(past).data).toEqual({ metered_count: 0, invoiced_count: 0 });
      const bad = await app.inject({ method: 'POST', url, headers: auth, payload: { now: 'yesterday-ish' } });
      expect(bad.statusCode).toBe(422);
      const rolled = await app.inject({ method: 'POST', url, headers: auth });
      expect(body(rolled).data.metered_count).toBeGreaterThanOrEqual(1);
      expect(body(rolled).data.invoiced_count).toBeGreaterThanOrEqual(1);
      const rows = await h.db.pool.query(`SELECT status, rolled_up_at FROM billing_provisioning_usage_records WHERE account_id = $1`, [who.accountId]);
      expect(rows.rows[0].status).toBe('rolled_up');
      expect(rows.rows[0].rolled_up_at).toBeInstanceOf(Date);
      const again = await app.inject({ method: 'POST', url, headers: auth, payload: {} });
      expect(body(again).data).toEqual({ metered_count: 0, invoiced_count: 0 });
      const spend = await app.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth });
      expect(body(spend).data.monthly_run_rate_usd).toBe(5.04);
    });

    it('rollup_token_mismatch: the internal token its callers hold is refused', async () => {
      const rotated = await h.app({ faults: ['rollup_token_mismatch'] });
      const url = '/api/v1/internal/billing/provisioning/meter/rollup';
      const refused = await rotated.inject({ method: 'POST', url, headers: { authorization: `Bearer ${TEST_KEYS.internal}` }, payload: { now: '2000-01-01T00:00:00Z' } });
      expect(refused.statusCode).toBe(401);
    });
  });
});

function envOf(h: Harness): Record<string, string> {
  return {
    BASE_URL: h.config.baseUrl,
    STRIPE_API_BASE: h.config.stripeApiBase,
    WORKER_HEALTH_URL: h.config.workerHealthUrl,
    DATABASE_URL: h.config.databaseUrl,
    STRIPE_SECRET_KEY: TEST_KEYS.secret,
    STRIPE_PUBLISHABLE_KEY: TEST_KEYS.publishable,
    STRIPE_WEBHOOK_SECRET: TEST_KEYS.webhook,
    INTERNAL_API_TOKEN: TEST_KEYS.internal,
    CREDENTIALS_ENCRYPTION_KEY: 'test-key',
    STACK_DIR: h.stackDir,
  };
}
