/**
 * The /v1 pipeline around every endpoint, as Stripe's API behaves: a secret key (Bearer or Basic),
 * an optional `Stripe-Version`, form-encoded parameters (query and body), idempotency keys on POST,
 * and `expand[]` on the answer. The endpoints themselves are the route table's (server.ts).
 */
import type { IncomingMessage } from 'node:http';
import { header, matchRoute, readBody, type Reply } from '../http-kit';
import { maskKey, StripeError, unrecognizedUrl } from './errors';
import type { RequestContext } from './events';
import { FormError, parseForm, parseQuery, type FormObject } from './form';
import { IdempotencyCache } from './idempotency';
import { expand, type ExtraExpander, type Resolver } from './lists';
import { API_VERSION } from './objects';
import { optionalStringList } from './params';

const MAX_BODY_BYTES = 1024 * 1024;

/** An endpoint: the path's captured ids, the request's parameters, and who asked. */
export type ApiHandler = (ids: string[], params: FormObject, ctx: RequestContext) => unknown;

export interface ApiRoute {
  method: string;
  pattern: RegExp;
  run: ApiHandler;
}

export interface ApiDeps {
  routes: readonly ApiRoute[];
  secretKeys: ReadonlySet<string>;
  resolve: Resolver;
  expandExtra: ExtraExpander;
}

export class StripeApi {
  private readonly idempotency = new IdempotencyCache();

  constructor(private readonly deps: ApiDeps) {}

  async handle(req: IncomingMessage, method: string, url: URL, requestId: string): Promise<Reply> {
    const apiKey = this.authenticate(req);
    const versionHeader = header(req, 'stripe-version');
    if (versionHeader !== undefined && !/^\d{4}-\d{2}-\d{2}(\.[a-z]+)?$/.test(versionHeader)) {
      throw new StripeError(400, 'invalid_request_error', `Invalid Stripe API version: ${versionHeader}`, { code: 'api_version_invalid' });
    }
    const apiVersion = versionHeader ?? API_VERSION;
    const body = await readBody(req, MAX_BODY_BYTES);
    const params = parseParams(url, body, header(req, 'content-type'));
    const found = matchRoute(this.deps.routes, method, url.pathname);
    if (!found.route) throw unrecognizedUrl(method, url.pathname);
    const idempotencyKey = method === 'POST' ? (header(req, 'idempotency-key') ?? null) : null;
    const versionHeaders = { 'stripe-version': apiVersion };
    const fingerprint = idempotencyKey ? `${method} ${url.pathname} ${canonical(params)}` : '';
    if (idempotencyKey) {
      const stored = this.idempotency.lookup(apiKey, idempotencyKey, fingerprint);
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
      const result = found.route.run(found.params.map((id) => decodeURIComponent(id)), params, ctx);
      const paths = optionalStringList(params, 'expand') ?? [];
      const answer = paths.length > 0 ? expand(result, paths, this.deps.resolve, this.deps.expandExtra) : result;
      reply = { status: 200, body: answer, headers: versionHeaders };
    } catch (error) {
      if (!(error instanceof StripeError)) throw error;
      reply = { status: error.status, body: error.body(), headers: versionHeaders };
    }
    if (idempotencyKey) {
      reply.headers = { ...reply.headers, 'idempotency-key': idempotencyKey, 'original-request': requestId };
      if (IdempotencyCache.shouldStore(reply.status)) {
        this.idempotency.store(apiKey, idempotencyKey, fingerprint, { status: reply.status, body: JSON.stringify(reply.body) });
      }
    }
    return reply;
  }

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
