/**
 * The checkout page's own endpoints, behind the iframe at /v3/embedded-checkout: the session as
 * the page shows it (`GET /v3/checkout_sessions/:id`) and the customer's confirmation
 * (`POST …/confirm`), which checks the card like Stripe, then opens the customer, attaches the
 * card, starts the subscription and completes the session. Both need the session's client secret
 * and the publishable key, as Stripe.js sends them.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readJson, type Reply } from '../http-kit';
import { declineFor, validateCardForm, type CardForm } from './cards';
import type { CheckoutSessions } from './checkout-sessions';
import type { Billing, Customers } from './customers';
import { maskKey } from './errors';
import type { Events, RequestContext } from './events';
import { API_VERSION, type CheckoutSession } from './objects';
import type { SessionRecord } from './store';
import type { Subscriptions } from './subscriptions';

const MAX_CONFIRM_BYTES = 64 * 1024;

export interface PageView {
  id: string;
  status: CheckoutSession['status'];
  livemode: false;
  currency: string;
  amount_total: number;
  email: string | null;
  line_items: { name: string; quantity: number; unit_amount: number; amount: number; interval: string | null; interval_count: number | null }[];
  submit_label: string;
}

export interface CheckoutPageDeps {
  sessions: CheckoutSessions;
  customers: Customers;
  subscriptions: Subscriptions;
  events: Events;
  publishableKey: string;
}

export class CheckoutPage {
  constructor(private readonly deps: CheckoutPageDeps) {}

  async handle(req: IncomingMessage, url: URL, sessionId: string, confirm: boolean, requestId: string): Promise<Reply> {
    let payload: Record<string, unknown> = {};
    let secret: string;
    let key: string;
    if (confirm) {
      const body = await readJson(req, MAX_CONFIRM_BYTES);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return pageError(400, 'invalid_request_error', 'The request body must be a JSON object.');
      }
      payload = body as Record<string, unknown>;
      secret = typeof payload.client_secret === 'string' ? payload.client_secret : '';
      key = typeof payload.key === 'string' ? payload.key : '';
    } else {
      secret = url.searchParams.get('client_secret') ?? '';
      key = url.searchParams.get('key') ?? '';
    }
    const record = this.find(sessionId, secret);
    if (!record) return pageError(401, 'invalid_request_error', 'No Checkout Session matches this client secret.');
    if (key !== this.deps.publishableKey) {
      return pageError(401, 'invalid_request_error', `Invalid API Key provided: ${maskKey(key || 'pk_test_')}`);
    }
    if (!confirm) return { status: 200, body: this.view(record) };
    const form = readCardForm(payload);
    if (typeof form === 'string') return pageError(400, 'invalid_request_error', form);
    return this.complete(record, form, { requestId, idempotencyKey: null, apiVersion: API_VERSION });
  }

  private find(id: string, secret: string): SessionRecord | undefined {
    const expected = this.deps.sessions.peek(id)?.session.client_secret;
    if (!expected || !sameSecret(secret, expected)) return undefined;
    return this.deps.sessions.record(id);
  }

  private view(record: SessionRecord): PageView {
    const { session } = record;
    return {
      id: session.id,
      status: session.status,
      livemode: false,
      currency: session.currency,
      amount_total: session.amount_total,
      email: session.customer_details?.email ?? session.customer_email ?? this.deps.customers.find(session.customer)?.email ?? null,
      line_items: record.line_items.map((item) => ({
        name: item.description,
        quantity: item.quantity,
        unit_amount: item.price.unit_amount,
        amount: item.amount_total,
        interval: item.price.recurring?.interval ?? null,
        interval_count: item.price.recurring?.interval_count ?? null,
      })),
      submit_label: 'Subscribe',
    };
  }

  /** Nothing is created unless the card passes, so a decline leaves the session open and retryable. */
  private complete(record: SessionRecord, form: CardForm, ctx: RequestContext): Reply {
    const { session } = record;
    if (session.status !== 'open') {
      return {
        status: 409,
        body: { error: { type: 'invalid_request_error', code: 'checkout_session_inactive', message: 'This Checkout Session is no longer active.' } },
      };
    }
    const { card, errors } = validateCardForm(form);
    if (!card) {
      return { status: 400, body: { error: { type: 'validation_error', message: 'Some of the payment details are incomplete or invalid.', fields: errors } } };
    }
    const decline = declineFor(card.number);
    if (decline) {
      const { code, decline_code, message } = decline;
      return { status: 402, body: { error: { type: 'card_error', code, ...(decline_code ? { decline_code } : {}), message } } };
    }

    const billing: Billing = {
      email: form.email.trim(),
      name: form.billingName.trim(),
      phone: form.saveInfo ? form.phoneNumber.trim() : null,
      address: { city: null, country: form.billingCountry || 'US', line1: null, line2: null, postal_code: form.billingPostalCode.trim(), state: null },
    };
    const { customers, subscriptions, events } = this.deps;
    const customer = customers.find(session.customer) ?? customers.openForCheckout(billing, ctx);
    const pm = customers.attachCard(customer.id, card, billing, form.saveInfo, ctx);
    const subscription = subscriptions.start(customer.id, pm.id, record, ctx);
    session.subscription = subscription.id;
    session.payment_status = session.amount_total === 0 ? 'no_payment_required' : 'paid';
    session.status = 'complete';
    session.customer = customer.id;
    session.customer_details = { address: billing.address, email: billing.email, name: billing.name, phone: billing.phone, tax_exempt: 'none', tax_ids: [] };
    events.emit('checkout.session.completed', session, ctx);

    const redirectUrl = session.redirect_on_completion === 'always' && session.return_url ? session.return_url.split('{CHECKOUT_SESSION_ID}').join(session.id) : null;
    return { status: 200, body: { status: 'complete', redirect_url: redirectUrl, message: 'Thanks for subscribing' } };
  }
}

/** The confirm body as the page posts it: strings of bounded length, and a boolean. */
function readCardForm(payload: Record<string, unknown>): CardForm | string {
  const names = ['email', 'cardNumber', 'cardExpiry', 'cardCvc', 'billingName', 'billingCountry', 'billingPostalCode', 'phoneNumber'] as const;
  const values: Partial<Record<(typeof names)[number], string>> = {};
  for (const name of names) {
    const value = payload[name] ?? '';
    if (typeof value !== 'string' || value.length > 500) return `${name} must be a string of at most 500 characters.`;
    values[name] = value;
  }
  if (payload.saveInfo !== undefined && typeof payload.saveInfo !== 'boolean') return 'saveInfo must be a boolean.';
  return {
    email: values.email ?? '',
    cardNumber: values.cardNumber ?? '',
    cardExpiry: values.cardExpiry ?? '',
    cardCvc: values.cardCvc ?? '',
    billingName: values.billingName ?? '',
    billingCountry: values.billingCountry || 'US',
    billingPostalCode: values.billingPostalCode ?? '',
    saveInfo: payload.saveInfo === true,
    phoneNumber: values.phoneNumber ?? '',
  };
}

function pageError(status: number, type: string, message: string): Reply {
  return { status, body: { error: { type, message } } };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
