/**
 * The Stripe behaviour behind the HTTP layer: catalogue reads, customers, Checkout Sessions and
 * their completion, subscriptions and events. Plain functions over the state; no HTTP here.
 */
import { timingSafeEqual } from 'node:crypto';
import { declineFor, validateCardForm, type CardForm, type FieldErrors } from './cards';
import { invalidRequest, resourceMissing } from './errors';
import { EMAIL, readSessionCreate, submitLabel, successMessage, type Catalogue } from './session-params';
import type { FormObject } from './form';
import { newestFirst, paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import {
  addInterval,
  API_VERSION,
  newId,
  planFromPrice,
  randomToken,
  unixNow,
  type CheckoutMode,
  type CheckoutSession,
  type Customer,
  type LineItem,
  type PaymentMethod,
  type Price,
  type Product,
  type StripeEvent,
  type Subscription,
  type SubscriptionItem,
  type UiMode,
} from './objects';
import {
  mergeMetadata,
  optionalBoolean,
  optionalEnum,
  optionalHash,
  optionalInteger,
  optionalMetadata,
  optionalString,
  optionalStringList,
  rejectUnknown,
} from './params';
import type { SessionRecord, StateData } from './store';

export interface RequestContext {
  requestId: string;
  idempotencyKey: string | null;
  /** The `Stripe-Version` the caller asked for, or the emulator's default. */
  apiVersion: string;
}

export interface BackendHooks {
  /** Called after every mutation (persistence). */
  changed: () => void;
  /** Called for every new event (webhook delivery decides whether to send it). */
  emitted: (event: StripeEvent) => void;
}

export interface PageSession {
  id: string;
  status: CheckoutSession['status'];
  mode: CheckoutMode;
  ui_mode: UiMode;
  livemode: false;
  currency: string | null;
  amount_total: number | null;
  email: string | null;
  line_items: {
    name: string;
    quantity: number;
    unit_amount: number;
    amount: number;
    interval: string | null;
    interval_count: number | null;
  }[];
  trial_period_days: number | null;
  submit_label: string;
  cancel_url: string | null;
}

export type ConfirmOutcome =
  | { ok: true; status: 'complete'; redirect_url: string | null; message: string }
  | { ok: false; httpStatus: number; error: { type: string; code?: string; decline_code?: string; message: string; fields?: FieldErrors } };

export class StripeBackend {
  constructor(
    private readonly state: StateData,
    private readonly hooks: BackendHooks,
    private readonly publicUrl: string,
  ) {}

  // ---- catalogue -------------------------------------------------------------------------------

  listProducts(query: FormObject): ListEnvelope<Product> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'active', 'ids', 'created', 'shippable', 'url']);
    const active = optionalBoolean(query, 'active');
    const ids = optionalStringList(query, 'ids');
    const items = newestFirst(this.state.products).filter(
      (product) => (active === undefined || product.active === active) && (!ids || ids.includes(product.id)),
    );
    return paginate(items, query, '/v1/products', 'product');
  }

  getProduct(id: string): Product {
    const product = this.state.products[id];
    if (!product) throw resourceMissing('product', id);
    return product;
  }

  listPrices(query: FormObject): ListEnvelope<Price> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'active', 'currency', 'lookup_keys', 'product', 'type', 'recurring', 'created']);
    const active = optionalBoolean(query, 'active');
    const currency = optionalString(query, 'currency');
    const lookupKeys = optionalStringList(query, 'lookup_keys');
    if (lookupKeys && lookupKeys.length > 10) {
      throw invalidRequest('Invalid lookup_keys: you may pass at most 10 lookup keys.', { param: 'lookup_keys' });
    }
    const product = optionalString(query, 'product');
    const type = optionalEnum(query, 'type', ['one_time', 'recurring'] as const);
    const recurring = optionalHash(query, 'recurring');
    const interval = recurring ? optionalEnum(recurring, 'interval', ['day', 'week', 'month', 'year'] as const, 'recurring[interval]') : undefined;
    const items = newestFirst(this.state.prices).filter(
      (price) =>
        (active === undefined || price.active === active) &&
        (!currency || price.currency === currency.toLowerCase()) &&
        (!lookupKeys || (price.lookup_key !== null && lookupKeys.includes(price.lookup_key))) &&
        (!product || price.product === product) &&
        (!type || price.type === type) &&
        (!interval || price.recurring?.interval === interval),
    );
    return paginate(items, query, '/v1/prices', 'price');
  }

  getPrice(id: string): Price {
    const price = this.state.prices[id];
    if (!price) throw resourceMissing('price', id);
    return price;
  }

  // ---- customers -------------------------------------------------------------------------------

  createCustomer(params: FormObject, ctx: RequestContext): Customer {
    rejectUnknown(params, ['email', 'name', 'description', 'phone', 'metadata', 'expand', 'address', 'preferred_locales']);
    const email = optionalString(params, 'email');
    if (email !== undefined && email !== '' && !EMAIL.test(email)) {
      throw invalidRequest(`Invalid email address: ${email}`, { code: 'email_invalid', param: 'email' });
    }
    const customer = this.newCustomer({
      email: email || null,
      name: optionalString(params, 'name') || null,
      description: optionalString(params, 'description') || null,
      phone: optionalString(params, 'phone') || null,
      metadata: optionalMetadata(params) ?? {},
    });
    this.emit('customer.created', customer, ctx);
    return customer;
  }

  updateCustomer(id: string, params: FormObject, ctx: RequestContext): Customer {
    rejectUnknown(params, ['email', 'name', 'description', 'phone', 'metadata', 'expand', 'invoice_settings']);
    const customer = this.getCustomer(id);
    const previous: Record<string, unknown> = {};
    const email = optionalString(params, 'email');
    if (email !== undefined && email !== '' && !EMAIL.test(email)) {
      throw invalidRequest(`Invalid email address: ${email}`, { code: 'email_invalid', param: 'email' });
    }
    const invoiceSettings = optionalHash(params, 'invoice_settings');
    const defaultPm = invoiceSettings
      ? optionalString(invoiceSettings, 'default_payment_method', 'invoice_settings[default_payment_method]')
      : undefined;
    if (defaultPm) {
      const pm = this.state.payment_methods[defaultPm];
      if (!pm) throw resourceMissing('PaymentMethod', defaultPm, 'invoice_settings[default_payment_method]');
      if (pm.customer !== customer.id) {
        throw invalidRequest(`The customer does not have a payment method with the ID ${defaultPm}.`, {
          param: 'invoice_settings[default_payment_method]',
        });
      }
    }
    const fields = ['email', 'name', 'description', 'phone'] as const;
    for (const field of fields) {
      const value = field === 'email' ? email : optionalString(params, field);
      if (value === undefined) continue;
      previous[field] = customer[field];
      customer[field] = value === '' ? null : value;
    }
    const metadata = optionalMetadata(params);
    if (metadata) {
      previous.metadata = customer.metadata;
      customer.metadata = mergeMetadata(customer.metadata, metadata, params.metadata === '');
    }
    if (defaultPm) {
      previous.invoice_settings = { ...customer.invoice_settings };
      customer.invoice_settings.default_payment_method = defaultPm;
    }
    this.emit('customer.updated', customer, ctx, previous);
    return customer;
  }

  getCustomer(id: string): Customer {
    const customer = this.state.customers[id];
    if (!customer) throw resourceMissing('customer', id);
    return customer;
  }

  deleteCustomer(id: string, ctx: RequestContext): { id: string; object: 'customer'; deleted: true } {
    const customer = this.getCustomer(id);
    for (const subscription of Object.values(this.state.subscriptions)) {
      if (subscription.customer === id && subscription.status !== 'canceled') this.endSubscription(subscription, ctx, 'cancellation_requested');
    }
    delete this.state.customers[id];
    this.emit('customer.deleted', customer, ctx);
    return { id, object: 'customer', deleted: true };
  }

  listCustomers(query: FormObject): ListEnvelope<Customer> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'email', 'created', 'test_clock']);
    const email = optionalString(query, 'email');
    if (email !== undefined && email.length > 512) throw invalidRequest('Invalid email: too long.', { param: 'email' });
    // Stripe's email filter is an exact, case-sensitive match.
    const items = newestFirst(this.state.customers).filter((customer) => email === undefined || customer.email === email);
    return paginate(items, query, '/v1/customers', 'customer');
  }

  getPaymentMethod(id: string): PaymentMethod {
    const pm = this.state.payment_methods[id];
    if (!pm) throw resourceMissing('PaymentMethod', id);
    return pm;
  }

  listCustomerPaymentMethods(customerId: string, query: FormObject): ListEnvelope<PaymentMethod> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'type', 'allow_redisplay']);
    this.getCustomer(customerId);
    const type = optionalString(query, 'type');
    const items = newestFirst(this.state.payment_methods).filter(
      (pm) => pm.customer === customerId && (!type || pm.type === type),
    );
    return paginate(items, query, `/v1/customers/${customerId}/payment_methods`, 'PaymentMethod');
  }

  // ---- checkout sessions -----------------------------------------------------------------------

  createSession(params: FormObject, ctx: RequestContext): CheckoutSession {
    const now = unixNow();
    const spec = readSessionCreate(params, ctx.apiVersion, this.catalogue, now);
    const { mode, embedded } = spec;
    const amount = spec.lineItems.reduce((sum, item) => sum + item.amount_total, 0);
    const id = newId('cs_test', 58);
    const pageSecret = randomToken(32);
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      after_expiration: null,
      allow_promotion_codes: spec.allowPromotionCodes ?? null,
      amount_subtotal: mode === 'setup' ? null : amount,
      amount_total: mode === 'setup' ? null : amount,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: spec.billingAddress ?? null,
      cancel_url: spec.cancelUrl ?? null,
      client_reference_id: spec.clientReferenceId,
      client_secret: embedded ? `${id}_secret_${randomToken(24)}` : null,
      consent: null,
      consent_collection: null,
      created: now,
      currency: spec.currency,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer: spec.customerId,
      customer_creation: mode === 'payment' ? (spec.customerCreation ?? 'if_required') : null,
      customer_details: null,
      customer_email: spec.customerEmail,
      discounts: [],
      expires_at: spec.expiresAt,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: spec.locale ?? null,
      metadata: spec.metadata,
      mode,
      payment_intent: null,
      payment_link: null,
      payment_method_collection: mode === 'subscription' ? (spec.paymentMethodCollection ?? 'always') : null,
      payment_method_options: {},
      payment_method_types: ['card'],
      payment_status: mode === 'setup' ? 'no_payment_required' : 'unpaid',
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
      success_url: embedded ? null : (spec.successUrl ?? null),
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: spec.uiMode,
      url: embedded ? null : `${this.publicUrl}/c/pay/${id}#${pageSecret}`,
      wallet_options: null,
    };
    if (embedded) {
      session.redirect_on_completion = spec.redirect ?? 'always';
      if (spec.returnUrl !== undefined) session.return_url = spec.returnUrl;
    }
    this.state.checkout_sessions[id] = {
      session,
      line_items: spec.lineItems,
      page_secret: pageSecret,
      trial_period_days: spec.trialDays,
      subscription_metadata: spec.subscriptionMetadata,
    };
    this.hooks.changed();
    return session;
  }

  private readonly catalogue: Catalogue = {
    price: (id) => this.state.prices[id],
    product: (id) => this.state.products[id],
    hasCustomer: (id) => Boolean(this.state.customers[id]),
  };

  getSession(id: string): CheckoutSession {
    return this.sessionRecord(id).session;
  }

  listSessions(query: FormObject): ListEnvelope<CheckoutSession> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'customer', 'customer_details', 'payment_intent', 'status', 'subscription', 'created', 'payment_link']);
    const customer = optionalString(query, 'customer');
    const subscription = optionalString(query, 'subscription');
    const status = optionalEnum(query, 'status', ['open', 'complete', 'expired'] as const);
    const sessions = Object.keys(this.state.checkout_sessions)
      .reverse()
      .map((id) => this.getSession(id))
      .filter(
        (session) =>
          (!customer || session.customer === customer) &&
          (!subscription || session.subscription === subscription) &&
          (!status || session.status === status),
      );
    return paginate(sessions, query, '/v1/checkout/sessions', 'checkout.session');
  }

  listSessionLineItems(id: string, query: FormObject): ListEnvelope<LineItem> {
    rejectUnknown(query, [...PAGINATION_PARAMS]);
    const record = this.sessionRecord(id);
    return paginate(record.line_items, query, `/v1/checkout/sessions/${id}/line_items`, 'item');
  }

  lineItemsList(id: string): ListEnvelope<LineItem> | undefined {
    const record = this.state.checkout_sessions[id];
    if (!record) return undefined;
    return { object: 'list', data: record.line_items, has_more: false, url: `/v1/checkout/sessions/${id}/line_items` };
  }

  expireSession(id: string, ctx: RequestContext): CheckoutSession {
    const record = this.sessionRecord(id);
    if (record.session.status !== 'open') {
      throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${record.session.status}".`);
    }
    record.session.status = 'expired';
    record.session.url = null;
    this.emit('checkout.session.expired', record.session, ctx);
    return record.session;
  }

  private sessionRecord(id: string): SessionRecord {
    const record = this.state.checkout_sessions[id];
    if (!record) throw resourceMissing('checkout.session', id);
    if (record.session.status === 'open' && record.session.expires_at <= unixNow()) {
      record.session.status = 'expired';
      record.session.url = null;
      this.emit('checkout.session.expired', record.session, { requestId: '', idempotencyKey: null, apiVersion: API_VERSION });
    }
    return record;
  }

  // ---- the checkout page (browser side) --------------------------------------------------------

  /** The session behind a page secret (`client_secret` for embedded, the URL fragment for hosted). */
  pageRecord(id: string, secret: string): SessionRecord | undefined {
    const record = this.state.checkout_sessions[id];
    if (!record) return undefined;
    const expected = record.session.ui_mode.startsWith('hosted') ? record.page_secret : record.session.client_secret;
    if (!expected || !sameSecret(secret, expected)) return undefined;
    return this.sessionRecord(id);
  }

  pageView(record: SessionRecord): PageSession {
    const { session } = record;
    const customerEmail = session.customer ? (this.state.customers[session.customer]?.email ?? null) : null;
    return {
      id: session.id,
      status: session.status,
      mode: session.mode,
      ui_mode: session.ui_mode,
      livemode: false,
      currency: session.currency,
      amount_total: session.amount_total,
      email: session.customer_details?.email ?? session.customer_email ?? customerEmail,
      line_items: record.line_items.map((item) => ({
        name: item.description,
        quantity: item.quantity,
        unit_amount: item.price.unit_amount,
        amount: item.amount_total,
        interval: item.price.recurring?.interval ?? null,
        interval_count: item.price.recurring?.interval_count ?? null,
      })),
      trial_period_days: record.trial_period_days,
      submit_label: submitLabel(session, record.trial_period_days),
      cancel_url: session.cancel_url,
    };
  }

  confirm(record: SessionRecord, form: CardForm, ctx: RequestContext): ConfirmOutcome {
    const { session } = record;
    if (session.status !== 'open') {
      return {
        ok: false,
        httpStatus: 409,
        error: { type: 'invalid_request_error', code: 'checkout_session_inactive', message: 'This Checkout Session is no longer active.' },
      };
    }
    const { card, errors } = validateCardForm(form);
    if (!card) {
      return {
        ok: false,
        httpStatus: 400,
        error: { type: 'validation_error', message: 'Some of the payment details are incomplete or invalid.', fields: errors },
      };
    }
    const decline = declineFor(card.number);
    if (decline) {
      return {
        ok: false,
        httpStatus: 402,
        error: { type: 'card_error', code: decline.code, ...(decline.decline_code ? { decline_code: decline.decline_code } : {}), message: decline.message },
      };
    }

    const now = unixNow();
    const email = form.email.trim();
    const address = {
      city: null,
      country: form.billingCountry || 'US',
      line1: null,
      line2: null,
      postal_code: form.billingPostalCode.trim(),
      state: null,
    };
    const phone = form.saveInfo ? form.phoneNumber.trim() : null;
    let customer: Customer | null = session.customer ? (this.state.customers[session.customer] ?? null) : null;
    const needsCustomer = session.mode !== 'payment' || session.customer_creation === 'always';
    if (!customer && needsCustomer) {
      customer = this.newCustomer({
        email,
        name: form.billingName.trim(),
        description: null,
        phone,
        metadata: {},
        address,
      });
      this.emit('customer.created', customer, ctx);
    }
    const pm: PaymentMethod = {
      id: newId('pm'),
      object: 'payment_method',
      allow_redisplay: form.saveInfo ? 'always' : 'limited',
      billing_details: { address, email, name: form.billingName.trim(), phone, tax_id: null },
      card: {
        brand: card.brand,
        checks: { address_line1_check: null, address_postal_code_check: 'pass', cvc_check: 'pass' },
        country: 'US',
        display_brand: card.brand,
        exp_month: card.expMonth,
        exp_year: card.expYear,
        fingerprint: randomToken(16),
        funding: 'credit',
        last4: card.last4,
        networks: { available: [card.brand], preferred: null },
        wallet: null,
      },
      created: now,
      customer: customer?.id ?? null,
      customer_account: null,
      livemode: false,
      metadata: {},
      type: 'card',
    };
    this.state.payment_methods[pm.id] = pm;
    if (customer) this.emit('payment_method.attached', pm, ctx);

    if (session.mode === 'subscription' && customer) {
      const subscription = this.newSubscription(customer.id, pm.id, record, now);
      session.subscription = subscription.id;
      this.emit('customer.subscription.created', subscription, ctx);
    }
    const free = (session.amount_total ?? 0) === 0 || record.trial_period_days !== null;
    session.payment_status = session.mode === 'setup' || (session.mode === 'subscription' && free) ? 'no_payment_required' : 'paid';
    if (session.mode === 'payment') session.payment_intent = newId('pi');
    if (session.mode === 'setup') session.setup_intent = newId('seti');
    session.status = 'complete';
    session.customer = customer?.id ?? null;
    session.customer_details = {
      address,
      email,
      name: form.billingName.trim(),
      phone,
      tax_exempt: 'none',
      tax_ids: [],
    };
    session.url = null;
    this.emit('checkout.session.completed', session, ctx);

    const target = session.ui_mode.startsWith('hosted') ? session.success_url : session.return_url;
    const redirects = session.ui_mode.startsWith('hosted') || session.redirect_on_completion === 'always';
    return {
      ok: true,
      status: 'complete',
      redirect_url: redirects && target ? target.split('{CHECKOUT_SESSION_ID}').join(session.id) : null,
      message: successMessage(session.mode),
    };
  }

  // ---- subscriptions ---------------------------------------------------------------------------

  private newSubscription(customerId: string, paymentMethodId: string, record: SessionRecord, now: number): Subscription {
    const id = newId('sub');
    const trialEnd = record.trial_period_days ? now + record.trial_period_days * 86_400 : null;
    const items: SubscriptionItem[] = record.line_items
      .filter((item) => item.price.recurring)
      .map((item) => {
        const recurring = item.price.recurring ?? { interval: 'month' as const, interval_count: 1 };
        return {
          id: newId('si', 14),
          object: 'subscription_item',
          created: now,
          current_period_start: now,
          current_period_end: trialEnd ?? addInterval(now, recurring.interval, recurring.interval_count),
          discounts: [],
          metadata: {},
          plan: planFromPrice(item.price),
          price: structuredClone(item.price),
          quantity: item.quantity,
          subscription: id,
          tax_rates: [],
        };
      });
    const subscription: Subscription = {
      id,
      object: 'subscription',
      application: null,
      billing_cycle_anchor: trialEnd ?? now,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created: now,
      currency: record.session.currency ?? 'usd',
      customer: customerId,
      default_payment_method: paymentMethodId,
      description: null,
      discounts: [],
      ended_at: null,
      items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${id}` },
      latest_invoice: null,
      livemode: false,
      metadata: record.subscription_metadata,
      pending_setup_intent: null,
      pending_update: null,
      schedule: null,
      start_date: now,
      status: trialEnd ? 'trialing' : 'active',
      test_clock: null,
      trial_end: trialEnd,
      trial_start: trialEnd ? now : null,
    };
    this.state.subscriptions[id] = subscription;
    return subscription;
  }

  listSubscriptions(query: FormObject): ListEnvelope<Subscription> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'customer', 'status', 'price', 'created', 'current_period_end', 'current_period_start', 'collection_method', 'test_clock', 'automatic_tax', 'customer_account']);
    const customer = optionalString(query, 'customer');
    const price = optionalString(query, 'price');
    const status = optionalEnum(query, 'status', ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'] as const);
    const items = newestFirst(this.state.subscriptions).filter((subscription) => {
      if (customer && subscription.customer !== customer) return false;
      if (price && !subscription.items.data.some((item) => item.price.id === price)) return false;
      if (status === undefined) return subscription.status !== 'canceled';
      if (status === 'all') return true;
      if (status === 'ended') return subscription.status === 'canceled' || subscription.status === 'incomplete_expired';
      return subscription.status === status;
    });
    return paginate(items, query, '/v1/subscriptions', 'subscription');
  }

  getSubscription(id: string): Subscription {
    const subscription = this.state.subscriptions[id];
    if (!subscription) throw resourceMissing('subscription', id);
    return subscription;
  }

  updateSubscription(id: string, params: FormObject, ctx: RequestContext): Subscription {
    rejectUnknown(params, ['cancel_at_period_end', 'metadata', 'description', 'expand', 'proration_behavior', 'cancellation_details']);
    const subscription = this.getSubscription(id);
    if (subscription.status === 'canceled') {
      throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`, { param: 'cancel_at_period_end' });
    }
    const previous: Record<string, unknown> = {};
    const cancelAtPeriodEnd = optionalBoolean(params, 'cancel_at_period_end');
    if (cancelAtPeriodEnd !== undefined && cancelAtPeriodEnd !== subscription.cancel_at_period_end) {
      previous.cancel_at_period_end = subscription.cancel_at_period_end;
      previous.cancel_at = subscription.cancel_at;
      previous.canceled_at = subscription.canceled_at;
      subscription.cancel_at_period_end = cancelAtPeriodEnd;
      subscription.cancel_at = cancelAtPeriodEnd ? Math.max(...subscription.items.data.map((item) => item.current_period_end)) : null;
      subscription.canceled_at = cancelAtPeriodEnd ? unixNow() : null;
      subscription.cancellation_details = {
        ...subscription.cancellation_details,
        reason: cancelAtPeriodEnd ? 'cancellation_requested' : null,
      };
    }
    const description = optionalString(params, 'description');
    if (description !== undefined) {
      previous.description = subscription.description;
      subscription.description = description === '' ? null : description;
    }
    const metadata = optionalMetadata(params);
    if (metadata) {
      previous.metadata = subscription.metadata;
      subscription.metadata = mergeMetadata(subscription.metadata, metadata, params.metadata === '');
    }
    this.emit('customer.subscription.updated', subscription, ctx, previous);
    return subscription;
  }

  cancelSubscription(id: string, params: FormObject, ctx: RequestContext): Subscription {
    rejectUnknown(params, ['invoice_now', 'prorate', 'cancellation_details', 'expand']);
    optionalBoolean(params, 'invoice_now');
    optionalBoolean(params, 'prorate');
    const subscription = this.getSubscription(id);
    if (subscription.status === 'canceled') {
      throw resourceMissing('subscription', id);
    }
    this.endSubscription(subscription, ctx, 'cancellation_requested');
    return subscription;
  }

  private endSubscription(subscription: Subscription, ctx: RequestContext, reason: string): void {
    const now = unixNow();
    subscription.status = 'canceled';
    subscription.canceled_at = subscription.canceled_at ?? now;
    subscription.ended_at = now;
    subscription.cancellation_details = { ...subscription.cancellation_details, reason };
    this.emit('customer.subscription.deleted', subscription, ctx);
  }

  // ---- events ----------------------------------------------------------------------------------

  listEvents(query: FormObject): ListEnvelope<StripeEvent> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'type', 'types', 'created', 'delivery_success']);
    const type = optionalString(query, 'type');
    const types = optionalStringList(query, 'types');
    if (type && types) throw invalidRequest('You may only specify one of these parameters: type, types.', { param: 'types' });
    const created = optionalHash(query, 'created');
    const bounds = created ? readCreatedBounds(created) : undefined;
    const createdExact = created ? undefined : optionalInteger(query, 'created');
    // Stripe: false lists events still pending or failed at some endpoint; pending_webhooks only
    // drops when an endpoint answers 2xx, so it is the delivery outcome itself.
    const deliverySuccess = optionalBoolean(query, 'delivery_success');
    const items = newestFirst(this.state.events).filter(
      (event) =>
        matchesType(event.type, type, types) &&
        (createdExact === undefined || event.created === createdExact) &&
        (!bounds || bounds(event.created)) &&
        (deliverySuccess === undefined || (event.pending_webhooks === 0) === deliverySuccess),
    );
    return paginate(items, query, '/v1/events', 'event');
  }

  getEvent(id: string): StripeEvent {
    const event = this.state.events[id];
    if (!event) throw resourceMissing('event', id);
    return event;
  }

  markDelivered(eventId: string): void {
    const event = this.state.events[eventId];
    if (event && event.pending_webhooks > 0) {
      event.pending_webhooks -= 1;
      this.hooks.changed();
    }
  }

  /** Any stored object by id, for `expand[]`. */
  resolve(id: string): unknown {
    const tables = [
      this.state.customers,
      this.state.subscriptions,
      this.state.payment_methods,
      this.state.prices,
      this.state.products,
      this.state.events,
    ] as Record<string, unknown>[];
    for (const table of tables) if (table[id]) return table[id];
    return this.state.checkout_sessions[id]?.session;
  }

  private newCustomer(fields: Pick<Customer, 'email' | 'name' | 'description' | 'phone' | 'metadata'> & { address?: Customer['address'] }): Customer {
    const customer: Customer = {
      id: newId('cus', 14),
      object: 'customer',
      address: fields.address ?? null,
      balance: 0,
      created: unixNow(),
      currency: null,
      default_source: null,
      delinquent: false,
      description: fields.description,
      email: fields.email,
      invoice_prefix: randomToken(8).toUpperCase(),
      invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
      livemode: false,
      metadata: fields.metadata,
      name: fields.name,
      phone: fields.phone,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    };
    this.state.customers[customer.id] = customer;
    return customer;
  }

  private emit(type: string, object: unknown, ctx: RequestContext, previous?: Record<string, unknown>): void {
    const event: StripeEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: unixNow(),
      data: { object: structuredClone(object), ...(previous && Object.keys(previous).length > 0 ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: 0,
      request: { id: ctx.requestId || null, idempotency_key: ctx.idempotencyKey },
      type,
    };
    this.state.events[event.id] = event;
    this.hooks.emitted(event);
    this.hooks.changed();
  }
}

function matchesType(eventType: string, type: string | undefined, types: string[] | undefined): boolean {
  const patterns = type ? [type] : types;
  if (!patterns) return true;
  return patterns.some((pattern) =>
    pattern.endsWith('.*') ? eventType.startsWith(pattern.slice(0, -1)) : eventType === pattern,
  );
}

function readCreatedBounds(created: FormObject): (value: number) => boolean {
  const gt = optionalInteger(created, 'gt', {}, 'created[gt]');
  const gte = optionalInteger(created, 'gte', {}, 'created[gte]');
  const lt = optionalInteger(created, 'lt', {}, 'created[lt]');
  const lte = optionalInteger(created, 'lte', {}, 'created[lte]');
  return (value) =>
    (gt === undefined || value > gt) &&
    (gte === undefined || value >= gte) &&
    (lt === undefined || value < lt) &&
    (lte === undefined || value <= lte);
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
