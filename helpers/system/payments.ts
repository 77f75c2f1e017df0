/**
 * Stripe, through the SDK client of helpers/clients/stripe.ts, for the truth behind checkout: the
 * customer's subscriptions and the delivery of its events. The local emulator's webhook journal is
 * read over undici for evidence only.
 */
import { randomBytes } from 'node:crypto';
import type Stripe from 'stripe';
import type { Dispatcher } from 'undici';
import type { Config } from '../config';
import { describeCall, httpJson } from '../clients/http';
import { stripeWebhookJournalSchema } from '../schemas';

/** A secret no deployment uses: what an attacker without the endpoint's signing secret can do. */
const FORGER_SECRET = 'whsec_forged_by_the_e2e_suite';

/**
 * A `checkout.session.completed` event for a real (unpaid) session, signed correctly in form but
 * with the wrong secret: the stack must refuse it (400) and activate nothing.
 */
export function forgedCheckoutCompletedEvent(stripe: Stripe, session: { id: string; accountId: string }): { payload: string; signature: string } {
  const payload = JSON.stringify({
    id: `evt_e2e_forged_${randomBytes(8).toString('hex')}`,
    object: 'event',
    type: 'checkout.session.completed',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    data: { object: { id: session.id, object: 'checkout.session', status: 'complete', payment_status: 'paid', client_reference_id: session.accountId } },
  });
  return { payload, signature: stripe.webhooks.generateTestHeaderString({ payload, secret: FORGER_SECRET }) };
}

/** Whether an event's object is the customer or one of its objects (session, subscription, invoice). */
function aboutCustomer(object: unknown, customerId: string): boolean {
  const { id, object: kind, customer } = (object ?? {}) as { id?: unknown; object?: unknown; customer?: unknown };
  if (kind === 'customer') return id === customerId;
  const owner = typeof customer === 'string' ? customer : (customer as { id?: unknown } | null)?.id;
  return owner === customerId;
}

export type SubscriptionSummary = { id: string; status: string; customer: string; created: number };

export type WebhookEndpointView = { id: string; url: string; status: string; enabled_events: string[] };

/** The customer's events that prove checkout reached the backend's webhook: one delivered is enough (RUNBOOK step 1). */
export const CUSTOMER_WEBHOOK_EVENTS = ['checkout.session.completed', 'customer.subscription.created', 'customer.subscription.updated'] as const;

/** Origin and path, without a trailing slash: the same endpoint however it is spelled. */
function endpointKey(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}

/**
 * What keeps Stripe from delivering the customer's events to `url`: no endpoint registered with
 * that URL, or one that is disabled or subscribes to none of them. Null when one can receive them.
 */
export function webhookEndpointProblem(endpoints: WebhookEndpointView[], url: string): string | null {
  const matching = endpoints.filter((e) => endpointKey(e.url) === endpointKey(url));
  if (matching.length === 0) {
    const registered = endpoints.map((e) => e.url).join(', ') || 'none';
    return `no Stripe webhook endpoint is registered with the target's webhook URL ${url} (registered: ${registered})`;
  }
  const subscribes = (e: WebhookEndpointView) => e.enabled_events.some((type) => type === '*' || (CUSTOMER_WEBHOOK_EVENTS as readonly string[]).includes(type));
  if (matching.some((e) => e.status === 'enabled' && subscribes(e))) return null;
  return `the Stripe webhook endpoint for ${url} cannot receive the customer's events: ${matching
    .map((e) => `${e.id} is ${e.status}, subscribed to ${e.enabled_events.join(', ') || 'nothing'}`)
    .join('; ')}`;
}

