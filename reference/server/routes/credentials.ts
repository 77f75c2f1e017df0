import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context';
import { authOf, requireAuth } from '../http/auth';
import { ok } from '../http/reply';
import { credentialBody, credentialPatchBody, uuidParams } from '../http/schemas';
import { createCredential, listCredentials, setCredentialActive } from '../services/credentials';

export function registerCredentialRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const auth = requireAuth(ctx.pool);

  api.get('/system/provider_credentials', { onRequest: auth }, async (request) => {
    return ok({ credentials: await listCredentials(ctx.pool, authOf(request).accountId) });
  });

  api.post<{ Body: { provider_type: string; api_key: string } }>(
    '/system/provider_credentials',
    { onRequest: auth, schema: { body: credentialBody } },
    async (request, reply) => {
      const credential = await createCredential(ctx.pool, ctx.config.credentialsEncryptionKey, authOf(request).accountId, request.body);
      return reply.status(201).send(ok({ credential }));
    },
  );

  api.patch<{ Params: { id: string }; Body: { is_active: boolean } }>(
    '/system/provider_credentials/:id',
    { onRequest: auth, schema: { params: uuidParams, body: credentialPatchBody } },
    async (request) => {
      const credential = await setCredentialActive(ctx.pool, authOf(request).accountId, request.params.id, request.body.is_active);
      return ok({ credential });
    },
  );
}
