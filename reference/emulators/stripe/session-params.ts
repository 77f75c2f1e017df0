/**
 * Reading `POST /v1/checkout/sessions` parameters into a checked spec, with Stripe's rules and
 * messages: the ui_mode/URL combinations, mode vs. recurring prices, and the endive removal of
 * `payment_method_types`. The emulator additionally requires {CHECKOUT_SESSION_ID} in return URLs.
 */
import { invalidRequest, missingParam, resourceMissing, unknownParam } from './errors';
import type { FormObject, FormValue } from './form';
import { newId, type CheckoutMode, type CheckoutSession, type LineItem, type Price, type Product, type RedirectOnCompletion, type UiMode } from './objects';
import {
  optionalBoolean,
  optionalEnum,
  optionalHash,
  optionalInteger,
  optionalList,
  optionalMetadata,
  optionalString,
  optionalStringList,
  requiredString,
} from './params';

export const SESSION_LIFETIME_S = 24 * 60 * 60;
/** The date from which `payment_method_types` is gone from Checkout Session create (endive). */
const PAYMENT_METHOD_TYPES_REMOVED = '2026-09-30';
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const UI_MODES: readonly UiMode[] = ['embedded_page', 'embedded', 'hosted_page', 'hosted'];
const EMBEDDED: readonly UiMode[] = ['embedded_page', 'embedded'];

/** Parameters the emulator models. */
const MODELLED = [
  'mode',
  'ui_mode',
  'line_items',
  'return_url',
  'redirect_on_completion',
  'success_url',
  'cancel_url',
  'customer',
  'customer_email',
  'customer_creation',
  'client_reference_id',
  'metadata',
  'expires_at',
  'currency',
  'subscription_data',
  'payment_method_collection',
  'payment_method_types',
  'phone_number_collection',
  'billing_address_collection',
  'allow_promotion_codes',
  'submit_type',
  'locale',
  'expand',
];

/** Real parameters that are accepted but change nothing in the emulator. */
const ACCEPTED = [
  'adaptive_pricing',
  'after_expiration',
  'allowed_payment_method_types',
  'automatic_tax',
  'branding_settings',
  'consent_collection',
  'custom_fields',
  'custom_text',
  'customer_account',
  'customer_update',
  'discounts',
  'excluded_payment_method_types',
  'integration_identifier',
  'invoice_creation',
  'managed_payments',
  'name_collection',
  'optional_items',
  'origin_context',
  'payment_intent_data',
  'payment_method_configuration',
  'payment_method_data',
  'payment_method_options',
  'permissions',
  'saved_payment_method_options',
  'setup_intent_data',
  'shipping_address_collection',
  'shipping_options',
  'tax_id_collection',
  'wallet_options',
];

const SUBSCRIPTION_DATA_KEYS = [
  'metadata',
  'trial_period_days',
  'description',
  'trial_settings',
  'billing_cycle_anchor',
  'proration_behavior',
  'default_tax_rates',
  'application_fee_percent',
  'on_behalf_of',
  'transfer_data',
  'invoice_settings',
  'billing_mode',
];

const LINE_ITEM_KEYS = ['price', 'quantity', 'adjustable_quantity', 'dynamic_tax_rates', 'tax_rates', 'metadata'];

export interface Catalogue {
  price(id: string): Price | undefined;
  product(id: string): Product | undefined;
  hasCustomer(id: string): boolean;
}

export interface SessionSpec {
  uiMode: UiMode;
  embedded: boolean;
  mode: CheckoutMode;
  lineItems: LineItem[];
  currency: string | null;
  redirect: RedirectOnCompletion | undefined;
  returnUrl: string | undefined;
  successUrl: string | undefined;
  cancelUrl: string | undefined;
  customerId: string | null;
  customerEmail: string | null;
  customerCreation: 'always' | 'if_required' | undefined;
  clientReferenceId: string | null;
  expiresAt: number;
  paymentMethodCollection: 'always' | 'if_required' | undefined;
  trialDays: number | null;
  subscriptionMetadata: Record<string, string>;
  phoneEnabled: boolean;
  submitType: string | undefined;
  billingAddress: string | undefined;
  allowPromotionCodes: boolean | undefined;
  locale: string | undefined;
  metadata: Record<string, string>;
}

