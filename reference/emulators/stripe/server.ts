/**
 * The Stripe test-mode emulator: the v1 API subset the reference stack and the suite use
 * (form-encoded bodies, Bearer keys, Stripe's error bodies, idempotency keys), a Stripe.js
 * stand-in at /v3 that mounts Embedded Checkout in an iframe served from here, signed webhooks
 * with retries, and a journal for offline assertions. Plain node:http so it is ready in well
 * under half a second.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StripeBackend, type RequestContext } from './backend';
import type { CardForm } from './cards';
import { maskKey, StripeError, unrecognizedUrl } from './errors';
import { FormError, parseForm, parseQuery, type FormObject } from './form';
import { IdempotencyCache } from './idempotency';
import { RequestJournal } from './journal';
import { expand } from './lists';
import { API_VERSION, newId } from './objects';
import { optionalStringList } from './params';
import { loadState, seed, StatePersister } from './store';
import { DEFAULT_RETRY_DELAYS_MS, WebhookDispatcher } from './webhooks';

export interface StripeEmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Accepted secret keys (test mode only). */
  secretKeys: string[];
  publishableKey: string;
  webhookUrl?: string;
  webhookSecret: string;
  /** JSON file that keeps state across restarts; in memory only when absent. */
  stateFile?: string;
  /** The URL the browser uses to reach the emulator; default http://<host>:<port>. */
  publicUrl?: string;
  /** Delays between webhook attempts (ms); its length + 1 is the number of attempts. */
  webhookRetryDelaysMs?: readonly number[];
  /** Event types sent to the webhook endpoint (all events are still listed at /v1/events). */
  webhookEvents?: readonly string[];
}

export interface StripeEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** What a dashboard endpoint for this stack would subscribe to. */
export const DEFAULT_WEBHOOK_EVENTS = [
  'checkout.session.completed',
  'checkout.session.expired',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
] as const;

const MAX_BODY_BYTES = 1024 * 1024;
const ASSETS = new URL('./assets/', import.meta.url);
const STRIPE_JS = readFileSync(new URL('stripe.js', ASSETS), 'utf8');
const CHECKOUT_HTML = readFileSync(new URL('checkout.html', ASSETS), 'utf8');
const CHECKOUT_JS = readFileSync(new URL('checkout.js', ASSETS), 'utf8');
const CONFIG_SLOT = 'var CONFIG = __EMULATOR_CONFIG__;';
if (!STRIPE_JS.includes(CONFIG_SLOT)) throw new Error(`assets/stripe.js lost its "${CONFIG_SLOT}" line`);

const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "base-uri 'none'",
  'frame-ancestors *',
].join('; ');

export class OptionsError extends Error {
  override name = 'OptionsError';
}

