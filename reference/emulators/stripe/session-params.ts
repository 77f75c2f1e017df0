/**
 * Reading `POST /v1/checkout/sessions` parameters into a checked spec, with Stripe's rules and
 * messages and the endive removal of `payment_method_types`. The emulator models only what the
 * product creates, an embedded subscription session: other modes, hosted pages and trials are
 * refused with a 400 rather than half-served. It also requires {CHECKOUT_SESSION_ID} in return URLs.
 */
import { invalidRequest, missingParam, resourceMissing, unknownParam } from './errors';
import type { FormObject, FormValue } from './form';
import { newId, type LineItem, type Price, type Product, type RedirectOnCompletion, type UiMode } from './objects';
import {
  optionalBoolean,
  optionalEmail,
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

const UI_MODES: readonly UiMode[] = ['embedded_page', 'embedded'];
const NOT_MODELLED = 'The Stripe emulator models only the Checkout the product creates: `ui_mode=embedded_page`, `mode=subscription`, no trial.';

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
  'client_reference_id',
  'metadata',
  'expires_at',
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
  'currency',
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
  'payment_method_configuration',
  'payment_method_data',
  'payment_method_options',
  'permissions',
  'saved_payment_method_options',
  'shipping_address_collection',
  'shipping_options',
  'tax_id_collection',
  'wallet_options',
];

/** Real parameters of the sessions the emulator does not model (payment and setup mode). */
const REFUSED = ['customer_creation', 'payment_intent_data', 'setup_intent_data'];

const SUBSCRIPTION_DATA_KEYS = [
  'metadata',
  'description',
  'billing_cycle_anchor',
  'proration_behavior',
  'default_tax_rates',
  'application_fee_percent',
  'on_behalf_of',
  'transfer_data',
  'invoice_settings',
  'billing_mode',
];
const TRIAL_KEYS = ['trial_period_days', 'trial_settings', 'trial_end'];

const LINE_ITEM_KEYS = ['price', 'quantity', 'adjustable_quantity', 'dynamic_tax_rates', 'tax_rates', 'metadata'];

export interface SessionLookups {
  price(id: string): Price | undefined;
  product(id: string): Product | undefined;
  hasCustomer(id: string): boolean;
}

export interface SessionSpec {
  uiMode: UiMode;
  lineItems: LineItem[];
  currency: string;
  redirect: RedirectOnCompletion;
  returnUrl: string | undefined;
  customerId: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  expiresAt: number;
  paymentMethodCollection: 'always' | 'if_required' | undefined;
  subscriptionMetadata: Record<string, string>;
  phoneEnabled: boolean;
  submitType: string | undefined;
  billingAddress: string | undefined;
  allowPromotionCodes: boolean | undefined;
  locale: string | undefined;
  metadata: Record<string, string>;
}

export function readSessionCreate(params: FormObject, apiVersion: string, lookups: SessionLookups, now: number): SessionSpec {
  checkNames(params, apiVersion);
  const uiMode = readUiMode(params);
  const mode = optionalEnum(params, 'mode', ['payment', 'setup', 'subscription'] as const);
  if (mode !== undefined && mode !== 'subscription') {
    throw invalidRequest(`\`mode=${mode}\` is not supported. ${NOT_MODELLED}`, { param: 'mode' });
  }
  const paymentMethodTypes = optionalStringList(params, 'payment_method_types');
  if (paymentMethodTypes && !paymentMethodTypes.includes('card')) {
    throw invalidRequest('The emulator supports only the `card` payment method type.', { param: 'payment_method_types' });
  }
  const lineItems = readLineItems(params, lookups);
  const currency = lineItems[0]?.currency;
  if (currency === undefined) throw missingParam('line_items');
  if (!lineItems.some((item) => item.price.type === 'recurring')) {
    throw invalidRequest('You must provide at least one recurring price in `subscription` mode when using prices.', {
      param: 'line_items',
    });
  }
  const urls = readUrls(params, uiMode);
  const customer = readCustomer(params, lookups);

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
  const phoneCollection = optionalHash(params, 'phone_number_collection');
  return {
    uiMode,
    lineItems,
    currency,
    ...urls,
    ...customer,
    clientReferenceId,
    expiresAt: expiresAt ?? now + SESSION_LIFETIME_S,
    paymentMethodCollection: optionalEnum(params, 'payment_method_collection', ['always', 'if_required'] as const),
    subscriptionMetadata: readSubscriptionMetadata(params),
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
    if (REFUSED.includes(name)) throw unknownParam(name, NOT_MODELLED);
    if (!MODELLED.includes(name) && !ACCEPTED.includes(name)) throw unknownParam(name);
  }
}

