import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from './server';
import {
  confirmCheckout,
  PUBLISHABLE_KEY,
  RETURN_URL,
  SECRET_KEY,
  startTestEmulator,
  startWebhookReceiver,
  stripeClient,
  waitFor,
  WEBHOOK_SECRET,
  type WebhookReceiver,
} from './test-support';

async function freeSession(stripe: Stripe, extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
  return stripe.checkout.sessions.create({
    ui_mode: 'embedded_page',
    mode: 'subscription',
    line_items: [{ price: 'price_free_monthly', quantity: 1 }],
    return_url: RETURN_URL,
    ...extra,
  });
}

async function caught(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await promise;
  } catch (error) {
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}

describe('Stripe emulator through the stripe SDK', () => {
  let emulator: StripeEmulator;
  let receiver: WebhookReceiver;
  let stripe: Stripe;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    emulator = await startTestEmulator({ webhookUrl: receiver.url });
    stripe = stripeClient(emulator);
  });

  afterAll(async () => {
    await emulator.close();
    await receiver.close();
  });

  afterEach(() => {
    receiver.received.length = 0;
    receiver.failFirst.length = 0;
  });

  it('lists the seeded prices by lookup key', async () => {
    const prices = await stripe.prices.list({ lookup_keys: ['free_monthly', 'pro_cloud_monthly'], active: true });
    expect(prices.object).toBe('list');
    expect(prices.url).toBe('/v1/prices');
    const byKey = Object.fromEntries(prices.data.map((price) => [price.lookup_key, price]));
    expect(byKey.free_monthly).toMatchObject({ id: 'price_free_monthly', unit_amount: 0, currency: 'usd', recurring: { interval: 'month' } });
    expect(byKey.pro_cloud_monthly).toMatchObject({ id: 'price_pro_cloud_monthly', unit_amount: 4900 });
    const pro = await stripe.prices.retrieve('price_pro_cloud_monthly', { expand: ['product'] });
    expect((pro.product as Stripe.Product).name).toBe('Pro Cloud');
    const products = await stripe.products.list();
    expect(products.data.map((product) => product.name).sort()).toEqual(['Free', 'Pro Cloud']);
  });

  it('creates and retrieves an embedded_page session, and accepts the older name embedded', async () => {
    const session = await freeSession(stripe, { client_reference_id: 'acct_1', metadata: { plan: 'free' }, customer_email: 'a@example.com' });
    expect(session).toMatchObject({
      object: 'checkout.session',
      status: 'open',
      payment_status: 'unpaid',
      ui_mode: 'embedded_page',
      mode: 'subscription',
      customer: null,
      subscription: null,
      amount_total: 0,
      currency: 'usd',
      livemode: false,
      url: null,
      return_url: RETURN_URL,
      client_reference_id: 'acct_1',
      metadata: { plan: 'free' },
      customer_email: 'a@example.com',
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.client_secret).toMatch(new RegExp(`^${session.id}_secret_[A-Za-z0-9]+$`));
    const hours = (session.expires_at - session.created) / 3600;
    expect(hours).toBe(24);
    const again = await stripe.checkout.sessions.retrieve(session.id);
    expect(again).toEqual(session);

    const older = await freeSession(stripe, { ui_mode: 'embedded' as Stripe.Checkout.SessionCreateParams.UiMode });
    expect(older.ui_mode).toBe('embedded');
    expect(older.client_secret).toBeTruthy();
  });

  it('rejects a return_url without {CHECKOUT_SESSION_ID}, and success_url on embedded', async () => {
    const missing = await caught(freeSession(stripe, { return_url: 'http://127.0.0.1:3100/checkout/return' }));
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing.statusCode).toBe(400);
    expect(missing.param).toBe('return_url');
    expect(missing.message).toContain('{CHECKOUT_SESSION_ID}');

    const noReturn = await caught(freeSession(stripe, { return_url: undefined }));
    expect(noReturn.param).toBe('return_url');

    const success = await caught(freeSession(stripe, { success_url: 'http://x.test/ok?s={CHECKOUT_SESSION_ID}' }));
    expect(success.param).toBe('success_url');

    const never = await freeSession(stripe, { return_url: undefined, redirect_on_completion: 'never' });
    expect(never.redirect_on_completion).toBe('never');
  });

  it('rejects unknown prices, unknown parameters and payment_method_types on endive', async () => {
    const price = await caught(freeSession(stripe, { line_items: [{ price: 'price_nope', quantity: 1 }] }));
    expect(price.statusCode).toBe(400);
    expect(price.code).toBe('resource_missing');
    expect(price.param).toBe('line_items[0][price]');
    expect(price.message).toBe("No such price: 'price_nope'");

    const quantity = await caught(freeSession(stripe, { line_items: [{ price: 'price_free_monthly' }] }));
    expect(quantity.code).toBe('parameter_missing');
    expect(quantity.param).toBe('line_items[0][quantity]');

    const pmt = await caught(freeSession(stripe, { payment_method_types: ['card'] } as Partial<Stripe.Checkout.SessionCreateParams>));
    expect(pmt.code).toBe('parameter_unknown');
    expect(pmt.param).toBe('payment_method_types');

    const unknown = await caught(freeSession(stripe, { colour: 'blue' } as Partial<Stripe.Checkout.SessionCreateParams>));
    expect(unknown.message).toBe('Received unknown parameter: colour');

    const missing = await caught(stripe.checkout.sessions.retrieve('cs_test_x'));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe('resource_missing');
    expect(missing.message).toBe("No such checkout.session: 'cs_test_x'");
  });

  it('answers a wrong or live key with 401 and never echoes the key', async () => {
    const wrong = await caught(stripeClient(emulator, 'sk_test_this_is_not_the_key_1234').prices.list());
    expect(wrong).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.message).toMatch(/^Invalid API Key provided: sk_test_\*+1234$/);
    expect(wrong.message).not.toContain('this_is_not');

    const live = await caught(stripeClient(emulator, 'sk_live_abcdefghijklmnop').prices.list());
    expect(live).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);

    const raw = await fetch(`${emulator.url}/v1/prices`);
    expect(raw.status).toBe(401);
    expect(((await raw.json()) as { error: { message: string } }).error.message).toContain('You did not provide an API key');

    const basic = await fetch(`${emulator.url}/v1/prices`, {
      headers: { authorization: `Basic ${Buffer.from(`${SECRET_KEY}:`).toString('base64')}` },
    });
    expect(basic.status).toBe(200);
  });

  it('completes a session paid with 4242: customer, active subscription, signed webhook', async () => {
    const session = await freeSession(stripe, { client_reference_id: 'acct_42' });
    const confirmed = await confirmCheckout(emulator, session.client_secret ?? '', { email: 'paid@example.com' });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.redirect_url).toBe(`http://127.0.0.1:3100/checkout/return?session_id=${session.id}`);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription', 'customer'] });
    expect(done.status).toBe('complete');
    expect(done.payment_status).toBe('no_payment_required');
    const customer = done.customer as Stripe.Customer;
    expect(customer.email).toBe('paid@example.com');
    const subscription = done.subscription as Stripe.Subscription;
    expect(subscription.status).toBe('active');
    expect(done.customer_details?.email).toBe('paid@example.com');

    const listed = await stripe.subscriptions.list({ customer: customer.id });
    expect(listed.data).toHaveLength(1);
    const item = listed.data[0]?.items.data[0];
    expect(item?.price.id).toBe('price_free_monthly');
    expect(item?.current_period_end).toBeGreaterThan(item?.current_period_start ?? Infinity);
    expect(listed.data[0]?.default_payment_method).toMatch(/^pm_/);
    const byEmail = await stripe.customers.list({ email: 'paid@example.com' });
    expect(byEmail.data.map((c) => c.id)).toEqual([customer.id]);

    const hooks = await waitFor(() => (receiver.received.length >= 2 ? receiver.received : undefined));
    const events = hooks.map((hook) => stripe.webhooks.constructEvent(hook.body, hook.signature, WEBHOOK_SECRET));
    const completed = events.find((event) => event.type === 'checkout.session.completed');
    expect(completed).toBeDefined();
    expect(completed?.api_version).toBe('2026-10-28.endive');
    expect(completed?.livemode).toBe(false);
    const completedSession = completed?.data.object as Stripe.Checkout.Session;
    expect(completedSession).toMatchObject({ id: session.id, status: 'complete', client_reference_id: 'acct_42', subscription: subscription.id });
    expect(events.map((event) => event.type)).toContain('customer.subscription.created');

    const forged = hooks[0];
    expect(() => stripe.webhooks.constructEvent(forged?.body ?? '', forged?.signature ?? '', 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );

    const listedEvents = await stripe.events.list({ type: 'checkout.session.completed' });
    expect(listedEvents.data.some((event) => event.id === completed?.id)).toBe(true);
    const event = await stripe.events.retrieve(completed?.id ?? '');
    expect(event.pending_webhooks).toBe(0);

    const again = await confirmCheckout(emulator, session.client_secret ?? '');
    expect(again.status).toBe(409);
  });

  it('keeps the session open and creates nothing when the card is declined', async () => {
    const session = await freeSession(stripe);
    const before = (await stripe.customers.list({ limit: 100 })).data.length;
    const declined = await confirmCheckout(emulator, session.client_secret ?? '', { cardNumber: '4000000000000002', email: 'declined@example.com' });
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({ type: 'card_error', code: 'card_declined', message: 'Your card was declined.' });
    const funds = await confirmCheckout(emulator, session.client_secret ?? '', { cardNumber: '4000 0000 0000 9995' });
    expect(funds.body.error).toMatchObject({ decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' });

    const still = await stripe.checkout.sessions.retrieve(session.id);
    expect(still.status).toBe('open');
    expect(still.subscription).toBeNull();
    expect((await stripe.customers.list({ limit: 100 })).data.length).toBe(before);
    expect((await stripe.customers.list({ email: 'declined@example.com' })).data).toHaveLength(0);
    expect(receiver.received).toHaveLength(0);

    const ok = await confirmCheckout(emulator, session.client_secret ?? '', { cardNumber: '4242424242424242' });
    expect(ok.status).toBe(200);
  });

  it('validates the card form on the server with Stripe-like messages', async () => {
    const session = await freeSession(stripe);
    const bad = await confirmCheckout(emulator, session.client_secret ?? '', {
      cardNumber: '4242 4242 4242',
      cardExpiry: '01 / 20',
      cardCvc: '1',
      saveInfo: true,
      phoneNumber: '',
    });
    expect(bad.status).toBe(400);
    expect((bad.body.error as { fields: Record<string, string> }).fields).toEqual({
      cardNumber: 'Your card number is incomplete.',
      cardExpiry: "Your card's expiration date is in the past.",
      cardCvc: "Your card's security code is incomplete.",
      phoneNumber: 'Your phone number is incomplete.',
    });
    const wrongSecret = await confirmCheckout(emulator, `${session.id}_secret_wrong`);
    expect(wrongSecret.status).toBe(401);
  });

  it('retries a webhook the receiver first answers with 500', async () => {
    receiver.failFirst.push(500);
    const session = await freeSession(stripe, { metadata: { retry: 'yes' } });
    await confirmCheckout(emulator, session.client_secret ?? '');
    const deliveries = await waitFor(async () => {
      const response = await fetch(`${emulator.url}/__emulator/webhooks`);
      const { webhooks } = (await response.json()) as { webhooks: { event_id: string; type: string; attempts: number; delivered: boolean; last_status: number }[] };
      const done = webhooks.filter((hook) => hook.delivered);
      return webhooks.length > 0 && done.length === webhooks.length ? webhooks : undefined;
    });
    const retried = deliveries.filter((hook) => hook.attempts === 2);
    expect(retried).toHaveLength(1);
    expect(retried[0]?.last_status).toBe(200);
    const bodies = receiver.received.map((hook) => JSON.parse(hook.body) as { id: string });
    const retriedBodies = bodies.filter((body) => body.id === retried[0]?.event_id);
    expect(retriedBodies).toHaveLength(2);
  });

  it('replays an idempotent POST and refuses the same key with other parameters', async () => {
    const key = `test-${Date.now()}`;
    const first = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: key });
    const second = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    const conflict = await caught(stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: key }));
    expect(conflict).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((await stripe.customers.list({ email: 'idem@example.com' })).data).toHaveLength(1);
  });

  it('updates and cancels subscriptions', async () => {
    const session = await freeSession(stripe);
    await confirmCheckout(emulator, session.client_secret ?? '', { email: 'cancel@example.com' });
    const { subscription } = await stripe.checkout.sessions.retrieve(session.id);
    const id = String(subscription);
    const updated = await stripe.subscriptions.update(id, { cancel_at_period_end: true, metadata: { why: 'test' } });
    expect(updated.cancel_at_period_end).toBe(true);
    expect(updated.cancel_at).toBe(updated.items.data[0]?.current_period_end);
    const canceled = await stripe.subscriptions.cancel(id);
    expect(canceled.status).toBe('canceled');
    const customer = String((await stripe.subscriptions.retrieve(id)).customer);
    expect((await stripe.subscriptions.list({ customer })).data).toHaveLength(0);
    expect((await stripe.subscriptions.list({ customer, status: 'all' })).data).toHaveLength(1);
    const deleted = await stripe.events.list({ type: 'customer.subscription.deleted' });
    expect(deleted.data[0]?.data.object).toMatchObject({ id, status: 'canceled' });
  });

  it('pages through lists and expands list items', async () => {
    const created = [];
    for (let i = 0; i < 3; i += 1) created.push(await stripe.customers.create({ email: `page${i}@example.com`, metadata: { page: 'yes' } }));
    const first = await stripe.customers.list({ limit: 2 });
    expect(first.has_more).toBe(true);
    expect(first.data.map((c) => c.id)).toEqual([created[2]?.id, created[1]?.id]);
    const next = await stripe.customers.list({ limit: 2, starting_after: first.data[1]?.id });
    expect(next.data[0]?.id).toBe(created[0]?.id);
    const session = await freeSession(stripe);
    const withItems = await stripe.checkout.sessions.retrieve(session.id, { expand: ['line_items'] });
    expect(withItems.line_items?.data[0]?.price?.id).toBe('price_free_monthly');
    const bad = await caught(stripe.checkout.sessions.retrieve(session.id, { expand: ['status'] }));
    expect(bad.message).toBe('This property cannot be expanded (status).');
  });

  it('answers malformed requests with a 4xx, never a 500', async () => {
    const auth = { authorization: `Bearer ${SECRET_KEY}` };
    const json = await fetch(`${emulator.url}/v1/customers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{"email":"x@example.com"}',
    });
    expect(json.status).toBe(400);
    const brackets = await fetch(`${emulator.url}/v1/customers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'metadata[a=1',
    });
    expect(brackets.status).toBe(400);
    const conflict = await fetch(`${emulator.url}/v1/customers`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'metadata=1&metadata[a]=2',
    });
    expect(conflict.status).toBe(400);
    const encoding = await fetch(`${emulator.url}/v1/customers?email=%E0%A4%A`, { headers: auth });
    expect(encoding.status).toBe(400);
    const route = await fetch(`${emulator.url}/v1/nothing`, { headers: auth });
    expect(route.status).toBe(404);
    const pageBody = await fetch(`${emulator.url}/v3/checkout_sessions/cs_test_x/confirm`, { method: 'POST', body: 'not json' });
    expect(pageBody.status).toBe(400);
    const limit = await fetch(`${emulator.url}/v1/customers?limit=1000`, { headers: auth });
    expect(limit.status).toBe(400);
  });

  it('serves the Stripe.js shim and a checkout page holding every contract id', async () => {
    for (const path of ['/v3', '/v3/']) {
      const response = await fetch(`${emulator.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/javascript/);
      const script = await response.text();
      expect(script).toContain('createEmbeddedCheckoutPage');
      expect(script).toContain('initEmbeddedCheckout');
      expect(script).toContain(JSON.stringify(PUBLISHABLE_KEY));
      expect(script).toContain(`${emulator.url}/v3/embedded-checkout`);
      expect(script).not.toContain(SECRET_KEY);
    }
    const shim = await (await fetch(`${emulator.url}/v3`)).text();
    const sandbox: { window: Record<string, unknown>; document: object } = { window: {}, document: {} };
    runInNewContext(shim, sandbox);
    const StripeJs = sandbox.window.Stripe as (key: string) => { initEmbeddedCheckout(): void };
    expect(typeof StripeJs).toBe('function');
    expect(() => StripeJs(SECRET_KEY)).toThrow(/secret key/);
    expect(() => StripeJs(PUBLISHABLE_KEY).initEmbeddedCheckout()).toThrow(
      expect.objectContaining({ name: 'IntegrationError', message: expect.stringContaining('createEmbeddedCheckoutPage') }),
    );

    const page = await fetch(`${emulator.url}/v3/embedded-checkout`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    for (const id of ['email', 'cardNumber', 'cardExpiry', 'cardCvc', 'billingName', 'billingPostalCode', 'enableStripePass', 'phoneNumber']) {
      expect(html).toContain(`id="${id}"`);
      expect(html).toContain(`for="${id}"`);
    }
    expect(html).toContain('data-testid="hosted-payment-submit-button"');
    expect(html).toContain('data-testid="product-summary"');
    expect(html).toContain('placeholder="1234 1234 1234 1234"');
    expect(html).toContain('placeholder="MM / YY"');
    expect(html).toContain('Save my information for faster checkout');
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);

    const session = await freeSession(stripe, { customer_email: 'known@example.com' });
    const view = await fetch(
      `${emulator.url}/v3/checkout_sessions/${session.id}?client_secret=${session.client_secret}&key=${PUBLISHABLE_KEY}`,
    );
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ email: 'known@example.com', submit_label: 'Subscribe', amount_total: 0 });
    const wrong = await fetch(`${emulator.url}/v3/checkout_sessions/${session.id}?client_secret=nope&key=${PUBLISHABLE_KEY}`);
    expect(wrong.status).toBe(401);
    const badKey = await fetch(`${emulator.url}/v3/checkout_sessions/${session.id}?client_secret=${session.client_secret}&key=pk_test_other`);
    expect(badKey.status).toBe(401);
  });

  it('refuses, with a 400, the sessions the product never creates: hosted, payment, setup, trial', async () => {
    const hosted = await caught(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        line_items: [{ price: 'price_pro_cloud_monthly', quantity: 1 }],
        success_url: 'http://127.0.0.1:3100/done?session_id={CHECKOUT_SESSION_ID}',
      }),
    );
    expect(hosted).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(hosted.statusCode).toBe(400);
    expect(hosted.param).toBe('ui_mode');
    expect(hosted.message).toContain('hosted_page');
    const hostedPage = await caught(freeSession(stripe, { ui_mode: 'hosted_page', return_url: undefined }));
    expect([hostedPage.statusCode, hostedPage.param]).toEqual([400, 'ui_mode']);

    for (const mode of ['payment', 'setup'] as const) {
      const refused = await caught(freeSession(stripe, { mode }));
      expect([refused.statusCode, refused.type, refused.param]).toEqual([400, 'StripeInvalidRequestError', 'mode']);
      expect(refused.message).toContain(`mode=${mode}`);
    }

    const trial = await caught(freeSession(stripe, { subscription_data: { trial_period_days: 14 } }));
    expect([trial.statusCode, trial.code, trial.param]).toEqual([400, 'parameter_unknown', 'subscription_data[trial_period_days]']);
    const creation = await caught(freeSession(stripe, { customer_creation: 'always' }));
    expect([creation.statusCode, creation.code, creation.param]).toEqual([400, 'parameter_unknown', 'customer_creation']);

    const kept = await freeSession(stripe, { subscription_data: { metadata: { plan: 'free' } } });
    expect(kept.status).toBe('open');
    expect((await fetch(`${emulator.url}/c/pay/${kept.id}`)).status).toBe(404);
  });

  it('journals requests without secrets and resets on DELETE', async () => {
    await fetch(`${emulator.url}/__emulator/requests`, { method: 'DELETE' });
    const session = await freeSession(stripe);
    await fetch(`${emulator.url}/v3/checkout_sessions/${session.id}?client_secret=${session.client_secret}&key=${PUBLISHABLE_KEY}`);
    const { requests } = (await (await fetch(`${emulator.url}/__emulator/requests`)).json()) as {
      requests: { method: string; path: string; status: number; time: string }[];
    };
    expect(requests[0]).toMatchObject({ method: 'POST', path: '/v1/checkout/sessions', status: 200 });
    expect(JSON.stringify(requests)).not.toContain(session.client_secret ?? 'x');
    expect(JSON.stringify(requests)).not.toContain(SECRET_KEY);
    expect((await (await fetch(`${emulator.url}/__emulator/health`)).json()) as object).toMatchObject({ status: 'ok' });
  });
});

/** An endpoint that answers every delivery with `status` until it is changed. */
async function endpointAnswering(status: number): Promise<{ url: string; status: number; close(): Promise<void> }> {
  const endpoint = { url: '', status, close: () => Promise.resolve() };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(endpoint.status).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/billing/stripe/webhooks`;
  endpoint.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return endpoint;
}

describe('Stripe emulator: events by delivery outcome', () => {
  it('lists an event as delivery_success=false once its endpoint refused every attempt, and true once one answers 2xx', async () => {
    // The 404 of a mistyped endpoint path, on every attempt (four: three retries).
    const endpoint = await endpointAnswering(404);
    const emulator = await startTestEmulator({ webhookUrl: endpoint.url, webhookRetryDelaysMs: [20, 20, 20] });
    try {
      const stripe = stripeClient(emulator);
      const since = Math.floor(Date.now() / 1000);
      const session = await freeSession(stripe);
      await confirmCheckout(emulator, session.client_secret ?? '');
      const gaveUp = await waitFor(async () => {
        const { webhooks } = (await (await fetch(`${emulator.url}/__emulator/webhooks`)).json()) as {
          webhooks: { event_id: string; type: string; gave_up: boolean; delivered: boolean; attempts: number }[];
        };
        return webhooks.find((hook) => hook.type === 'checkout.session.completed' && hook.gave_up);
      });
      expect(gaveUp).toMatchObject({ delivered: false, attempts: 4 });

      const failed = await stripe.events.list({ delivery_success: false, created: { gte: since } });
      expect(failed.data.map((event) => event.id)).toContain(gaveUp.event_id);
      expect(failed.data.every((event) => event.pending_webhooks > 0)).toBe(true);
      const succeeded = await stripe.events.list({ delivery_success: true, created: { gte: since } });
      expect(succeeded.data.map((event) => event.id)).not.toContain(gaveUp.event_id);

      endpoint.status = 200;
      const second = await freeSession(stripe);
      await confirmCheckout(emulator, second.client_secret ?? '', { email: 'second@example.com' });
      const delivered = await waitFor(async () => {
        const events = await stripe.events.list({ type: 'checkout.session.completed', delivery_success: true, created: { gte: since } });
        return events.data[0];
      });
      expect(delivered.data.object).toMatchObject({ id: second.id });
      expect((await stripe.events.list({ delivery_success: false, created: { gte: since } })).data.map((event) => event.id)).not.toContain(delivered.id);
    } finally {
      await emulator.close();
      await endpoint.close();
    }
  });

  it('refuses a delivery_success that is not a boolean', async () => {
    const emulator = await startTestEmulator();
    try {
      const response = await fetch(`${emulator.url}/v1/events?delivery_success=maybe`, { headers: { authorization: `Bearer ${SECRET_KEY}` } });
      expect(response.status).toBe(400);
    } finally {
      await emulator.close();
    }
  });
});

describe('Stripe emulator: webhook endpoints', () => {
  it('lists the endpoint it delivers to, with its URL, status and events, as GET /v1/webhook_endpoints does', async () => {
    const emulator = await startTestEmulator({ webhookUrl: 'http://127.0.0.1:9/api/v1/billing/stripe/webhook' });
    try {
      const stripe = stripeClient(emulator);
      const list = await stripe.webhookEndpoints.list({ limit: 10 });
      expect(list.data).toHaveLength(1);
      const [endpoint] = list.data;
      expect(endpoint).toMatchObject({
        object: 'webhook_endpoint',
        url: 'http://127.0.0.1:9/api/v1/billing/stripe/webhook',
        status: 'enabled',
        livemode: false,
      });
      expect(endpoint?.enabled_events).toContain('checkout.session.completed');
      expect(await stripe.webhookEndpoints.retrieve(endpoint!.id)).toMatchObject({ id: endpoint!.id, url: endpoint!.url });
      expect((await caught(stripe.webhookEndpoints.retrieve('we_missing'))).statusCode).toBe(404);
    } finally {
      await emulator.close();
    }
  });

  it('lists none without a webhook URL, and its sink accepts any delivery', async () => {
    const emulator = await startTestEmulator();
    try {
      expect((await stripeClient(emulator).webhookEndpoints.list()).data).toEqual([]);
      const sink = await fetch(`${emulator.url}/__emulator/webhook-sink`, { method: 'POST', body: '{"id":"evt_1"}' });
      expect(sink.status).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});

describe('Stripe emulator state file', () => {
  it('keeps customers and subscriptions across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
    const stateFile = join(dir, 'nested', 'stripe-state.json');
    try {
      const first = await startTestEmulator({ stateFile });
      const stripe = stripeClient(first);
      const session = await freeSession(stripe);
      await confirmCheckout(first, session.client_secret ?? '', { email: 'persist@example.com' });
      await first.close();
      expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toMatchObject({ version: 1 });

      const second = await startTestEmulator({ stateFile });
      const again = stripeClient(second);
      const [customer] = (await again.customers.list({ email: 'persist@example.com' })).data;
      expect(customer).toBeDefined();
      expect((await again.subscriptions.list({ customer: customer?.id ?? '' })).data[0]?.status).toBe('active');
      expect((await again.prices.list()).data).toHaveLength(2);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a corrupt state file with a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-'));
    try {
      const stateFile = join(dir, 'state.json');
      await import('node:fs').then((fs) => fs.writeFileSync(stateFile, '{oops'));
      await expect(startTestEmulator({ stateFile })).rejects.toThrow(/not valid JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses live keys and malformed options', async () => {
    await expect(startTestEmulator({ secretKeys: ['sk_live_abc'] })).rejects.toThrow(/test-mode/);
    await expect(startTestEmulator({ publishableKey: 'pk_live_abc' })).rejects.toThrow(/pk_test_/);
    await expect(startTestEmulator({ webhookUrl: 'not a url' })).rejects.toThrow(/webhookUrl/);
  });
});
