/**
 * Events: every change the emulator makes is recorded as a Stripe event, listed at /v1/events and
 * handed to webhook delivery. `pending_webhooks` drops only when an endpoint answers 2xx, so it is
 * the delivery outcome that `delivery_success` filters on.
 */
import { invalidRequest, resourceMissing } from './errors';
import type { FormObject } from './form';
import { newestFirst, paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import { API_VERSION, newId, unixNow, type StripeEvent } from './objects';
import { optionalBoolean, optionalHash, optionalInteger, optionalString, optionalStringList, rejectUnknown } from './params';
import type { StateData } from './store';

/** The API request behind a change, as its event records it. */
export interface RequestContext {
  requestId: string;
  idempotencyKey: string | null;
  /** The `Stripe-Version` the caller asked for, or the emulator's default. */
  apiVersion: string;
}

/** For changes no request made (a session found expired on read). */
export const NO_REQUEST: RequestContext = { requestId: '', idempotencyKey: null, apiVersion: API_VERSION };

export interface EventHooks {
  /** After every mutation (persistence). */
  changed: () => void;
  /** For every new event (webhook delivery decides whether to send it). */
  emitted: (event: StripeEvent) => void;
}

export class Events {
  constructor(
    private readonly state: StateData,
    private readonly hooks: EventHooks,
  ) {}

  emit(type: string, object: unknown, ctx: RequestContext, previous?: Record<string, unknown>): void {
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

  /** A change that is not an event of its own (a new session). */
  changed(): void {
    this.hooks.changed();
  }

  list(query: FormObject): ListEnvelope<StripeEvent> {
    rejectUnknown(query, [...PAGINATION_PARAMS, 'type', 'types', 'created', 'delivery_success']);
    const type = optionalString(query, 'type');
    const types = optionalStringList(query, 'types');
    if (type && types) throw invalidRequest('You may only specify one of these parameters: type, types.', { param: 'types' });
    const created = optionalHash(query, 'created');
    const bounds = created ? readCreatedBounds(created) : undefined;
    const createdExact = created ? undefined : optionalInteger(query, 'created');
    // Stripe: false lists events still pending or failed at some endpoint.
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

  get(id: string): StripeEvent {
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
}

function matchesType(eventType: string, type: string | undefined, types: string[] | undefined): boolean {
  const patterns = type ? [type] : types;
  if (!patterns) return true;
  return patterns.some((pattern) => (pattern.endsWith('.*') ? eventType.startsWith(pattern.slice(0, -1)) : eventType === pattern));
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
