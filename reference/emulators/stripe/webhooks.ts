/**
 * Webhook delivery: each event is POSTed to the endpoint with a `Stripe-Signature` header
 * (`t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + body)>`), asynchronously, and retried with
 * backoff on a non-2xx answer or a connection error. Every attempt is signed afresh, like Stripe.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { StripeEvent } from './objects';

export function signatureHeader(payload: string, secret: string, timestamp: number): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** What a dashboard endpoint for this stack would subscribe to. */
export const DEFAULT_WEBHOOK_EVENTS = [
  'checkout.session.completed',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

/** 0.5 s, 1 s, 2 s, 4 s, 8 s between six attempts: bounded to about 16 s plus request time. */
export const DEFAULT_RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000] as const;
const ATTEMPT_TIMEOUT_MS = 10_000;

export interface DeliveryAttempt {
  at: string;
  status: number | null;
  error: string | null;
}

export interface DeliveryRecord {
  event_id: string;
  type: string;
  url: string;
  attempts: number;
  delivered: boolean;
  last_status: number | null;
  last_error: string | null;
  gave_up: boolean;
  history: DeliveryAttempt[];
}

export interface WebhookDispatcherOptions {
  url: string;
  secret: string;
  retryDelaysMs?: readonly number[];
  /** Event types the endpoint subscribes to; default DEFAULT_WEBHOOK_EVENTS. */
  events?: readonly string[];
  /** Called when an endpoint finally answers 2xx, so the event's `pending_webhooks` can drop. */
  onDelivered?: (eventId: string) => void;
}

export class WebhookDispatcher {
  private readonly records: DeliveryRecord[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<AbortController>();
  private readonly idle = new Set<() => void>();
  private readonly subscribed: ReadonlySet<string>;
  private closed = false;

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.subscribed = new Set(options.events ?? DEFAULT_WEBHOOK_EVENTS);
  }

  /** Sends the event when the endpoint subscribes to its type; it stays pending until a 2xx. */
  send(event: StripeEvent): void {
    if (!this.subscribed.has(event.type)) return;
    event.pending_webhooks = 1;
    this.deliver(event.id, event.type, JSON.stringify(event, null, 2));
  }

  /** Queues the event; returns at once. `payload` is the exact JSON the endpoint receives. */
  deliver(eventId: string, type: string, payload: string): void {
    if (this.closed) return;
    const record: DeliveryRecord = {
      event_id: eventId,
      type,
      url: this.options.url,
      attempts: 0,
      delivered: false,
      last_status: null,
      last_error: null,
      gave_up: false,
      history: [],
    };
    this.records.push(record);
    this.later(0, () => this.attempt(record, payload));
  }

  list(): DeliveryRecord[] {
    return this.records.map((record) => ({ ...record, history: [...record.history] }));
  }

  reset(): void {
    this.cancelPending();
    this.records.length = 0;
  }

  /** Resolves once no delivery is queued or in flight (tests wait on it). */
  whenIdle(): Promise<void> {
    if (this.timers.size === 0 && this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  close(): void {
    this.closed = true;
    this.cancelPending();
  }

  private cancelPending(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    this.notifyIdle();
  }

  private later(delayMs: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void run().finally(() => this.notifyIdle());
    }, delayMs);
    this.timers.add(timer);
  }

  private notifyIdle(): void {
    if (this.timers.size > 0 || this.inFlight.size > 0) return;
    for (const resolve of this.idle) resolve();
    this.idle.clear();
  }

  private async attempt(record: DeliveryRecord, payload: string): Promise<void> {
    if (this.closed || !this.records.includes(record)) return;
    const controller = new AbortController();
    this.inFlight.add(controller);
    const header = signatureHeader(payload, this.options.secret, Math.floor(Date.now() / 1000));
    const outcome = await post(this.options.url, payload, header, controller.signal);
    this.inFlight.delete(controller);
    if (controller.signal.aborted) return;
    record.attempts += 1;
    record.last_status = outcome.status;
    record.last_error = outcome.error;
    record.history.push({ at: new Date().toISOString(), status: outcome.status, error: outcome.error });
    if (outcome.status !== null && outcome.status >= 200 && outcome.status < 300) {
      record.delivered = true;
      this.options.onDelivered?.(record.event_id);
      return;
    }
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const delay = delays[record.attempts - 1];
    if (delay === undefined) {
      record.gave_up = true;
      return;
    }
    this.later(delay, () => this.attempt(record, payload));
  }
}

function post(
  url: string,
  payload: string,
  signature: string,
  signal: AbortSignal,
): Promise<{ status: number | null; error: string | null }> {
  return new Promise((resolve) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(payload, 'utf8');
    const req = send(
      target,
      {
        method: 'POST',
        signal,
        timeout: ATTEMPT_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(body.length),
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'cache-control': 'no-cache',
          accept: '*/*; q=0.5, application/xml',
          'stripe-signature': signature,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? null, error: null }));
        res.on('error', (error) => resolve({ status: res.statusCode ?? null, error: error.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${ATTEMPT_TIMEOUT_MS} ms`)));
    req.on('error', (error) => resolve({ status: null, error: error.message }));
    req.end(body);
  });
}