export function isEmbedded(uiMode: UiMode): boolean {
  return EMBEDDED.includes(uiMode);
}

export function readSessionCreate(params: FormObject, apiVersion: string, catalogue: Catalogue, now: number): SessionSpec {
  checkNames(params, apiVersion);
  const uiMode = optionalEnum(params, 'ui_mode', UI_MODES) ?? 'hosted_page';
  const embedded = isEmbedded(uiMode);
  const paymentMethodTypes = optionalStringList(params, 'payment_method_types');
  if (paymentMethodTypes && !paymentMethodTypes.includes('card')) {
    throw invalidRequest('The emulator supports only the `card` payment method type.', { param: 'payment_method_types' });
  }
  const lineItems = readLineItems(params, catalogue);
  const mode = readMode(params, lineItems);
  const currency = mode === 'setup' ? readSetupCurrency(params) : (lineItems[0]?.currency ?? null);
  const urls = readUrls(params, uiMode);
  const customer = readCustomer(params, mode, catalogue);
  const subscription = readSubscriptionData(params, mode);

  const clientReferenceId = optionalString(params, 'client_reference_id') || null;
  if (clientReferenceId && clientReferenceId.length > 200) {
    throw invalidRequest('Invalid client_reference_id: must be at most 200 characters.', { param: 'client_reference_id' });
  }
  const expiresAt = optionalInteger(params, 'expires_at');
  if (expiresAt !== undefined && (expiresAt < now + 30 * 60 || expiresAt > now + SESSION_LIFETIME_S)) {
    throw invalidRequest('The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.', {
      param: 'expires_at',
    });
  }
  const paymentMethodCollection = optionalEnum(params, 'payment_method_collection', ['always', 'if_required'] as const);
  if (paymentMethodCollection && mode !== 'subscription') {
    throw invalidRequest('`payment_method_collection` can only be used in `subscription` mode.', { param: 'payment_method_collection' });
  }
  const phoneCollection = optionalHash(params, 'phone_number_collection');
  return {
    uiMode,
    embedded,
    mode,
    lineItems,
    currency,
    ...urls,
    ...customer,
    ...subscription,
    clientReferenceId,
    expiresAt: expiresAt ?? now + SESSION_LIFETIME_S,
    paymentMethodCollection,
    phoneEnabled: phoneCollection ? (optionalBoolean(phoneCollection, 'enabled', 'phone_number_collection[enabled]') ?? false) : false,
    submitType: optionalEnum(params, 'submit_type', ['auto', 'book', 'donate', 'pay', 'subscribe'] as const),
    billingAddress: optionalEnum(params, 'billing_address_collection', ['auto', 'required'] as const),
    allowPromotionCodes: optionalBoolean(params, 'allow_promotion_codes'),
    locale: optionalString(params, 'locale'),
    metadata: optionalMetadata(params) ?? {},
  };
}

function checkNames(params: FormObject, apiVersion: string): void {
  for (const name of Object.keys(params)) {
    if (name === 'payment_method_types' && apiVersion.slice(0, 10) >= PAYMENT_METHOD_TYPES_REMOVED) {
      throw unknownParam(
        name,
        `payment_method_types was removed from Checkout Session create in API version 2026-09-30.endive (you sent ${apiVersion}); rely on dynamic payment methods, or use excluded_payment_method_types.`,
      );
    }
    if (!MODELLED.includes(name) && !ACCEPTED.includes(name)) throw unknownParam(name);
  }
}