export class Payments {
  constructor(
    private readonly stripe: Stripe,
    private readonly config: Pick<Config, 'STRIPE_API_BASE' | 'isLocalTarget'>,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** A forged `checkout.session.completed` for a real session (see forgedCheckoutCompletedEvent). */
  forgedCheckoutCompleted(session: { id: string; accountId: string }): { payload: string; signature: string } {
    return forgedCheckoutCompletedEvent(this.stripe, session);
  }

  /** Answers only with a valid secret key; used by pre-flight to prove the key. */
  async probe(): Promise<void> {
    await this.stripe.customers.list({ limit: 1, email: 'preflight-probe@e2e.invalid' });
  }

  /**
   * Events created since `since` that Stripe has not delivered to every webhook endpoint: still
   * pending, or failed (Stripe's own `delivery_success=false`), newest first, up to 100. With a
   * customer, only the events about that customer (a shared test account has other traffic).
   */
  async undeliveredEvents(since: Date, customerId?: string): Promise<{ id: string; type: string; created: number }[]> {
    const list = await this.stripe.events.list({ delivery_success: false, created: { gte: Math.floor(since.getTime() / 1000) }, limit: 100 });
    return list.data
      .filter((e) => customerId === undefined || aboutCustomer(e.data.object, customerId))
      .map((e) => ({ id: e.id, type: e.type, created: e.created }));
  }

  /** The webhook endpoints registered at Stripe (`GET /v1/webhook_endpoints`). */
  async webhookEndpoints(): Promise<WebhookEndpointView[]> {
    const list = await this.stripe.webhookEndpoints.list({ limit: 100 });
    return list.data.map((e) => ({ id: e.id, url: e.url, status: e.status, enabled_events: [...e.enabled_events] }));
  }

  /** The registered endpoints, and what keeps one with `url` from receiving the customer's events (webhookEndpointProblem). */
  async webhookEndpointFor(url: string): Promise<{ problem: string | null; endpoints: WebhookEndpointView[] }> {
    const endpoints = await this.webhookEndpoints();
    return { problem: webhookEndpointProblem(endpoints, url), endpoints };
  }

  /**
   * Probe: the customer's checkout and subscription events since `since` that Stripe delivered
   * successfully to every endpoint (`delivery_success=true`), or null while there are none.
   */
  async deliveredCustomerEvents(since: Date, customerId: string): Promise<{ id: string; type: string; created: number }[] | null> {
    const list = await this.stripe.events.list({
      delivery_success: true,
      types: [...CUSTOMER_WEBHOOK_EVENTS],
      created: { gte: Math.floor(since.getTime() / 1000) },
      limit: 100,
    });
    const delivered = list.data.filter((e) => aboutCustomer(e.data.object, customerId)).map((e) => ({ id: e.id, type: e.type, created: e.created }));
    return delivered.length > 0 ? delivered : null;
  }

  async subscriptionsOfCustomer(customerId: string): Promise<SubscriptionSummary[]> {
    const list = await this.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 100 });
    return list.data.map((s) => ({ id: s.id, status: s.status, customer: typeof s.customer === 'string' ? s.customer : s.customer.id, created: s.created }));
  }

  /** Every subscription of every Stripe customer with this e-mail (there may be none). */
  async subscriptionsOfEmail(email: string): Promise<SubscriptionSummary[]> {
    const customers = await this.stripe.customers.list({ email, limit: 100 });
    const all: SubscriptionSummary[] = [];
    for (const customer of customers.data) all.push(...(await this.subscriptionsOfCustomer(customer.id)));
    return all;
  }

  /**
   * The emulator's webhook deliveries, as evidence (local target only; null elsewhere). Evidence
   * must not fail a test, so an unreadable journal is reported in place of the list.
   */
  async webhookDeliveries(): Promise<unknown> {
    if (!this.config.isLocalTarget) return null;
    const url = `${this.config.STRIPE_API_BASE.replace(/\/+$/, '')}/__emulator/webhooks`;
    try {
      const response = await httpJson(this.dispatcher, url);
      const parsed = stripeWebhookJournalSchema.safeParse(response.json);
      return parsed.success ? parsed.data : { unreadable: `${describeCall('GET', url)} answered ${response.status}` };
    } catch (error) {
      return { unreadable: error instanceof Error ? error.message : String(error) };
    }
  }
}