function checkOptions(options: StripeEmulatorOptions): void {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new OptionsError(`port must be an integer 0-65535 (got ${String(options.port)})`);
  }
  if (!Array.isArray(options.secretKeys) || options.secretKeys.length === 0) {
    throw new OptionsError('secretKeys must list at least one sk_test_ key');
  }
  for (const key of options.secretKeys) {
    if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key)) {
      throw new OptionsError(`secret keys must be test-mode keys like sk_test_...; got ${maskKey(String(key))}`);
    }
  }
  if (!/^pk_test_[A-Za-z0-9_]+$/.test(options.publishableKey)) {
    throw new OptionsError('publishableKey must be a test-mode key starting with pk_test_');
  }
  if (!/^whsec_[A-Za-z0-9_]+$/.test(options.webhookSecret)) {
    throw new OptionsError('webhookSecret must start with whsec_');
  }
  for (const [name, value] of [
    ['webhookUrl', options.webhookUrl],
    ['publicUrl', options.publicUrl],
  ] as const) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OptionsError(`${name} must be an absolute http(s) URL (got "${value}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionsError(`${name} must use http or https`);
  }
}

export async function startStripeEmulator(options: StripeEmulatorOptions): Promise<StripeEmulator> {
  checkOptions(options);
  const host = options.host ?? '127.0.0.1';
  const state = loadState(options.stateFile);
  const persister = new StatePersister(options.stateFile, state);
  const journal = new RequestJournal();
  const idempotency = new IdempotencyCache();
  const webhookEvents = new Set<string>(options.webhookEvents ?? DEFAULT_WEBHOOK_EVENTS);

  const server = createServer({ keepAliveTimeout: 5000 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const publicUrl = (options.publicUrl ?? url).replace(/\/+$/, '');

  const backend = new StripeBackend(
    state,
    {
      changed: () => persister.schedule(),
      emitted: (event) => {
        if (!dispatcher || !webhookEvents.has(event.type)) return;
        event.pending_webhooks = 1;
        dispatcher.deliver(event.id, event.type, JSON.stringify(event, null, 2));
      },
    },
    publicUrl,
  );
  const dispatcher = options.webhookUrl
    ? new WebhookDispatcher({
        url: options.webhookUrl,
        secret: options.webhookSecret,
        retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
        onDelivered: (eventId) => backend.markDelivered(eventId),
      })
    : undefined;
  if (seed(state, Math.floor(Date.now() / 1000))) persister.flush();

  const app = new App({
    backend,
    journal,
    idempotency,
    dispatcher,
    secretKeys: new Set(options.secretKeys),
    publishableKey: options.publishableKey,
    stripeJs: STRIPE_JS.replace(
      CONFIG_SLOT,
      `var CONFIG = ${JSON.stringify({
        origin: new URL(publicUrl).origin,
        frameUrl: `${publicUrl}/v3/embedded-checkout`,
        publishableKeys: [options.publishableKey],
      })};`,
    ),
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void app.handle(req, res);
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        dispatcher?.close();
        persister.flush();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

interface AppDeps {
  backend: StripeBackend;
  journal: RequestJournal;
  idempotency: IdempotencyCache;
  dispatcher: WebhookDispatcher | undefined;
  secretKeys: Set<string>;
  publishableKey: string;
  stripeJs: string;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type ApiHandler = (match: RegExpExecArray, params: FormObject, ctx: RequestContext) => unknown;

class App {
  private readonly routes: { method: string; pattern: RegExp; run: ApiHandler }[];

  constructor(private readonly deps: AppDeps) {
    const b = deps.backend;
    const id = (match: RegExpExecArray): string => decodeURIComponent(match[1] ?? '');
    this.routes = [
      { method: 'GET', pattern: /^\/v1\/products$/, run: (_m, p) => b.listProducts(p) },
      { method: 'GET', pattern: /^\/v1\/products\/([^/]+)$/, run: (m) => b.getProduct(id(m)) },
      { method: 'GET', pattern: /^\/v1\/prices$/, run: (_m, p) => b.listPrices(p) },
      { method: 'GET', pattern: /^\/v1\/prices\/([^/]+)$/, run: (m) => b.getPrice(id(m)) },
      { method: 'POST', pattern: /^\/v1\/customers$/, run: (_m, p, c) => b.createCustomer(p, c) },
      { method: 'GET', pattern: /^\/v1\/customers$/, run: (_m, p) => b.listCustomers(p) },
      { method: 'GET', pattern: /^\/v1\/customers\/([^/]+)$/, run: (m) => b.getCustomer(id(m)) },
      { method: 'POST', pattern: /^\/v1\/customers\/([^/]+)$/, run: (m, p, c) => b.updateCustomer(id(m), p, c) },
      { method: 'DELETE', pattern: /^\/v1\/customers\/([^/]+)$/, run: (m, _p, c) => b.deleteCustomer(id(m), c) },
      {
        method: 'GET',
        pattern: /^\/v1\/customers\/([^/]+)\/payment_methods$/,
        run: (m, p) => b.listCustomerPaymentMethods(id(m), p),
      },
      { method: 'GET', pattern: /^\/v1\/payment_methods\/([^/]+)$/, run: (m) => b.getPaymentMethod(id(m)) },
      { method: 'POST', pattern: /^\/v1\/checkout\/sessions$/, run: (_m, p, c) => b.createSession(p, c) },
      { method: 'GET', pattern: /^\/v1\/checkout\/sessions$/, run: (_m, p) => b.listSessions(p) },
      { method: 'GET', pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/, run: (m) => b.getSession(id(m)) },
      {
        method: 'GET',
        pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/,
        run: (m, p) => b.listSessionLineItems(id(m), p),
      },
      { method: 'POST', pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, run: (m, _p, c) => b.expireSession(id(m), c) },
      { method: 'GET', pattern: /^\/v1\/subscriptions$/, run: (_m, p) => b.listSubscriptions(p) },
      { method: 'GET', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: (m) => b.getSubscription(id(m)) },
      { method: 'POST', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: (m, p, c) => b.updateSubscription(id(m), p, c) },
      { method: 'DELETE', pattern: /^\/v1\/subscriptions\/([^/]+)$/, run: (m, p, c) => b.cancelSubscription(id(m), p, c) },
      { method: 'GET', pattern: /^\/v1\/events$/, run: (_m, p) => b.listEvents(p) },
      { method: 'GET', pattern: /^\/v1\/events\/([^/]+)$/, run: (m) => b.getEvent(id(m)) },
    ];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newId('req', 14);
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const url = new URL(rawUrl, 'http://emulator.invalid');
    const path = url.pathname;
    res.setHeader('request-id', requestId);
    if (!path.startsWith('/__emulator/')) {
      res.on('finish', () => this.deps.journal.record(method, rawUrl, res.statusCode));
    }
    try {
      const reply = await this.route(req, method, url, requestId);
      if (reply) send(res, reply);
    } catch (error) {
      if (error instanceof StripeError) {
        send(res, { status: error.status, body: error.body() });
        return;
      }
      process.stderr.write(`stripe emulator: unexpected error on ${method} ${path}: ${(error as Error).stack ?? String(error)}\n`);
      send(res, {
        status: 500,
        body: new StripeError(500, 'api_error', 'An unexpected error occurred in the Stripe emulator.').body(),
      });
    }
  }

  private async route(req: IncomingMessage, method: string, url: URL, requestId: string): Promise<Reply | undefined> {
    const path = url.pathname;
    if (path.startsWith('/__emulator/')) return this.internal(method, path);
    if (path === '/v3' || path === '/v3/' || /^\/(basil|clover|dahlia|endive)\/stripe\.js$/.test(path)) {
      if (method !== 'GET' && method !== 'HEAD') throw unrecognizedUrl(method, path);
      return asset(this.deps.stripeJs, 'application/javascript; charset=utf-8');
    }
    if (path === '/v3/embedded-checkout' || /^\/c\/pay\/[A-Za-z0-9_]+$/.test(path)) {
      if (method !== 'GET' && method !== 'HEAD') throw unrecognizedUrl(method, path);
      return asset(CHECKOUT_HTML, 'text/html; charset=utf-8', { 'content-security-policy': PAGE_CSP });
    }
    if (path === '/v3/embedded-checkout.js') {
      if (method !== 'GET' && method !== 'HEAD') throw unrecognizedUrl(method, path);
      return asset(CHECKOUT_JS, 'application/javascript; charset=utf-8');
    }
    const page = /^\/v3\/checkout_sessions\/([A-Za-z0-9_]+)(\/confirm)?$/.exec(path);
    if (page) return this.checkoutPage(req, method, url, page[1] ?? '', Boolean(page[2]), requestId);
    if (path.startsWith('/v1/')) return this.api(req, method, url, requestId);
    throw unrecognizedUrl(method, path);
  }

  private internal(method: string, path: string): Reply {
    const { journal, dispatcher } = this.deps;
    if (path === '/__emulator/health' && method === 'GET') {
      return { status: 200, body: { status: 'ok', service: 'stripe-emulator', api_version: API_VERSION } };
    }
    if (path === '/__emulator/requests') {
      if (method === 'GET') return { status: 200, body: { requests: journal.list() } };
      if (method === 'DELETE') {
        journal.reset();
        return { status: 200, body: { cleared: true } };
      }
    }
    if (path === '/__emulator/webhooks') {
      if (method === 'GET') return { status: 200, body: { webhooks: dispatcher?.list() ?? [] } };
      if (method === 'DELETE') {
        dispatcher?.reset();
        return { status: 200, body: { cleared: true } };
      }
    }
    throw unrecognizedUrl(method, path);
  }

  // ---- /v1 -------------------------------------------------------------------------------------

  private async api(req: IncomingMessage, method: string, url: URL, requestId: string): Promise<Reply> {
    const apiKey = this.authenticate(req);
    const versionHeader = header(req, 'stripe-version');
    if (versionHeader !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(versionHeader)) {
      throw new StripeError(400, 'invalid_request_error', `Invalid Stripe API version: ${versionHeader}`, { code: 'api_version_invalid' });
    }
    const apiVersion = versionHeader ?? API_VERSION;
    const body = await readBody(req, MAX_BODY_BYTES);
    const params = parseParams(url, body, header(req, 'content-type'));
    const route = this.routes.find((candidate) => candidate.method === method && candidate.pattern.test(url.pathname));
    if (!route) throw unrecognizedUrl(method, url.pathname);
    const match = route.pattern.exec(url.pathname) as RegExpExecArray;
    const idempotencyKey = method === 'POST' ? (header(req, 'idempotency-key') ?? null) : null;
    const versionHeaders = { 'stripe-version': apiVersion };
    const fingerprint = idempotencyKey ? `${method} ${url.pathname} ${canonical(params)}` : '';
    if (idempotencyKey) {
      const stored = this.deps.idempotency.lookup(apiKey, idempotencyKey, fingerprint);
      if (stored) {
        return {
          status: stored.status,
          body: JSON.parse(stored.body) as unknown,
          headers: { ...versionHeaders, 'idempotent-replayed': 'true', 'idempotency-key': idempotencyKey },
        };
      }
    }
    const ctx: RequestContext = { requestId, idempotencyKey, apiVersion };
    let reply: Reply;
    try {
      const result = route.run(match, params, ctx);
      const paths = optionalStringList(params, 'expand') ?? [];
      const body = paths.length > 0 ? expand(result, paths, (id) => this.deps.backend.resolve(id), this.expandExtra) : result;
      reply = { status: 200, body, headers: versionHeaders };
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      reply = { status: error.status, body: error.body(), headers: versionHeaders };
    }
    if (idempotencyKey) {
      reply.headers = { ...reply.headers, 'idempotency-key': idempotencyKey, 'original-request': requestId };
      if (IdempotencyCache.shouldStore(reply.status)) {
        this.deps.idempotency.store(apiKey, idempotencyKey, fingerprint, { status: reply.status, body: JSON.stringify(reply.body) });
      }
    }
    return reply;
  }

  private readonly expandExtra = (owner: Record<string, unknown>, field: string): unknown => {
    if (owner.object === 'checkout.session' && field === 'line_items' && typeof owner.id === 'string') {
      return this.deps.backend.lineItemsList(owner.id);
    }
    return undefined;
  };

  private authenticate(req: IncomingMessage): string {
    const authorization = header(req, 'authorization') ?? '';
    let key = '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization);
    const basic = /^Basic\s+(\S+)$/i.exec(authorization);
    if (bearer) key = bearer[1] ?? '';
    else if (basic) key = Buffer.from(basic[1] ?? '', 'base64').toString('utf8').split(':')[0] ?? '';
    if (!key) {
      throw new StripeError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    if (/^pk_/.test(key)) {
      throw new StripeError(401, 'invalid_request_error', 'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.');
    }
    if (!this.deps.secretKeys.has(key)) {
      throw new StripeError(401, 'invalid_request_error', `Invalid API Key provided: ${maskKey(key)}`);
    }
    return key;
  }

  // ---- the checkout page's own endpoints ---------------------------------------------------------

  private async checkoutPage(
    req: IncomingMessage,
    method: string,
    url: URL,
    sessionId: string,
    confirm: boolean,
    requestId: string,
  ): Promise<Reply> {
    if (method !== (confirm ? 'POST' : 'GET')) throw unrecognizedUrl(method, url.pathname);
    let secret: string;
    let key: string;
    let payload: Record<string, unknown> = {};
    if (confirm) {
      const text = await readBody(req, 64 * 1024);
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        payload = parsed as Record<string, unknown>;
      } catch {
        return pageError(400, 'invalid_request_error', 'The request body must be a JSON object.');
      }
      secret = typeof payload.client_secret === 'string' ? payload.client_secret : '';
      key = typeof payload.key === 'string' ? payload.key : '';
    } else {
      secret = url.searchParams.get('client_secret') ?? '';
      key = url.searchParams.get('key') ?? '';
    }
    const record = this.deps.backend.pageRecord(sessionId, secret);
    if (!record) {
      return pageError(401, 'invalid_request_error', 'No Checkout Session matches this client secret.');
    }
    const embedded = !record.session.ui_mode.startsWith('hosted');
    if (embedded && key !== this.deps.publishableKey) {
      return pageError(401, 'invalid_request_error', `Invalid API Key provided: ${maskKey(key || 'pk_test_')}`);
    }
    if (!confirm) return { status: 200, body: this.deps.backend.pageView(record) };
    const form = readCardForm(payload);
    if (typeof form === 'string') return pageError(400, 'invalid_request_error', form);
    const outcome = this.deps.backend.confirm(record, form, { requestId, idempotencyKey: null, apiVersion: API_VERSION });
    if (outcome.ok) {
      return { status: 200, body: { status: outcome.status, redirect_url: outcome.redirect_url, message: outcome.message } };
    }
    return { status: outcome.httpStatus, body: { error: outcome.error } };
  }
}

function readCardForm(payload: Record<string, unknown>): CardForm | string {
  const text = (name: string): string | undefined => {
    const value = payload[name];
    if (value === undefined || value === null) return '';
    return typeof value === 'string' && value.length <= 500 ? value : undefined;
  };
  const names = ['email', 'cardNumber', 'cardExpiry', 'cardCvc', 'billingName', 'billingCountry', 'billingPostalCode', 'phoneNumber'] as const;
  const values: Partial<Record<(typeof names)[number], string>> = {};
  for (const name of names) {
    const value = text(name);
    if (value === undefined) return `${name} must be a string of at most 500 characters.`;
    values[name] = value;
  }
  if (payload.saveInfo !== undefined && typeof payload.saveInfo !== 'boolean') return 'saveInfo must be a boolean.';
  return {
    email: values.email ?? '',
    cardNumber: values.cardNumber ?? '',
    cardExpiry: values.cardExpiry ?? '',
    cardCvc: values.cardCvc ?? '',
    billingName: values.billingName ?? '',
    billingCountry: values.billingCountry || 'US',
    billingPostalCode: values.billingPostalCode ?? '',
    saveInfo: payload.saveInfo === true,
    phoneNumber: values.phoneNumber ?? '',
  };
}

function pageError(status: number, type: string, message: string): Reply {
  return { status, body: { error: { type, message } } };
}

function asset(text: string, contentType: string, headers: Record<string, string> = {}): Reply {
  return { status: 200, body: text, headers: { 'content-type': contentType, 'cache-control': 'no-cache', ...headers } };
}

function send(res: ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { 'cache-control': 'no-cache, no-store', ...reply.headers };
  let payload: string;
  if (typeof reply.body === 'string' && headers['content-type']) {
    payload = reply.body;
  } else {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(reply.body, null, 2);
  }
  headers['x-content-type-options'] = 'nosniff';
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) {
        reject(new StripeError(413, 'invalid_request_error', `The request body is larger than ${limit} bytes.`));
        return;
      }
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

function parseParams(url: URL, body: string, contentType: string | undefined): FormObject {
  try {
    const query = parseQuery(url.search);
    if (body === '') return query;
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      throw new StripeError(
        400,
        'invalid_request_error',
        `Invalid request: the body must be application/x-www-form-urlencoded (got ${type || 'no content type'}); Stripe's v1 API does not take JSON.`,
      );
    }
    return Object.assign(query, parseForm(body));
  } catch (error) {
    if (error instanceof FormError) {
      throw new StripeError(400, 'invalid_request_error', error.message, error.param ? { param: error.param } : {});
    }
    throw error;
  }
}

/** Stable text for "same parameters": keys sorted at every level. */
function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonical(record[key])}`)
    .join(',')}}`;
}
