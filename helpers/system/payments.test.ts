import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { createStripe } from '../clients/stripe';
import { forgedCheckoutCompletedEvent, Payments, webhookEndpointProblem, type WebhookEndpointView } from './payments';

describe('forgedCheckoutCompletedEvent', () => {
  const stripe = createStripe(parseConfig({}));

  it('is well formed but fails verification with the real signing secret', () => {
    const forged = forgedCheckoutCompletedEvent(stripe, { id: 'cs_test_123', accountId: 'acc-1' });
    expect(forged.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}/);
    expect(JSON.parse(forged.payload)).toMatchObject({ type: 'checkout.session.completed', data: { object: { id: 'cs_test_123' } } });
    expect(() => stripe.webhooks.constructEvent(forged.payload, forged.signature, 'whsec_m1_reference')).toThrow(/signature/i);
  });
});

describe('Payments.undeliveredEvents', () => {
  it("asks Stripe's own filter for events since a moment that were not delivered everywhere", async () => {
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const event = (id: string, type: string, created: number, object: unknown) => ({ id, object: 'event', type, created, pending_webhooks: 1, data: { object } });
      const data = [
        event('evt_1', 'checkout.session.completed', 1767261605, { id: 'cs_1', object: 'checkout.session', customer: 'cus_other' }),
        event('evt_2', 'customer.subscription.created', 1767261606, { id: 'sub_1', object: 'subscription', customer: 'cus_mine' }),
        event('evt_3', 'customer.created', 1767261607, { id: 'cus_mine', object: 'customer' }),
        event('evt_4', 'invoice.paid', 1767261608, { id: 'in_1', object: 'invoice', customer: null }),
      ];
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', url: '/v1/events', has_more: false, data }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const agent = new Agent();
    try {
      const config = parseConfig({ STRIPE_API_BASE: base });
      const payments = new Payments(createStripe(config), config, agent);
      expect((await payments.undeliveredEvents(new Date('2026-01-01T10:00:00.900Z'))).map((e) => e.id)).toEqual(['evt_1', 'evt_2', 'evt_3', 'evt_4']);
      expect(await payments.undeliveredEvents(new Date('2026-01-01T10:00:00.900Z'), 'cus_mine')).toEqual([
        { id: 'evt_2', type: 'customer.subscription.created', created: 1767261606 },
        { id: 'evt_3', type: 'customer.created', created: 1767261607 },
      ]);
      const query = new URL(asked[0]!, base).searchParams;
      expect(new URL(asked[0]!, base).pathname).toBe('/v1/events');
      expect(Object.fromEntries(query)).toMatchObject({ delivery_success: 'false', 'created[gte]': '1767261600', limit: '100' });
    } finally {
      await agent.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('webhookEndpointProblem', () => {
  const url = 'http://127.0.0.1:4950/api/v1/billing/stripe/webhook';
  const endpoint = (overrides: Partial<WebhookEndpointView> = {}): WebhookEndpointView => ({
    id: 'we_1',
    url,
    status: 'enabled',
    enabled_events: ['checkout.session.completed', 'customer.subscription.created'],
    ...overrides,
  });

  it("accepts an enabled endpoint with the target's URL, however its path ends", () => {
    expect(webhookEndpointProblem([endpoint()], url)).toBeNull();
    expect(webhookEndpointProblem([endpoint({ url: `${url}/`, enabled_events: ['*'] })], url)).toBeNull();
  });

  it('fails when no endpoint has that URL, naming the URLs registered', () => {
    expect(webhookEndpointProblem([endpoint({ url: 'http://127.0.0.1:4952/__emulator/webhook-sink' })], url)).toBe(
      `no Stripe webhook endpoint is registered with the target's webhook URL ${url} (registered: http://127.0.0.1:4952/__emulator/webhook-sink)`,
    );
    expect(webhookEndpointProblem([], url)).toMatch(/\(registered: none\)$/);
  });

  it('fails on a disabled endpoint, or one subscribed to other events', () => {
    expect(webhookEndpointProblem([endpoint({ status: 'disabled' })], url)).toMatch(/we_1 is disabled/);
    expect(webhookEndpointProblem([endpoint({ enabled_events: ['invoice.paid'] })], url)).toMatch(/subscribed to invoice\.paid/);
  });
});
