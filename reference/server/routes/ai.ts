/** The concierge chat and missions: brief, plan, approve and the live event stream. */
import type { FastifyInstance } from 'fastify';
import type { MissionEvent } from '../../lib/events';
import type { RouteContext } from '../context';
import { authOf, requireAuth } from '../http/auth';
import { ApiError, validationFailed } from '../http/errors';
import { ok } from '../http/reply';
import { eventsQuery, messageBody, uuidParams } from '../http/schemas';
import { conciergeConversation, listMessages, postMessage } from '../services/conversations';
import { inTransaction } from '../services/db';
import { approveMission, composeMissionPlan, findMission, missionSnapshot, missionView } from '../services/missions';

type IdParams = { Params: { id: string } };

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerAiRoutes(api: FastifyInstance, ctx: RouteContext): void {
  const auth = requireAuth(ctx.pool);

  api.post('/ai/conversations/concierge', { onRequest: auth }, async (request) => {
    return ok({ conversation: await conciergeConversation(ctx.pool, authOf(request).accountId) });
  });

  api.get<IdParams>('/ai/conversations/:id/messages', { onRequest: auth, schema: { params: uuidParams } }, async (request) => {
    return ok({ messages: await listMessages(ctx.pool, authOf(request).accountId, request.params.id) });
  });

  api.post<IdParams & { Body: { message: { content: string } } }>(
    '/ai/conversations/:id/messages',
    { onRequest: auth, schema: { params: uuidParams, body: messageBody } },
    async (request, reply) => {
      const content = request.body.message.content.trim();
      if (!content) throw validationFailed({ 'message.content': 'Message content must not be empty.' });
      const posted = await postMessage(ctx.pool, ctx.faults, authOf(request).accountId, request.params.id, content);
      return reply.status(201).send(ok(posted));
    },
  );

  api.get<IdParams>('/ai/missions/:id', { onRequest: auth, schema: { params: uuidParams } }, async (request) => {
    return ok(missionView(await findMission(ctx.pool, authOf(request).accountId, request.params.id)));
  });

  api.post<IdParams>('/ai/missions/:id/compose_plan', { onRequest: auth, schema: { params: uuidParams } }, async (request) => {
    const plan = await inTransaction(ctx.pool, async (client) => {
      const mission = await findMission(client, authOf(request).accountId, request.params.id, { lock: true });
      return composeMissionPlan(client, mission, ctx.faults);
    });
    return ok({ plan });
  });

  api.post<IdParams>('/ai/missions/:id/approve', { onRequest: auth, schema: { params: uuidParams } }, async (request, reply) => {
    const result = await approveMission(
      { pool: ctx.pool, queue: ctx.queue, faults: ctx.faults, workerHealthy: ctx.workerHealthy, now: ctx.now },
      authOf(request).accountId,
      request.params.id,
    );
    return reply.status(202).send(ok(result));
  });

  api.get<IdParams & { Querystring: { access_token?: string } }>(
    '/ai/missions/:id/events',
    { onRequest: requireAuth(ctx.pool, { allowQueryToken: true }), schema: { params: uuidParams, querystring: eventsQuery } },
    async (request, reply) => {
      const accountId = authOf(request).accountId;
      const mission = await findMission(ctx.pool, accountId, request.params.id);

      // Subscribe before reading the snapshot so nothing published in between is lost;
      // events that arrive meanwhile are held and sent right after it.
      const held: MissionEvent[] = [];
      let live = false;
      const raw = reply.raw;
      const forward = (event: MissionEvent) => {
        if (event.account_id !== accountId) return;
        if (!live) held.push(event);
        else raw.write(sse(event.type, event));
      };
      let unsubscribe: () => void;
      try {
        unsubscribe = await ctx.missionEvents.subscribe(mission.id, forward);
      } catch {
        throw new ApiError(503, 'events_unavailable', 'Live mission events are unavailable right now');
      }
      let snapshot;
      try {
        snapshot = await missionSnapshot(ctx.pool, mission);
      } catch (error) {
        unsubscribe();
        throw error;
      }

      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The stream is the connection's last response: once it ends, nothing should linger.
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\n\n');
      raw.write(sse('snapshot', snapshot));
      live = true;
      for (const event of held.splice(0)) raw.write(sse(event.type, event));

      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), ctx.heartbeatMs);
      const cleanup = () => {
        clearInterval(heartbeat);
        unsubscribe();
        ctx.openStreams.delete(cleanup);
        if (!raw.writableEnded) raw.end();
      };
      ctx.openStreams.add(cleanup);
      request.raw.once('close', cleanup);
      raw.once('error', cleanup);
    },
  );
}
