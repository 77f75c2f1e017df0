/**
 * The Stripe test-mode emulator: the v1 API subset the reference stack and the suite use (api.ts),
 * a Stripe.js stand-in at /v3 that mounts Embedded Checkout in an iframe served from here
 * (assets.ts, checkout-page.ts), signed webhooks with retries (webhooks.ts), and a journal for
 * offline assertions. This file wires the resources to one state and routes each request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeServer, HttpError, listen, originOf, sendReply, type Reply } from '../http-kit';
import { RequestJournal } from '../journal';
import { StripeApi, type ApiRoute } from './api';
import { BrowserAssets } from './assets';
import { Catalogue } from './catalogue';
import { CheckoutPage } from './checkout-page';
import { CheckoutSessions } from './checkout-sessions';
import { Customers } from './customers';
import { StripeError, unrecognizedUrl } from './errors';
import { Events } from './events';
import { API_VERSION, newId, unixNow } from './objects';
import { checkOptions, type StripeEmulatorOptions } from './options';
import { findObject, loadState, seed, StatePersister } from './store';
import { Subscriptions } from './subscriptions';
import { WebhookEndpoints } from './webhook-endpoints';
import { DEFAULT_RETRY_DELAYS_MS, DEFAULT_WEBHOOK_EVENTS, WebhookDispatcher } from './webhooks';

/**
 * Answers 200 to any POST and keeps nothing: a webhook URL that accepts Stripe's deliveries but is
 * not the stack's (the self-test's `stripe_webhook_wrong_url` points the endpoint here).
 */
export const WEBHOOK_SINK_PATH = '/__emulator/webhook-sink';

export type { StripeEmulatorOptions } from './options';

export interface StripeEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** On every answer: nothing is cached, and a browser never sniffs a JSON body into something else. */
const COMMON_HEADERS = { 'cache-control': 'no-cache, no-store', 'x-content-type-options': 'nosniff' };

