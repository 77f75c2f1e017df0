/**
 * Stripe Checkout for plan subscriptions (CONTRACT 6.3). A subscription becomes active only when
 * Stripe itself says its Checkout Session is complete: the return page's confirmation and the
 * signed webhook both re-read the session from Stripe and share one idempotent activation.
 */
import type pg from 'pg';
import type Stripe from 'stripe';
import { ApiError, notFound, validationFailed } from '../http/errors';
import { isStripeMissing } from '../stripe';
import { inTransaction, type Db } from './db';
import { planBySlug } from './plans';

export type CheckoutDeps = { pool: pg.Pool; stripe: Stripe; baseUrl: string; publishableKey: string };

async function ensureCustomer(deps: CheckoutDeps, accountId: string, email: string, name: string): Promise<string> {
  const { rows } = await deps.pool.query<{ stripe_customer_id: string | null }>(`SELECT stripe_customer_id FROM accounts WHERE id = $1`, [
    accountId,
  ]);
  const existing = rows[0]?.stripe_customer_id;
  if (existing) return existing;
  const customer = await deps.stripe.customers.create({ email, name, metadata: { account_id: accountId } });
  // Two tabs may race here; the first saved customer wins and the other is left unused in Stripe.
  const saved = await deps.pool.query<{ stripe_customer_id: string }>(
    `UPDATE accounts SET stripe_customer_id = COALESCE(stripe_customer_id, $2), updated_at = now() WHERE id = $1 RETURNING stripe_customer_id`,
    [accountId, customer.id],
  );
  return saved.rows[0]?.stripe_customer_id ?? customer.id;
}

export async function createCheckoutSession(
  deps: CheckoutDeps,
  caller: { accountId: string; email: string; name: string },
  planSlug: string,
): Promise<{ session_id: string; client_secret: string; publishable_key: string }> {
  const plan = await planBySlug(deps.pool, planSlug);
  if (!plan) throw validationFailed({ plan_slug: `Plan slug "${planSlug.slice(0, 40)}" is not a known plan.` });

  const customer = await ensureCustomer(deps, caller.accountId, caller.email, caller.name);
  const prices = await deps.stripe.prices.list({ lookup_keys: [plan.stripe_price_lookup_key], active: true, limit: 1 });
  const price = prices.data[0];
  if (!price) {
    throw new ApiError(502, 'stripe_price_missing', `Stripe has no active price with lookup key "${plan.stripe_price_lookup_key}"`);
  }
  const session = await deps.stripe.checkout.sessions.create({
    ui_mode: 'embedded_page',
    mode: 'subscription',
    customer,
    line_items: [{ price: price.id, quantity: 1 }],
    return_url: `${deps.baseUrl}/checkout/return?session_id={CHECKOUT_SESSION_ID}`,
    client_reference_id: caller.accountId,
    metadata: { account_id: caller.accountId, plan_slug: plan.slug },
  });
  if (!session.client_secret) throw new ApiError(502, 'stripe_error', 'Stripe returned a Checkout Session without a client secret');
  await deps.pool.query(
    `INSERT INTO subscriptions (account_id, saas_plan_id, status, stripe_checkout_session_id) VALUES ($1, $2, 'incomplete', $3)`,
    [caller.accountId, plan.id, session.id],
  );
  return { session_id: session.id, client_secret: session.client_secret, publishable_key: deps.publishableKey };
}

function idOf(value: string | { id: string } | null | undefined): string | null {
  if (!value) return null;
  return typeof value === 'string' ? value : value.id;
}

/**
 * Activates the subscription behind a session Stripe reports complete. Idempotent: running it
 * again (return page, then webhook, then a webhook replay) changes nothing, and a session whose
 * subscription was since replaced stays replaced. Other active subscriptions of the account end,
 * since an account has one plan at a time.
 */