/** Stripe's default is a hosted page, which the emulator does not serve: embedded must be asked for. */
function readUiMode(params: FormObject): UiMode {
  const uiMode = optionalString(params, 'ui_mode');
  if (uiMode === undefined || uiMode === '') {
    throw invalidRequest(`\`ui_mode\` defaults to \`hosted_page\`, which is not supported; pass \`ui_mode=embedded_page\`. ${NOT_MODELLED}`, {
      param: 'ui_mode',
    });
  }
  const known = UI_MODES.find((mode) => mode === uiMode);
  if (!known) throw invalidRequest(`\`ui_mode=${uiMode}\` is not supported. ${NOT_MODELLED}`, { param: 'ui_mode' });
  return known;
}

function readLineItems(params: FormObject, lookups: SessionLookups): LineItem[] {
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
    const price = lookups.price(priceId);
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
      description: lookups.product(price.product)?.name ?? price.nickname ?? price.id,
      price: structuredClone(price),
      quantity,
    };
  });
  if (new Set(items.map((item) => item.currency)).size > 1) {
    throw invalidRequest('All prices on a Checkout Session must have the same currency.', { param: 'line_items' });
  }
  return items;
}

function readUrls(params: FormObject, uiMode: UiMode): Pick<SessionSpec, 'redirect' | 'returnUrl'> {
  const redirect = optionalEnum(params, 'redirect_on_completion', ['always', 'if_required', 'never'] as const) ?? 'always';
  const returnUrl = optionalString(params, 'return_url');
  if (optionalString(params, 'success_url') !== undefined) {
    throw invalidRequest(`You may not specify \`success_url\` when \`ui_mode\` is \`${uiMode}\`. Use \`return_url\` instead.`, {
      param: 'success_url',
    });
  }
  if (optionalString(params, 'cancel_url') !== undefined) {
    throw invalidRequest(`You may not specify \`cancel_url\` when \`ui_mode\` is \`${uiMode}\`.`, { param: 'cancel_url' });
  }
  if (redirect === 'never') {
    if (returnUrl !== undefined) {
      throw invalidRequest('`return_url` cannot be set when `redirect_on_completion` is `never`.', { param: 'return_url' });
    }
  } else if (!returnUrl) {
    throw invalidRequest(`You must provide \`return_url\` when \`ui_mode\` is \`${uiMode}\` and \`redirect_on_completion\` is \`${redirect}\`.`, {
      code: 'parameter_missing',
      param: 'return_url',
    });
  } else {
    checkRedirectUrl(returnUrl, 'return_url');
  }
  return { redirect, returnUrl };
}

function readCustomer(params: FormObject, lookups: SessionLookups): Pick<SessionSpec, 'customerId' | 'customerEmail'> {
  const customerId = optionalString(params, 'customer') || null;
  const customerEmail = optionalEmail(params, 'customer_email') || null;
  if (customerId && customerEmail) {
    throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', { param: 'customer_email' });
  }
  if (customerId && !lookups.hasCustomer(customerId)) throw resourceMissing('customer', customerId, 'customer');
  return { customerId, customerEmail };
}

function readSubscriptionMetadata(params: FormObject): Record<string, string> {
  const data = optionalHash(params, 'subscription_data');
  if (!data) return {};
  for (const key of Object.keys(data)) {
    if (TRIAL_KEYS.includes(key)) throw unknownParam(`subscription_data[${key}]`, NOT_MODELLED);
    if (!SUBSCRIPTION_DATA_KEYS.includes(key)) throw unknownParam(`subscription_data[${key}]`);
  }
  return optionalMetadata(data, 'metadata', 'subscription_data[metadata]') ?? {};
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