export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  checkOptions(options);
  const host = options.host ?? '127.0.0.1';
  const state = loadState(options.stateFile);
  const persister = new StatePersister(options.stateFile, state);

  const server = createServer({ keepAliveTimeout: 5000 });
  const port = await listen(server, options.port, host);
  const url = originOf(host, port);
  const publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');

  const dispatcher = options.webhookUrl
    ? new WebhookDispatcher({
        url: options.webhookUrl,
        secret: options.webhookSecret,
        retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
        events: options.webhookEvents,
        onDelivered: (eventId) => events.markDelivered(eventId),
      })
    : undefined;
  const events = new Events(state, { changed: () => persister.schedule(), emitted: (event) => dispatcher?.send(event) });
  const endpoints = new WebhookEndpoints(
    options.webhookUrl ? [{ url: options.webhookUrl, events: options.webhookEvents ?? DEFAULT_WEBHOOK_EVENTS, created: unixNow() }] : [],
  );
  const catalogue = new Catalogue(state);
  const subscriptions = new Subscriptions(state, events);
  const customers = new Customers(state, events, subscriptions);
  const sessions = new CheckoutSessions(state, events);
  if (seed(state, Math.floor(Date.now() / 1000))) persister.flush();

  const routes: ApiRoute[] = [
    { method: 'GET', pattern: /^\/v1\/products$/, run: (_ids, p) => catalogue.listProducts(p) },
    { method: 'GET', pattern: /^\/v1\/products\/([^/]+)$/, run: ([id = '']) => catalogue.getProduct(id) },
    { method: 'GET', pattern: /^\/v1\/prices$/, run: (_ids, p) => catalogue.listPrices(p) },
    { method: 'GET', pattern: /^\/v1\/prices\/([^/]+)$/, run: ([id = '']) => catalogue.getPrice(id) },
    { method: 'POST', pattern: /^\/v1\/customers$/, run: (_ids, p, c) => customers.create(p, c) },
    { method: 'GET', pattern: /^\/v1\/customers$/, run: (_ids, p) => customers.list(p) },
    { method: 'GET', pattern: /^\/v1\/customers\/([^/]+)$/, run: ([id = '']) => customers.get(id) },
    { method: 'POST', pattern: /^\/v1\/customers\/([^/]+)$/, run: ([id = ''], p, c) => customers.update(id, p, c) },
    { method: 'DELETE', pattern: /^\/v1\/customers\/([^/]+)$/, run: ([id = ''], _p, c) => customers.delete(id, c) },
    { method: 'GET', pattern: /^\/v1\/customers\/([^/]+)\/payment_methods$/, run: ([id = ''], p) => customers.listPaymentMethods(id, p) },
    { method: 'GET', pattern: /^\/v1\/payment_methods\/([^/]+)$/, run: ([id = '']) => customers.getPaymentMethod(id) },
    { method: 'POST', pattern: /^\/v1\/checkout\/sessions$/, run: (_ids, p, c) => sessions.create(p, c) },
    { method: 'GET', pattern: /^\/v1\/checkout\/sessions$/, run: (_ids, p) => sessions.list(p) },
    { method: 'GET', pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/, run: ([id = '']) => sessions.get(id) },
    { method: 'GET', pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/, run: ([id = ''], p) => sessions.listLineItems(id, p) },
    { method: 'POST', pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, run: ([id = ''], _p, c) => sessions.expire(id, c) },
    { method: 'GET', pattern: /^\/v1\/subscriptions$/, run: (_ids, p) => subscriptions.list(p) },
    { method: 'GET', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: ([id = '']) => subscriptions.get(id) },
    { method: 'POST', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: ([id = ''], p, c) => subscriptions.update(id, p, c) },
    { method: 'DELETE', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: ([id = ''], p, c) => subscriptions.cancel(id, p, c) },
    { method: 'GET', pattern: /^\/v1\/events$/, run: (_ids, p) => events.list(p) },
    { method: 'GET', pattern: /^\/v1\/events\/([^/]+)$/, run: ([id = '']) => events.get(id) },
    { method: 'GET', pattern: /^\/v1\/webhook_endpoints$/, run: (_ids, p) => endpoints.list(p) },
    { method: 'GET', pattern: /^\/v1\/webhook_endpoints\/([^/]+)$/, run: ([id = '']) => endpoints.get(id) },
  ];
  const api = new StripeApi({
    routes,
    secretKeys: new Set(options.secretKeys),
    resolve: (id) => findObject(state, id),
    // Stripe includes a session's line items only when asked to expand them.
    expandExtra: (owner, field) =>
      owner.object === 'checkout.session' && field === 'line_items' && typeof owner.id === 'string' ? sessions.lineItemsList(owner.id) : undefined,
  });
  const page = new CheckoutPage({ sessions, customers, subscriptions, events, publishableKey: options.publishableKey });
  const assets = new BrowserAssets(publicUrl, options.publishableKey);
  const journal = new RequestJournal();

  /** The emulator's own endpoints (no auth, not journaled). */
  function internal(method: string, path: string, query: URLSearchParams): Reply {
    if (path === '/__emulator/health' && method === 'GET') {
      return { status: 200, body: { status: 'ok', service: 'stripe-emulator', api_version: API_VERSION } };
    }
    if (path === '/__emulator/requests' && method === 'GET') return { status: 200, body: { requests: journal.query(query) } };
    if (path === '/__emulator/requests' && method === 'DELETE') {
      journal.clear();
      return { status: 200, body: { cleared: true } };
    }
    if (path === '/__emulator/webhooks' && method === 'GET') return { status: 200, body: { webhooks: dispatcher?.list() ?? [] } };
    if (path === '/__emulator/webhooks' && method === 'DELETE') {
      dispatcher?.reset();
      return { status: 200, body: { cleared: true } };
    }
    throw unrecognizedUrl(method, path);
  }

  async function route(req: IncomingMessage, method: string, url: URL, requestId: string): Promise<Reply> {
    const path = url.pathname;
    if (path === WEBHOOK_SINK_PATH && method === 'POST') {
      req.resume();
      return { status: 200, body: { received: true } };
    }
    if (path.startsWith('/__emulator/')) return internal(method, path, url.searchParams);
    const asset = assets.serve(method, path);
    if (asset) return asset;
    const checkout = /^\/v3\/checkout_sessions\/([A-Za-z0-9_]+)(\/confirm)?$/.exec(path);
    if (checkout) {
      const confirm = Boolean(checkout[2]);
      if (method !== (confirm ? 'POST' : 'GET')) throw unrecognizedUrl(method, path);
      return page.handle(req, url, checkout[1] ?? '', confirm, requestId);
    }
    if (path.startsWith('/v1/')) return api.handle(req, method, url, requestId);
    throw unrecognizedUrl(method, path);
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const requestId = newId('req', 14);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    res.setHeader('request-id', requestId);
    if (!url.pathname.startsWith('/__emulator/')) journal.track(req, res);
    route(req, method, url, requestId)
      .catch((error: unknown): Reply => {
        if (error instanceof StripeError) return { status: error.status, body: error.body() };
        if (error instanceof HttpError) return { status: error.status, body: new StripeError(error.status, 'invalid_request_error', error.message).body() };
        process.stderr.write(`stripe emulator: unexpected error on ${method} ${url.pathname}: ${(error as Error).stack ?? String(error)}\n`);
        return { status: 500, body: new StripeError(500, 'api_error', 'An unexpected error occurred in the Stripe emulator.').body() };
      })
      .then((reply) => sendReply(res, reply, { headers: COMMON_HEADERS, indent: 2 }))
      .catch((error: unknown) => {
        process.stderr.write(`stripe emulator: could not answer ${method} ${url.pathname}: ${(error as Error).message}\n`);
        res.destroy();
      });
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => {
      closing ??= (() => {
        dispatcher?.close();
        persister.flush();
        return closeServer(server);
      })();
      return closing;
    },
  };
}