function readLineItems(params: FormObject, catalogue: Catalogue): LineItem[] {
  const list = optionalList(params, 'line_items') ?? [];
  if (list.length > 100) throw invalidRequest('Invalid line_items: at most 100 line items are allowed.', { param: 'line_items' });
  const items = list.map((raw: FormValue, index): LineItem => {
    const at = `line_items[${index}]`;
    if (typeof raw !== 'object' || Array.isArray(raw)) throw invalidRequest(`Invalid hash: ${at} must be a hash.`, { param: at });
    for (const key of Object.keys(raw)) {
      if (key === 'price_data') {
        throw invalidRequest(`${at}[price_data] is not supported by the emulator; create the line item from a stored price.`, {
          param: `${at}[price_data]`,
        });
      }
      if (!LINE_ITEM_KEYS.includes(key)) throw unknownParam(`${at}[${key}]`);
    }
    const priceId = requiredString(raw, 'price', `${at}[price]`);
    const price = catalogue.price(priceId);
    if (!price) throw resourceMissing('price', priceId, `${at}[price]`);
    if (!price.active) {
      throw invalidRequest('The price specified is inactive. This field only accepts active prices.', { param: `${at}[price]` });
    }
    const quantity = optionalInteger(raw, 'quantity', { min: 1, max: 999_999 }, `${at}[quantity]`);
    if (quantity === undefined) throw missingParam(`${at}[quantity]`);
    const total = price.unit_amount * quantity;
    return {
      id: newId('li'),
      object: 'item',
      amount_discount: 0,
      amount_subtotal: total,
      amount_tax: 0,
      amount_total: total,
      currency: price.currency,
      description: catalogue.product(price.product)?.name ?? price.nickname ?? price.id,
      price: structuredClone(price),
      quantity,
    };
  });
  if (new Set(items.map((item) => item.currency)).size > 1) {
    throw invalidRequest('All prices on a Checkout Session must have the same currency.', { param: 'line_items' });
  }
  return items;
}

/** `mode` may be left out on endive; Stripe's docs say subscription when any item recurs. */
function readMode(params: FormObject, lineItems: LineItem[]): CheckoutMode {
  const anyRecurring = lineItems.some((item) => item.price.type === 'recurring');
  const mode = optionalEnum(params, 'mode', ['payment', 'setup', 'subscription'] as const) ?? (anyRecurring ? 'subscription' : 'payment');
  if (mode !== 'setup' && lineItems.length === 0) throw missingParam('line_items');
  if (mode === 'setup' && lineItems.length > 0) {
    throw invalidRequest('You cannot pass `line_items` in `setup` mode.', { param: 'line_items' });
  }
  if (mode === 'subscription' && !anyRecurring) {
    throw invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', {
      param: 'line_items',
    });
  }
  if (mode === 'payment' && anyRecurring) {
    throw invalidRequest(
      'You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.',
      { param: 'line_items' },
    );
  }
  return mode;
}

function readSetupCurrency(params: FormObject): string {
  const requested = optionalString(params, 'currency');
  if (!requested) throw missingParam('currency');
  if (!/^[a-z]{3}$/i.test(requested)) throw invalidRequest(`Invalid currency: ${requested}`, { param: 'currency' });
  return requested.toLowerCase();
}

function readUrls(
  params: FormObject,
  uiMode: UiMode,
): Pick<SessionSpec, 'redirect' | 'returnUrl' | 'successUrl' | 'cancelUrl'> {
  const redirect = optionalEnum(params, 'redirect_on_completion', ['always', 'if_required', 'never'] as const);
  const returnUrl = optionalString(params, 'return_url');
  const successUrl = optionalString(params, 'success_url');
  const cancelUrl = optionalString(params, 'cancel_url');
  if (!isEmbedded(uiMode)) {
    if (returnUrl !== undefined || redirect !== undefined) {
      const param = returnUrl !== undefined ? 'return_url' : 'redirect_on_completion';
      throw invalidRequest(`You may not specify \`${param}\` when \`ui_mode\` is \`${uiMode}\`. Use \`success_url\` instead.`, { param });
    }
    if (successUrl !== undefined) checkRedirectUrl(successUrl, 'success_url');
    if (cancelUrl !== undefined) checkUrl(cancelUrl, 'cancel_url');
    return { redirect, returnUrl, successUrl, cancelUrl };
  }
  if (successUrl !== undefined) {
    throw invalidRequest(`You may not specify \`success_url\` when \`ui_mode\` is \`${uiMode}\`. Use \`return_url\` instead.`, {
      param: 'success_url',
    });
  }
  if (cancelUrl !== undefined) {
    throw invalidRequest(`You may not specify \`cancel_url\` when \`ui_mode\` is \`${uiMode}\`.`, { param: 'cancel_url' });
  }
  const effective = redirect ?? 'always';
  if (effective === 'never') {
    if (returnUrl !== undefined) {
      throw invalidRequest('`return_url` cannot be set when `redirect_on_completion` is `never`.', { param: 'return_url' });
    }
  } else if (!returnUrl) {
    throw invalidRequest(`You must provide \`return_url\` when \`ui_mode\` is \`${uiMode}\` and \`redirect_on_completion\` is \`${effective}\`.`, {
      code: 'parameter_missing',
      param: 'return_url',
    });
  } else {
    checkRedirectUrl(returnUrl, 'return_url');
  }
  return { redirect: effective, returnUrl, successUrl, cancelUrl };
}

