import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context';
import { authOf, requireAuth } from '../http/auth';
import { ok } from '../http/reply';
import { loginBody, registerBody } from '../http/schemas';
import { login, me, register, type BootstrapMode, type RegisterInput } from '../services/accounts';

export function registerAuthRoutes(api: FastifyInstance, ctx: RouteContext): void {
  api.post<{ Body: RegisterInput }>('/auth/register', { schema: { body: registerBody } }, async (request, reply) => {
    const mode: BootstrapMode = ctx.faults('bootstrap_skipped') ? 'skip' : ctx.faults('bootstrap_six_templates') ? 'six_templates' : 'run';
    const created = await register(ctx.pool, request.body, mode, (error) => ctx.log.bug(request, error));
    return reply.status(201).send(ok(created));
  });

  api.post<{ Body: { email: string; password: string } }>('/auth/login', { schema: { body: loginBody } }, async (request) => {
    return ok(await login(ctx.pool, request.body.email, request.body.password));
  });

  api.get('/auth/me', { onRequest: requireAuth(ctx.pool) }, async (request) => {
    return ok(await me(ctx.pool, authOf(request).userId));
  });
}
