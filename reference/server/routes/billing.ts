/** Plans, Stripe Checkout, the Stripe webhook, live spend and the meter's rollup endpoint. */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type Stripe from 'stripe';
import type { RouteContext } from '../context';
import { authOf, requireAuth } from '../http/auth';
import { ApiError, validationFailed } from '../http/errors';
import { ok } from '../http/reply';
import { checkoutBody, checkoutSessionParams } from '../http/schemas';
import { confirmCheckoutSession, createCheckoutSession, handleStripeEvent, type CheckoutDeps } from '../services/checkout';
import { spendOptions } from '../services/faults';
import { chatRoute } from '../../lib/variants';
import { currentPlan } from '../services/plans';
import { accountSpend, rollUpUsage } from '../services/usage';

function checkoutDeps(ctx: RouteContext): CheckoutDeps {
  return { pool: ctx.pool, stripe: ctx.stripe, baseUrl: ctx.config.baseUrl, publishableKey: ctx.config.stripePublishableKey };
}

/** Constant-time comparison of equal-length digests, so the token's length leaks nothing either. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearer(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  return typeof header === 'string' ? (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null) : null;
}

type StripeEventLike = { id: string; type: string; data?: { object?: unknown } };

function parseEventBlindly(raw: Buffer): StripeEventLike {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ApiError(400, 'invalid_json', 'The request body is not valid JSON');
  }
  return value as StripeEventLike;
}

export function registerBillingRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const auth = requireAuth(ctx.pool);

  api.post<{ Body: { plan_slug: string } }>(
    '/billing/checkout_sessions',
    { onRequest: auth, schema: { body: checkoutBody } },
    async (request, reply) => {
      const caller = authOf(request);
      const session = await createCheckoutSession(checkoutDeps(ctx), caller, request.body.plan_slug.trim());
      return reply.status(201).send(ok(session));
    },
  );

  api.get<{ Params: { id: string } }>(
    '/billing/checkout_sessions/:id',
    { onRequest: auth, schema: { params: checkoutSessionParams } },
    async (request) => {
      const result = await confirmCheckoutSession(checkoutDeps(ctx), authOf(request).accountId, request.params.id);
      return ok({ ...result, redirect_to: ctx.faults('checkout_redirect_wrong') ? '/settings/billing' : chatRoute(ctx.variants) });
    },
  );

  api.get('/billing/subscription', { onRequest: auth }, async (request) => {
    const { plan, status } = await currentPlan(ctx.pool, authOf(request).accountId);
    return ok({ plan_slug: plan.slug, plan_name: plan.name, status, limits: plan.limits });
  });

  api.get('/billing/spend', { onRequest: auth }, async (request) => {
    if (ctx.faults('billing_page_500')) throw new Error('billing_page_500 fault: the spend endpoint fails');
    const spend = await accountSpend(ctx.pool, authOf(request).accountId, ctx.now(), spendOptions(ctx.faults, ctx.variants));
    return ok({ ...spend, source: 'usage_records' });
  });

  api.post<{ Body: unknown }>('/internal/billing/provisioning/meter/rollup', async (request) => {
    const token = bearer(request);
    // Self-test fault: the backend was given a rotated token its callers were not.
    const expected = ctx.faults('rollup_token_mismatch') ? `${ctx.config.internalApiToken}-rotated` : ctx.config.internalApiToken;
    if (!token || !sameSecret(token, expected)) {
      throw new ApiError(401, 'unauthorized', 'Missing or invalid internal API token');
    }
    const body = request.body;
    let now = ctx.now();
    if (body !== undefined && body !== null) {
      if (typeof body !== 'object' || Array.isArray(body)) throw validationFailed({ body: 'The request body must be a JSON object.' });
      const given = (body as { now?: unknown }).now;
      if (given !== undefined) {
        const parsed = typeof given === 'string' && given.length <= 64 ? new Date(given) : new Date(NaN);
        if (Number.isNaN(parsed.getTime())) throw validationFailed({ now: 'Now must be an ISO 8601 date-time.' });
        now = parsed;
      }
    }
    return ok(await rollUpUsage(ctx.pool, now));
  });

  // The webhook needs the exact bytes Stripe signed, so its scope parses every body as a raw Buffer.
  api.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    raw.post<{ Body: Buffer | undefined }>('/billing/stripe/webhook', async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      let event: StripeEventLike;
      if (ctx.faults('webhook_signature_unverified')) {
        event = parseEventBlindly(body);
      } else {
        const signature = request.headers['stripe-signature'];
        if (typeof signature !== 'string' || signature.length === 0) {
          throw new ApiError(400, 'invalid_signature', 'Missing Stripe-Signature header');
        }
        try {
          event = ctx.stripe.webhooks.constructEvent(body, signature, ctx.config.stripeWebhookSecret) as Stripe.Event;
        } catch {
          throw new ApiError(400, 'invalid_signature', 'The Stripe-Signature does not match this payload');
        }
      }
      if (typeof event !== 'object' || event === null || typeof event.id !== 'string' || typeof event.type !== 'string' || event.id.length > 255) {
        throw new ApiError(400, 'invalid_event', 'The body is not a Stripe event (id and type are required)');
      }
      return ok(await handleStripeEvent(checkoutDeps(ctx), event));
    });
  });
}
