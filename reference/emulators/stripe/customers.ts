/**
 * Customers and their payment methods. The product creates its customers through the API; a
 * Checkout completion opens one when the session has none, and attaches the card it was paid with.
 */
import type { ValidCard } from './cards';
import { invalidRequest, resourceMissing } from './errors';
import type { Events, RequestContext } from './events';
import type { FormObject } from './form';
import { newestFirst, paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import { newId, randomToken, unixNow, type Address, type Customer, type PaymentMethod } from './objects';
import { mergeMetadata, optionalEmail, optionalHash, optionalMetadata, optionalString, rejectUnknown } from './params';
import type { StateData } from './store';
import type { Subscriptions } from './subscriptions';

/** Who paid, as the checkout form gave it. */
export interface Billing {
  email: string;
  name: string;
  phone: string | null;
  address: Address;
}

type NewCustomer = Pick<Customer, 'email' | 'name' | 'description' | 'phone' | 'metadata'> & { address?: Address };

export class Customers {
  constructor(
    private readonly state: StateData,
    private readonly events: Events,
    private readonly subscriptions: Subscriptions,
  ) {}

  create(params: FormObject, ctx: RequestContext): Customer {
    rejectUnknown(params, ['email', 'name', 'description', 'phone', 'metadata', 'expand', 'address', 'preferred_locales']);
    return this.open(
      {
        email: optionalEmail(params, 'email') || null,
        name: optionalString(params, 'name') || null,
        description: optionalString(params, 'description') || null,
        phone: optionalString(params, 'phone') || null,
        metadata: optionalMetadata(params) ?? {},
      },
      ctx,
    );
  }

  /** The customer a Checkout completion needs when its session names none. */
  openForCheckout(billing: Billing, ctx: RequestContext): Customer {
    return this.open({ email: billing.email, name: billing.name, description: null, phone: billing.phone, metadata: {}, address: billing.address }, ctx);
  }

  update(id: string, params: FormObject, ctx: RequestContext): Customer {
    rejectUnknown(params, ['email', 'name', 'description', 'phone', 'metadata', 'expand', 'invoice_settings']);
    const customer = this.get(id);
    const previous: Record<string, unknown> = {};
    const email = optionalEmail(params, 'email');
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
    for (const field of ['email', 'name', 'description', 'phone'] as const) {
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
    this.events.emit('customer.updated', customer, ctx, previous);
    return customer;
  }

  get(id: string): Customer {
    const customer = this.state.customers[id];
    if (!customer) throw resourceMissing('customer', id);
    return customer;
  }

  /** A customer the session named, unless it was deleted since. */
  find(id: string | null): Customer | undefined {
    return id ? this.state.customers[id] : undefined;
  }

  delete(id: string, ctx: RequestContext): { id: string; object: 'customer'; deleted: true } {
    const customer = this.get(id);
    this.subscriptions.endAllOf(id, ctx);
    delete this.state.customers[id];
    this.events.emit('customer.deleted', customer, ctx);
    return { id, object: 'customer', deleted: true };
  }

  list(query: FormObject): ListEnvelope<Customer> {
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

  listPaymentMethods(customerId: string, query: FormObject): ListEnvelope<PaymentMethod> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'type', 'allow_redisplay']);
    this.get(customerId);
    const type = optionalString(query, 'type');
    const items = newestFirst(this.state.payment_methods).filter((pm) => pm.customer === customerId && (!type || pm.type === type));
    return paginate(items, query, `/v1/customers/${customerId}/payment_methods`, 'PaymentMethod');
  }

  /** The card a checkout was paid with, attached to its customer. */
  attachCard(customerId: string, card: ValidCard, billing: Billing, saveInfo: boolean, ctx: RequestContext): PaymentMethod {
    const pm: PaymentMethod = {
      id: newId('pm'),
      object: 'payment_method',
      allow_redisplay: saveInfo ? 'always' : 'limited',
      billing_details: { address: billing.address, email: billing.email, name: billing.name, phone: billing.phone, tax_id: null },
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
      created: unixNow(),
      customer: customerId,
      customer_account: null,
      livemode: false,
      metadata: {},
      type: 'card',
    };
    this.state.payment_methods[pm.id] = pm;
    this.events.emit('payment_method.attached', pm, ctx);
    return pm;
  }

  private open(fields: NewCustomer, ctx: RequestContext): Customer {
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
    this.events.emit('customer.created', customer, ctx);
    return customer;
  }
}