function readCustomer(
  params: FormObject,
  mode: CheckoutMode,
  catalogue: Catalogue,
): Pick<SessionSpec, 'customerId' | 'customerEmail' | 'customerCreation'> {
  const customerId = optionalString(params, 'customer') || null;
  const customerEmail = optionalString(params, 'customer_email') || null;
  if (customerId && customerEmail) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', { param: 'customer_email' });
  }
  if (customerId && !catalogue.hasCustomer(customerId)) throw resourceMissing('customer', customerId, 'customer');
  if (customerEmail && !EMAIL.test(customerEmail)) {
    throw invalidRequest(`Invalid email address: ${customerEmail}`, { code: 'email_invalid', param: 'customer_email' });
  }
  const customerCreation = optionalEnum(params, 'customer_creation', ['always', 'if_required'] as const);
  if (customerCreation && mode !== 'payment') {
    throw invalidRequest('`customer_creation` can only be used in `payment` mode.', { param: 'customer_creation' });
  }
  if (customerCreation && customerId) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_creation.', { param: 'customer_creation' });
  }
  return { customerId, customerEmail, customerCreation };
}

function readSubscriptionData(params: FormObject, mode: CheckoutMode): Pick<SessionSpec, 'trialDays' | 'subscriptionMetadata'> {
  const data = optionalHash(params, 'subscription_data');
  if (!data) return { trialDays: null, subscriptionMetadata: {} };
  if (mode !== 'subscription') {
    throw invalidRequest('`subscription_data` can only be used in `subscription` mode.', { param: 'subscription_data' });
  }
  for (const key of Object.keys(data)) {
    if (!SUBSCRIPTION_DATA_KEYS.includes(key)) throw unknownParam(`subscription_data[${key}]`);
  }
  return {
    trialDays: optionalInteger(data, 'trial_period_days', { min: 1, max: 730 }, 'subscription_data[trial_period_days]') ?? null,
    subscriptionMetadata: optionalMetadata(data, 'metadata', 'subscription_data[metadata]') ?? {},
  };
}

function checkUrl(value: string, param: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidRequest(`Not a valid URL: ${param}`, { code: 'url_invalid', param });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalidRequest(`Not a valid URL: ${param} must use http or https.`, { code: 'url_invalid', param });
  }
}

/** The issue asks the emulator to insist on the template Stripe substitutes (Stripe only recommends it). */
function checkRedirectUrl(value: string, param: string): void {
  checkUrl(value.split('{CHECKOUT_SESSION_ID}').join('cs_test_placeholder'), param);
  if (!value.includes('{CHECKOUT_SESSION_ID}')) {
    throw invalidRequest(
      `The \`${param}\` must contain the template {CHECKOUT_SESSION_ID} (for example https://example.com/checkout/return?session_id={CHECKOUT_SESSION_ID}) so the return page can look the session up.`,
      { code: 'url_invalid', param },
    );
  }
}

export function submitLabel(session: CheckoutSession, trialDays: number | null): string {
  const total = formatMoney(session.amount_total ?? 0, session.currency ?? 'usd');
  if (session.mode === 'setup') return 'Save card';
  if (session.mode === 'subscription') return trialDays ? 'Start trial' : 'Subscribe';
  if (session.submit_type === 'donate') return `Donate ${total}`;
  if (session.submit_type === 'book') return `Book ${total}`;
  return `Pay ${total}`;
}

export function successMessage(mode: CheckoutMode): string {
  if (mode === 'subscription') return 'Thanks for subscribing';
  if (mode === 'setup') return 'Your payment details were saved';
  return 'Thanks for your payment';
}

function formatMoney(amount: number, currency: string): string {
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);
}
