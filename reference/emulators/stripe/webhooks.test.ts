import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhookReceiver, type WebhookReceiver } from './test-support';
import { signatureHeader, WebhookDispatcher } from './webhooks';

const SECRET = 'whsec_dispatch_test';

describe('webhook signing and delivery', () => {
  let receiver: WebhookReceiver | undefined;

  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it('signs so that stripe.webhooks.constructEvent accepts it', () => {
    const payload = JSON.stringify({ id: 'evt_1', object: 'event', type: 'ping', data: { object: {} } });
    const header = signatureHeader(payload, SECRET, Math.floor(Date.now() / 1000));
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const stripe = new Stripe('sk_test_x');
    expect(stripe.webhooks.constructEvent(payload, header, SECRET).id).toBe('evt_1');
    const expected = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: 1_700_000_000 });
    expect(signatureHeader(payload, SECRET, 1_700_000_000)).toBe(expected);
  });

  it('retries with backoff, then gives up after the last delay', async () => {
    receiver = await startWebhookReceiver([500, 502, 503, 500]);
    const dispatcher = new WebhookDispatcher({ url: receiver.url, secret: SECRET, retryDelaysMs: [10, 20, 30] });
    dispatcher.deliver('evt_a', 'checkout.session.completed', '{"id":"evt_a"}');
    await dispatcher.whenIdle();
    const [record] = dispatcher.list();
    expect(record).toMatchObject({ event_id: 'evt_a', attempts: 4, delivered: false, gave_up: true, last_status: 500 });
    expect(receiver.received).toHaveLength(4);
    dispatcher.close();
  });

  it('counts a connection error as a failed attempt and stops on close', async () => {
    const delivered: string[] = [];
    const dispatcher = new WebhookDispatcher({
      url: 'http://127.0.0.1:9/unreachable',
      secret: SECRET,
      retryDelaysMs: [60_000],
      onDelivered: (id) => delivered.push(id),
    });
    dispatcher.deliver('evt_b', 'customer.subscription.created', '{}');
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [record] = dispatcher.list();
    expect(record?.attempts).toBe(1);
    expect(record?.last_status).toBeNull();
    expect(record?.last_error).toBeTruthy();
    dispatcher.close();
    await dispatcher.whenIdle();
    expect(delivered).toEqual([]);
  });
});
