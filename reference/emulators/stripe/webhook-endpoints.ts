/**
 * Webhook endpoints, read-only: the one endpoint this emulator delivers to (its configured webhook
 * URL and the event types it sends there), as Stripe's `GET /v1/webhook_endpoints` shows a
 * dashboard-registered endpoint. A suite proves webhook delivery against it: an endpoint with the
 * target's URL exists, is enabled and subscribes to the events.
 */
import { createHash } from 'node:crypto';
import { resourceMissing } from './errors';
import type { FormObject } from './form';
import { paginate, PAGINATION_PARAMS, type ListEnvelope } from './lists';
import { API_VERSION } from './objects';
import { rejectUnknown } from './params';

export interface WebhookEndpoint {
  id: string;
  object: 'webhook_endpoint';
  api_version: string;
  application: null;
  created: number;
  description: string | null;
  enabled_events: string[];
  livemode: false;
  metadata: Record<string, string>;
  status: 'enabled' | 'disabled';
  url: string;
}

/** The same URL gets the same id across restarts, as a registered endpoint keeps its id. */
export function webhookEndpointId(url: string): string {
  return `we_${createHash('sha256').update(url).digest('hex').slice(0, 24)}`;
}

export class WebhookEndpoints {
  private readonly endpoints: WebhookEndpoint[];

  constructor(registered: { url: string; events: readonly string[]; created: number }[]) {
    this.endpoints = registered.map(({ url, events, created }) => ({
      id: webhookEndpointId(url),
      object: 'webhook_endpoint',
      api_version: API_VERSION,
      application: null,
      created,
      description: null,
      enabled_events: [...events],
      livemode: false,
      metadata: {},
      status: 'enabled',
      url,
    }));
  }

  list(query: FormObject): ListEnvelope<WebhookEndpoint> {
    rejectUnknown(query, [...PAGINATION_PARAMS]);
    return paginate([...this.endpoints].reverse(), query, '/v1/webhook_endpoints', 'webhook_endpoint');
  }

  get(id: string): WebhookEndpoint {
    const endpoint = this.endpoints.find((e) => e.id === id);
    if (!endpoint) throw resourceMissing('webhook_endpoint', id);
    return endpoint;
  }
}
