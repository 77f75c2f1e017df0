/**
 * Subscriptions: started by a completed Checkout Session, then read, updated (cancel at period
 * end, metadata) and canceled through the API. Periods live on the items (basil and later).
 */
import { invalidRequest, resourceMissing } from './errors';
import type { Events, RequestContext } from './events';
import type { FormObject } from './form';
import { newestFirst, paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import { addInterval, newId, planFromPrice, unixNow, type Subscription, type SubscriptionItem } from './objects';
import { mergeMetadata, optionalBoolean, optionalEnum, optionalMetadata, optionalString, rejectUnknown } from './params';
import type { SessionRecord, StateData } from './store';

const LIST_STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'] as const;

export class Subscriptions {
  constructor(
    private readonly state: StateData,
    private readonly events: Events,
  ) {}

  /** The subscription a completed session buys: its recurring line items, active at once. */
  start(customerId: string, paymentMethodId: string, record: SessionRecord, ctx: RequestContext): Subscription {
    const now = unixNow();
    const id = newId('sub');
    const items: SubscriptionItem[] = record.line_items
      .filter((item) => item.price.recurring)
      .map((item) => {
        const recurring = item.price.recurring ?? { interval: 'month' as const, interval_count: 1 };
        return {
          id: newId('si', 14),
          object: 'subscription_item',
          created: now,
          current_period_start: now,
          current_period_end: addInterval(now, recurring.interval, recurring.interval_count),
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
      billing_cycle_anchor: now,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null },
      collection_method: 'charge_automatically',
      created: now,
      currency: record.session.currency,
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
      status: 'active',
      test_clock: null,
      trial_end: null,
      trial_start: null,
    };
    this.state.subscriptions[id] = subscription;
    this.events.emit('customer.subscription.created', subscription, ctx);
    return subscription;
  }

  list(query: FormObject): ListEnvelope<Subscription> {
    rejectUnknown(query, [
      ...PAGINATION_PARAMS,
      'customer',
      'status',
      'price',
      'created',
      'current_period_end',
      'current_period_start',
      'collection_method',
      'test_clock',
      'automatic_tax',
      'customer_account',
    ]);
    const customer = optionalString(query, 'customer');
    const price = optionalString(query, 'price');
    const status = optionalEnum(query, 'status', LIST_STATUSES);
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

  get(id: string): Subscription {
    const subscription = this.state.subscriptions[id];
    if (!subscription) throw resourceMissing('subscription', id);
    return subscription;
  }

  update(id: string, params: FormObject, ctx: RequestContext): Subscription {
    rejectUnknown(params, ['cancel_at_period_end', 'metadata', 'description', 'expand', 'proration_behavior', 'cancellation_details']);
    const subscription = this.get(id);
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
    this.events.emit('customer.subscription.updated', subscription, ctx, previous);
    return subscription;
  }

  cancel(id: string, params: FormObject, ctx: RequestContext): Subscription {
    rejectUnknown(params, ['invoice_now', 'prorate', 'cancellation_details', 'expand']);
    optionalBoolean(params, 'invoice_now');
    optionalBoolean(params, 'prorate');
    const subscription = this.get(id);
    if (subscription.status === 'canceled') throw resourceMissing('subscription', id);
    this.end(subscription, ctx);
    return subscription;
  }

  /** Ends every live subscription of a customer (the customer is being deleted). */
  endAllOf(customerId: string, ctx: RequestContext): void {
    for (const subscription of Object.values(this.state.subscriptions)) {
      if (subscription.customer === customerId && subscription.status !== 'canceled') this.end(subscription, ctx);
    }
  }

  private end(subscription: Subscription, ctx: RequestContext): void {
    const now = unixNow();
    subscription.status = 'canceled';
    subscription.canceled_at = subscription.canceled_at ?? now;
    subscription.ended_at = now;
    subscription.cancellation_details = { ...subscription.cancellation_details, reason: 'cancellation_requested' };
    this.events.emit('customer.subscription.deleted', subscription, ctx);
  }
}
