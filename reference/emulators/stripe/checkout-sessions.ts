/**
 * Checkout Sessions through the API: create (embedded, subscription mode), read, list, line items
 * and expire. A session left open past `expires_at` expires when it is next read, as on Stripe.
 * The customer completes one in the checkout page (checkout-page.ts).
 */
import { invalidRequest, resourceMissing } from './errors';
import { NO_REQUEST, type Events, type RequestContext } from './events';
import type { FormObject } from './form';
import { paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import { newId, randomToken, unixNow, type CheckoutSession, type LineItem } from './objects';
import { optionalEnum, optionalString, rejectUnknown } from './params';
import { readSessionCreate, type SessionLookups } from './session-params';
import type { SessionRecord, StateData } from './store';

export class CheckoutSessions {
  private readonly lookups: SessionLookups;

  constructor(
    private readonly state: StateData,
    private readonly events: Events,
  ) {
    this.lookups = {
      price: (id) => state.prices[id],
      product: (id) => state.products[id],
      hasCustomer: (id) => Boolean(state.customers[id]),
    };
  }

  create(params: FormObject, ctx: RequestContext): CheckoutSession {
    const now = unixNow();
    const spec = readSessionCreate(params, ctx.apiVersion, this.lookups, now);
    const amount = spec.lineItems.reduce((sum, item) => sum + item.amount_total, 0);
    const id = newId('cs_test', 58);
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      after_expiration: null,
      allow_promotion_codes: spec.allowPromotionCodes ?? null,
      amount_subtotal: amount,
      amount_total: amount,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: spec.billingAddress ?? null,
      cancel_url: null,
      client_reference_id: spec.clientReferenceId,
      client_secret: `${id}_secret_${randomToken(24)}`,
      consent: null,
      consent_collection: null,
      created: now,
      currency: spec.currency,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: spec.customerId,
      customer_creation: null,
      customer_details: null,
      customer_email: spec.customerEmail,
      discounts: [],
      expires_at: spec.expiresAt,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: spec.locale ?? null,
      metadata: spec.metadata,
      mode: 'subscription',
      payment_intent: null,
      payment_link: null,
      payment_method_collection: spec.paymentMethodCollection ?? 'always',
      payment_method_options: {},
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      phone_number_collection: { enabled: spec.phoneEnabled },
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: spec.submitType ?? null,
      subscription: null,
      success_url: null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: spec.uiMode,
      url: null,
      wallet_options: null,
      redirect_on_completion: spec.redirect,
      ...(spec.returnUrl !== undefined ? { return_url: spec.returnUrl } : {}),
    };
    this.state.checkout_sessions[id] = { session, line_items: spec.lineItems, subscription_metadata: spec.subscriptionMetadata };
    this.events.changed();
    return session;
  }

  get(id: string): CheckoutSession {
    return this.record(id).session;
  }

  /** The session with its line items, found expired if its time is up. */
  record(id: string): SessionRecord {
    const record = this.state.checkout_sessions[id];
    if (!record) throw resourceMissing('checkout.session', id);
    if (record.session.status === 'open' && record.session.expires_at <= unixNow()) {
      record.session.status = 'expired';
      this.events.emit('checkout.session.expired', record.session, NO_REQUEST);
    }
    return record;
  }

  /** The session as stored, without the expiry check or a 404 (the page answers 401 for any mismatch). */
  peek(id: string): SessionRecord | undefined {
    return this.state.checkout_sessions[id];
  }

  list(query: FormObject): ListEnvelope<CheckoutSession> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'customer', 'customer_details', 'payment_intent', 'status', 'subscription', 'created', 'payment_link']);
    const customer = optionalString(query, 'customer');
    const subscription = optionalString(query, 'subscription');
    const status = optionalEnum(query, 'status', ['open', 'complete', 'expired'] as const);
    const sessions = Object.keys(this.state.checkout_sessions)
      .reverse()
      .map((id) => this.get(id))
      .filter(
        (session) =>
          (!customer || session.customer === customer) &&
          (!subscription || session.subscription === subscription) &&
          (!status || session.status === status),
      );
    return paginate(sessions, query, '/v1/checkout/sessions', 'checkout.session');
  }

  listLineItems(id: string, query: FormObject): ListEnvelope<LineItem> {
    rejectUnknown(query, [...PAGINATION_PARAMS]);
    return paginate(this.record(id).line_items, query, `/v1/checkout/sessions/${id}/line_items`, 'item');
  }

  /** `line_items` for `expand[]`: a list Stripe only includes when asked. */
  lineItemsList(id: string): ListEnvelope<LineItem> | undefined {
    const record = this.state.checkout_sessions[id];
    if (!record) return undefined;
    return { object: 'list', data: record.line_items, has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
  }

  expire(id: string, ctx: RequestContext): CheckoutSession {
    const record = this.record(id);
    if (record.session.status !== 'open') {
      throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${record.session.status}".`);
    }
    record.session.status = 'expired';
    this.events.emit('checkout.session.expired', record.session, ctx);
    return record.session;
  }
}
