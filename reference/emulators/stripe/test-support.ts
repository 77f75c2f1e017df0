/** Shared by the emulator's tests: an ephemeral emulator, a webhook receiver, the SDK client. */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { CardForm } from './cards';
import { startStripeEmulator, type StripeEmulator, type StripeEmulatorOptions } from './server';

export const SECRET_KEY = 'sk_test_unit_emulator';
export const PUBLISHABLE_KEY = 'pk_test_unit_emulator';
export const WEBHOOK_SECRET = 'whsec_unit_emulator';

export function startTestEmulator(overrides: Partial<StripeEmulatorOptions> = {}): Promise<StripeEmulator> {
  return startStripeEmulator({
    port: 0,
    secretKeys: [SECRET_KEY],
    publishableKey: PUBLISHABLE_KEY,
    webhookSecret: WEBHOOK_SECRET,
    webhookRetryDelaysMs: [50, 100, 200],
    ...overrides,
  });
}

export function stripeClient(emulator: StripeEmulator, key = SECRET_KEY): Stripe {
  return new Stripe(key, { host: '127.0.0.1', port: emulator.port, protocol: 'http', maxNetworkRetries: 0 });
}

export interface ReceivedHook {
  body: string;
  signature: string;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedHook[];
  /** Status codes to answer, in order; after the list runs out, 200. */
  failFirst: number[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(failFirst: number[] = []): Promise<WebhookReceiver> {
  const received: ReceivedHook[] = [];
  const receiver: Partial<WebhookReceiver> = { received, failFirst: [...failFirst] };
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers['stripe-signature'] ?? '') });
      const status = receiver.failFirst?.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: status < 300 }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver.url = `http://127.0.0.1:${port}/api/v1/billing/stripe/webhook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver as WebhookReceiver;
}

/** Polls until `probe` returns a value that is not undefined (or the deadline passes). */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export const RETURN_URL = 'http://127.0.0.1:3100/checkout/return?session_id={CHECKOUT_SESSION_ID}';

/** A complete, valid checkout form (Stripe's 4242 test card); tests override the fields they are about. */
export function cardForm(overrides: Partial<CardForm> = {}): CardForm {
  return {
    email: 'buyer@example.com',
    cardNumber: '4242 4242 4242 4242',
    cardExpiry: '12 / 34',
    cardCvc: '123',
    billingName: 'Test Buyer',
    billingCountry: 'US',
    billingPostalCode: '10001',
    saveInfo: false,
    phoneNumber: '',
    ...overrides,
  };
}

export type ConfirmFields = Partial<CardForm>;

/** What the checkout iframe posts when the customer presses the submit button. */
export async function confirmCheckout(
  emulator: StripeEmulator,
  clientSecret: string,
  fields: ConfirmFields = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const sessionId = clientSecret.split('_secret_')[0] ?? '';
  const response = await fetch(`${emulator.url}/v3/checkout_sessions/${sessionId}/confirm`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_secret: clientSecret, key: PUBLISHABLE_KEY, ...cardForm(fields) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