export async function activateFromSession(db: Db, session: Stripe.Checkout.Session): Promise<string | null> {
  if (session.status !== 'complete') return null;
  const existing = await db.query<{ id: string; account_id: string }>(
    `SELECT id, account_id FROM subscriptions WHERE stripe_checkout_session_id = $1`,
    [session.id],
  );
  let row = existing.rows[0];
  if (!row) {
    // A session created outside this API (e.g. from the Stripe dashboard) still names its account.
    const accountId = session.metadata?.account_id ?? session.client_reference_id;
    const plan = session.metadata?.plan_slug ? await planBySlug(db, session.metadata.plan_slug) : null;
    if (!accountId || !plan) return null;
    const account = await db.query(`SELECT 1 FROM accounts WHERE id::text = $1`, [accountId]);
    if (account.rowCount === 0) return null;
    const inserted = await db.query<{ id: string; account_id: string }>(
      `INSERT INTO subscriptions (account_id, saas_plan_id, status, stripe_checkout_session_id) VALUES ($1, $2, 'incomplete', $3)
       ON CONFLICT (stripe_checkout_session_id) DO UPDATE SET updated_at = now() RETURNING id, account_id`,
      [accountId, plan.id, session.id],
    );
    row = inserted.rows[0]!;
  }
  // One activation per account at a time (two sessions paid at once must not both end up active);
  // the status is read only under that lock, since another activation may have changed it meanwhile.
  await db.query(`SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE`, [row.account_id]);
  const current = await db.query<{ status: string }>(`SELECT status FROM subscriptions WHERE id = $1`, [row.id]);
  const status = current.rows[0]?.status;
  // Only an incomplete subscription is activated: a session seen again after a newer plan replaced
  // it (its webhook arriving late, its return page opened again) must not bring the old plan back.
  if (status !== 'incomplete') return status === 'active' ? 'active' : null;
  await db.query(
    `UPDATE subscriptions SET status = 'canceled', updated_at = now() WHERE account_id = $1 AND status = 'active' AND id <> $2`,
    [row.account_id, row.id],
  );
  await db.query(
    `UPDATE subscriptions SET status = 'active', stripe_subscription_id = COALESCE($2, stripe_subscription_id), updated_at = now() WHERE id = $1`,
    [row.id, idOf(session.subscription)],
  );
  return 'active';
}

export type SessionStatus = { status: string; subscription_status: string | null };

/** The return page's confirmation: only the session's own account may read it. */
export async function confirmCheckoutSession(deps: CheckoutDeps, accountId: string, sessionId: string): Promise<SessionStatus> {
  const owned = await deps.pool.query(`SELECT 1 FROM subscriptions WHERE stripe_checkout_session_id = $1 AND account_id = $2`, [
    sessionId,
    accountId,
  ]);
  if (owned.rowCount === 0) throw notFound('The checkout session');
  let session: Stripe.Checkout.Session;
  try {
    session = await deps.stripe.checkout.sessions.retrieve(sessionId);
  } catch (error) {
    if (isStripeMissing(error)) throw notFound('The checkout session');
    throw error;
  }
  if (session.status === 'complete') {
    await inTransaction(deps.pool, (client) => activateFromSession(client, session));
  }
  const { rows } = await deps.pool.query<{ status: string }>(`SELECT status FROM subscriptions WHERE stripe_checkout_session_id = $1`, [
    sessionId,
  ]);
  return { status: session.status ?? 'open', subscription_status: rows[0]?.status ?? null };
}

export type WebhookOutcome = { received: true; duplicate?: true; activated?: boolean; ignored?: true };

/** Handles one verified (or, under the fault, merely parsed) Stripe event, once per event id. */
export async function handleStripeEvent(deps: CheckoutDeps, event: { id: string; type: string; data?: { object?: unknown } }): Promise<WebhookOutcome> {
  return inTransaction(deps.pool, async (client) => {
    const fresh = await client.query(`INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING id`, [
      event.id,
      event.type,
    ]);
    if (fresh.rowCount === 0) return { received: true, duplicate: true };
    if (event.type !== 'checkout.session.completed') return { received: true, ignored: true };

    const object = event.data?.object as { id?: unknown } | undefined;
    if (typeof object?.id !== 'string' || !/^cs_[A-Za-z0-9_]+$/.test(object.id)) return { received: true, activated: false };
    let session: Stripe.Checkout.Session;
    try {
      // The event body is not trusted on its own: Stripe is asked for the session's real state.
      session = await deps.stripe.checkout.sessions.retrieve(object.id);
    } catch (error) {
      if (isStripeMissing(error)) return { received: true, activated: false };
      throw error;
    }
    const status = await activateFromSession(client, session);
    return { received: true, activated: status === 'active' };
  });
}
