/**
 * The Powernode REST API (CONTRACT 4) for one identity, over undici. Every answer is
 * unwrapped from the `{success, data | error}` envelope and parsed with zod; callers get either the
 * typed data or the error code and status, never a stack trace and never the token. How errors and
 * missions read is the target's dialect (helpers/dialect/: ERROR_ENVELOPE, MISSION_API).
 */
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { describeCall, httpJson, type HttpCall } from './http';
import { ERROR_ENVELOPES, type ErrorEnvelope } from '../dialect/errors';
import { MISSION_APIS, type MissionApi } from '../dialect/mission-api';
import {
  appConfigSchema,
  checkoutSessionResponseSchema,
  conversationResponseSchema,
  loginResponseSchema,
  postMessageResponseSchema,
  providerCredentialResponseSchema,
  registerResponseSchema,
  spendResponseSchema,
  successEnvelopeSchema,
  type ApiErrorBody,
  type Mission,
} from '../schemas';

export const API_PREFIX = '/api/v1';

/**
 * API paths, relative to API_PREFIX. There is deliberately no approve call: the suite approves only
 * through the UI, where the run's cloud-safety guard runs first; page objects spot the page's own
 * approve call with APPROVE_PATH.
 */
export const API_PATHS = {
  register: '/auth/register',
  login: '/auth/login',
  config: '/config',
  checkoutSessions: '/billing/checkout_sessions',
  stripeWebhook: '/billing/stripe/webhook',
  spend: '/billing/spend',
  concierge: '/ai/conversations/concierge',
  messages: (conversationId: string) => `/ai/conversations/${encodeURIComponent(conversationId)}/messages`,
  mission: (missionId: string) => `/ai/missions/${encodeURIComponent(missionId)}`,
  providerCredentials: '/system/provider_credentials',
} as const;

/** Matches the path of `POST /api/v1/ai/missions/:id/approve`; the first group is the mission id. */
export const APPROVE_PATH = new RegExp(`^${API_PREFIX}/ai/missions/([^/]+)/approve/?$`);

export type ApiResult<T> = ({ ok: true; status: number; data: T } | { ok: false; status: number; error: ApiErrorBody }) & {
  /** Method and path, for messages (never the host's query string or headers). */
  call?: string;
};

export class ApiCallError extends Error {
  constructor(
    readonly call: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`${call} answered ${status} ${code}: ${detail}`);
    this.name = 'ApiCallError';
  }
}

/** The data of a successful answer, or an error naming the call, status and error code. */
export function unwrap<T>(result: ApiResult<T>): T {
  if (result.ok) return result.data;
  throw new ApiCallError(result.call ?? 'API call', result.status, result.error.code, result.error.message);
}

/**
 * Reads an answer: a 2xx must carry the success envelope and data matching `schema`; anything
 * else must carry the error envelope (`errors` reads it). A body that is neither is reported as
 * `unexpected_body`.
 */
export function readEnvelope<S extends z.ZodType>(
  status: number,
  json: unknown,
  schema: S,
  errors: ErrorEnvelope = ERROR_ENVELOPES.nested,
): ApiResult<z.output<S>> {
  if (status >= 200 && status < 300) {
    const envelope = successEnvelopeSchema.safeParse(json);
    if (envelope.success) {
      const data = schema.safeParse(envelope.data.data);
      if (data.success) return { ok: true, status, data: data.data };
      return { ok: false, status, error: { code: 'unexpected_body', message: data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') } };
    }
  }
  const error = errors.read(json);
  if (error) return { ok: false, status, error };
  return { ok: false, status, error: { code: 'unexpected_body', message: `no ${status < 300 ? 'success' : 'error'} envelope in the answer` } };
}

/** How this target's API reads: its error envelope and its mission API. */
export type ApiDialect = { errors: ErrorEnvelope; missions: MissionApi };

const RUNBOOK_API: ApiDialect = { errors: ERROR_ENVELOPES.nested, missions: MISSION_APIS.runbook };

export class ApiClient {
  private readonly apiBase: string;

  constructor(
    private readonly baseUrl: string,
    private readonly dispatcher: Dispatcher,
    private readonly token?: string,
    private readonly dialect: ApiDialect = RUNBOOK_API,
  ) {
    this.apiBase = `${baseUrl.replace(/\/+$/, '')}${API_PREFIX}`;
  }

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, this.dispatcher, token, this.dialect);
  }

  async call<S extends z.ZodType>(
    method: Dispatcher.HttpMethod,
    path: string,
    schema: S,
    body?: unknown,
    extra: Pick<HttpCall, 'headers' | 'rawJson'> = {},
  ): Promise<ApiResult<z.output<S>>> {
    const headers: HttpCall['headers'] = { ...(this.token ? { authorization: `Bearer ${this.token}` } : {}), ...extra.headers };
    const url = `${this.apiBase}${path}`;
    const response = await httpJson(this.dispatcher, url, { method, headers, body, rawJson: extra.rawJson });
    return { ...readEnvelope(response.status, response.json, schema, this.dialect.errors), call: describeCall(method, url) };
  }

  register(body: { email: string; password: string; name: string; account_name?: string }) {
    return this.call('POST', API_PATHS.register, registerResponseSchema, body);
  }

  login(body: { email: string; password: string }) {
    return this.call('POST', API_PATHS.login, loginResponseSchema, body);
  }

  appConfig() {
    return this.call('GET', API_PATHS.config, appConfigSchema);
  }

  createCheckoutSession(planSlug: string) {
    return this.call('POST', API_PATHS.checkoutSessions, checkoutSessionResponseSchema, { plan_slug: planSlug });
  }

  /** Delivers a Stripe event to the stack's webhook exactly as given (payload bytes and signature header). */
  deliverStripeEvent(payload: string, signature: string) {
    return this.call('POST', API_PATHS.stripeWebhook, z.unknown(), undefined, { headers: { 'stripe-signature': signature }, rawJson: payload });
  }

  spend() {
    return this.call('GET', API_PATHS.spend, spendResponseSchema);
  }

  conciergeConversation() {
    return this.call('POST', API_PATHS.concierge, conversationResponseSchema);
  }

  postMessage(conversationId: string, content: string) {
    return this.call('POST', API_PATHS.messages(conversationId), postMessageResponseSchema, { message: { content } });
  }

  /** The mission with its brief and plan, however the target's API spells them (MISSION_API). */
  mission(missionId: string): Promise<ApiResult<Mission>> {
    return this.dialect.missions.read((method, path, schema) => this.call(method, path, schema), missionId);
  }

  /** Sends a brief to the account's concierge conversation and returns the mission it started. */
  async startMission(prompt: string): Promise<string> {
    const { conversation } = unwrap(await this.conciergeConversation());
    const reply = unwrap(await this.postMessage(conversation.id, prompt));
    const metadata = reply.assistant_message.metadata;
    const missionId = metadata?.mission_id ?? metadata?.plan_ready?.mission_id;
    if (!missionId) throw new Error('the assistant reply carries no mission_id: the brief was not captured');
    return missionId;
  }

  registerProviderCredential(apiKey: string) {
    return this.call('POST', API_PATHS.providerCredentials, providerCredentialResponseSchema, { provider_type: 'pro_cloud', api_key: apiKey });
  }
}
