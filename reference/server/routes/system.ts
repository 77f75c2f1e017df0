/** Health probes and the public configuration the web UI boots from. */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context';
import { ApiError, errorBody } from '../http/errors';
import { ok } from '../http/reply';
import { listPlans } from '../services/plans';

async function databaseAnswers(ctx: RouteContext): Promise<boolean> {
  try {
    await ctx.pool.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/**
 * `/up` sits outside /api (like Rails' health check): a bare body for load balancers. Its headers
 * say which checkout started this stack and where its backend log is, so a suite that finds a stack
 * already running can tell whether it is its own (a stack from another checkout writes its log
 * where this suite does not look).
 */
export function registerUp(app: FastifyInstance, ctx: RouteContext, identity: { checkout: string; backendLog: string | null }): void {
  app.get('/up', async (_request, reply) => {
    if (identity.checkout) void reply.header('x-m1-stack-checkout', identity.checkout);
    void reply.header('x-m1-backend-log', identity.backendLog ?? 'none');
    if (await databaseAnswers(ctx)) return { status: 'ok' };
    return reply.status(503).send({ status: 'unavailable', reason: 'database not answering' });
  });
}

export function registerSystemRoutes(api: FastifyInstance, ctx: RouteContext): void {
  api.get('/health', async (_request, reply) => {
    if (await databaseAnswers(ctx)) return ok({ status: 'ok' });
    return reply.status(503).send(errorBody(new ApiError(503, 'database_unavailable', 'The database is not answering'), ctx.errorStyle));
  });

  api.get('/config', async () => {
    const plans = await listPlans(ctx.pool);
    return ok({
      features: { business: true, system: true },
      plans: plans.map((p) => ({ slug: p.slug, name: p.name, price_cents: p.price_cents })),
      stripe: { publishable_key: ctx.config.stripePublishableKey, js_url: `${ctx.config.stripeApiBase}/v3` },
    });
  });
}
