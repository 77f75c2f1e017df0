/** The concierge chat and missions: brief, plan, approve and the live event stream (with its tickets). */
import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context';
import { authOf, requireAuth, requireStreamAuth } from '../http/auth';
import { ApiError, validationFailed } from '../http/errors';
import { ok } from '../http/reply';
import { messageBody, uuidParams } from '../http/schemas';
import { MissionStream } from '../mission-stream';
import { conciergeConversation, listMessages, postMessage } from '../services/conversations';
import { inTransaction } from '../services/db';
import { eventOut, missionBody, missionObject, planBody, snapshotOut } from '../services/mission-shapes';
import { approveMission, composeMissionPlan, findMission, readMissionSnapshot } from '../services/missions';
import { TooManyTickets } from '../stream-tickets';

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
      const posted = await postMessage(ctx.pool, ctx.faults, authOf(request).accountId, request.params.id, content, ctx.variants);
      return reply.status(201).send(ok(posted));
    },
  );

  let rewordings = 0;
  api.get<IdParams>('/ai/missions/:id', { onRequest: auth, schema: { params: uuidParams } }, async (request) => {
    const mission = await findMission(ctx.pool, authOf(request).accountId, request.params.id);
    // Self-test fault: a read that asks the model again, so no two reads of the brief agree.
    if (ctx.faults('brief_reworded_on_read') && mission.brief?.intent) {
      rewordings += 1;
      mission.brief = { ...mission.brief, intent: `${mission.brief.intent} (reworded, take ${rewordings})` };
    }
    return ok(missionBody(mission, ctx.variants));
  });

  api.post<IdParams>('/ai/missions/:id/compose_plan', { onRequest: auth, schema: { params: uuidParams } }, async (request) => {
    const plan = await inTransaction(ctx.pool, async (client) => {
      const mission = await findMission(client, authOf(request).accountId, request.params.id, { lock: true });
      return composeMissionPlan(client, mission, ctx.faults, ctx.variants);
    });
    return ok({ plan: planBody(plan, request.params.id, ctx.variants) });
  });

  api.post<IdParams>('/ai/missions/:id/approve', { onRequest: auth, schema: { params: uuidParams } }, async (request, reply) => {
    const result = await approveMission(
      { pool: ctx.pool, queue: ctx.queue, faults: ctx.faults, variants: ctx.variants, workerHealthy: ctx.workerHealthy, now: ctx.now },
      authOf(request).accountId,
      request.params.id,
    );
    // Public Powernode answers 200 with the mission; its quota check comes later, in the worker.
    if (ctx.variants('paywall_in_chat')) return reply.status(200).send(ok({ mission: missionObject(result.mission, ctx.variants) }));
    return reply.status(202).send(ok({ mission_id: result.mission_id, status: result.status }));
  });

  // EventSource cannot send headers, and a bearer token in a URL lands in traces, logs and history:
  // the page trades its token for a ticket that opens this mission's stream once, within a minute.
  api.post<IdParams>('/ai/missions/:id/events/ticket', { onRequest: auth, schema: { params: uuidParams } }, async (request, reply) => {
    const caller = authOf(request);
    const mission = await findMission(ctx.pool, caller.accountId, request.params.id);
    let issued;
    try {
      issued = ctx.streamTickets.issue(caller, mission.id);
    } catch (error) {
      if (error instanceof TooManyTickets) {
        throw new ApiError(429, 'too_many_stream_tickets', 'Too many unused stream tickets: open the streams or wait a minute');
      }
      throw error;
    }
    return reply
      .status(201)
      .header('cache-control', 'no-store')
      .send(ok({ ticket: issued.ticket, expires_in: issued.expiresIn }));
  });

  api.get<IdParams>(
    '/ai/missions/:id/events',
    { onRequest: requireStreamAuth(ctx.pool, ctx.streamTickets), schema: { params: uuidParams } },
    async (request, reply) => {
      const accountId = authOf(request).accountId;
      // Ownership only: the state the page starts from is read after subscribing (MissionStream).
      const { id: missionId } = await findMission(ctx.pool, accountId, request.params.id);
      const stream = await MissionStream.open({
        accountId,
        async subscribe(listener, onGap) {
          try {
            return await ctx.missionEvents.subscribe(missionId, listener, onGap);
          } catch {
            throw new ApiError(503, 'events_unavailable', 'Live mission events are unavailable right now');
          }
        },
        readSnapshot: () => readMissionSnapshot(ctx.pool, accountId, missionId),
      });

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // The stream is the connection's last response: once it ends, nothing should linger.
        connection: 'close',
        'x-accel-buffering': 'no',
      });
      raw.write(': connected\n\n');

      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), ctx.heartbeatMs);
      const cleanup = () => {
        clearInterval(heartbeat);
        stream.close();
        ctx.openStreams.delete(cleanup);
        if (!raw.writableEnded) raw.end();
      };
      ctx.openStreams.add(cleanup);
      request.raw.once('close', cleanup);
      raw.once('error', cleanup);
      stream.start({
        snapshot: (snapshot) => raw.write(sse('snapshot', snapshotOut(snapshot, ctx.variants))),
        event: (event) => raw.write(sse(event.type, eventOut(event, ctx.variants))),
        // The state could not be re-read after the hub lost events: ending the stream makes the
        // page reconnect, and its next snapshot is whole again.
        broken: cleanup,
      });
    },
  );
}
