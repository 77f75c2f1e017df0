import { get, type ClientRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishMissionEvent, type MissionEvent } from '../lib/events';
import { MissionEventHub } from './mission-events';
import { body, discordMission, registerUser, startHarness, type Harness, type Identity } from './test-support';

type SseMessage = { event: string; data: unknown } | { comment: string };

/** A minimal EventSource over node:http (which drops the socket at once on close). */
class SseClient {
  private buffer = '';
  private readonly messages: SseMessage[] = [];
  private request: ClientRequest | null = null;
  status = 0;
  contentType = '';

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    return new Promise((resolve, reject) => {
      client.request = get(url, { headers }, (response) => {
        client.status = response.statusCode ?? 0;
        client.contentType = String(response.headers['content-type'] ?? '');
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => client.take(chunk));
        response.on('error', () => undefined);
        resolve(client);
      });
      client.request.on('error', (error) => (client.status === 0 ? reject(error) : undefined));
    });
  }

  private take(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (block.startsWith(':')) {
        this.messages.push({ comment: block.slice(1).trim() });
        continue;
      }
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
      this.messages.push({ event, data: JSON.parse(data) });
    }
  }

  async next(predicate: (m: SseMessage) => boolean = (m) => 'event' in m, timeoutMs = 3_000): Promise<SseMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(predicate);
      if (index >= 0) return this.messages.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no matching SSE message within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  events(): SseMessage[] {
    return this.messages.filter((m) => 'event' in m);
  }

  close(): void {
    this.request?.destroy();
  }
}

describe('mission events (SSE)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let hub: MissionEventHub;
  let base: string;

  beforeAll(async () => {
    h = await startHarness();
    hub = new MissionEventHub(h.db.url);
    app = await h.app({ missionEvents: hub, heartbeatMs: 100 });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await hub?.close();
  });

  function eventsUrl(who: Identity, missionId: string, viaQuery = true): string {
    return `${base}/api/v1/ai/missions/${missionId}/events${viaQuery ? `?access_token=${who.token}` : ''}`;
  }

  it('sends a snapshot, then this mission’s events, heartbeats, and cleans up on close', async () => {
    const who = await registerUser(app, 'sse');
    const missionId = await discordMission(app, who);
    const stream = await SseClient.open(eventsUrl(who, missionId));
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);

    expect(await stream.next()).toEqual({
      event: 'snapshot',
      data: {
        mission: { id: missionId, phase: 'plan_review', status: 'plan_ready', error_code: null },
        steps: [{ step_id: 'step-1', skill: 'provision_full_stack', position: 1, status: 'pending' }],
      },
    });

    const other: MissionEvent = { type: 'step', mission_id: '00000000-0000-4000-8000-000000000000', account_id: who.accountId, step_id: 'step-1', status: 'running' };
    const forged: MissionEvent = { type: 'step', mission_id: missionId, account_id: '00000000-0000-4000-8000-000000000001', step_id: 'step-1', status: 'failed' };
    const running: MissionEvent = { type: 'step', mission_id: missionId, account_id: who.accountId, step_id: 'step-1', status: 'running' };
    const done: MissionEvent = {
      type: 'mission',
      mission_id: missionId,
      account_id: who.accountId,
      phase: 'done',
      status: 'completed',
      error_code: null,
      error_message: null,
    };
    await publishMissionEvent(h.db.pool, other);
    await publishMissionEvent(h.db.pool, forged);
    await publishMissionEvent(h.db.pool, running);
    await publishMissionEvent(h.db.pool, done);
    expect(await stream.next()).toEqual({ event: 'step', data: running });
    expect(await stream.next()).toEqual({ event: 'mission', data: done });
    expect(await stream.next((m) => 'comment' in m && m.comment === 'heartbeat')).toEqual({ comment: 'heartbeat' });
    expect(stream.events()).toEqual([]);

    expect(hub.subscriberCount()).toBe(1);
    stream.close();
    const deadline = Date.now() + 2_000;
    while (hub.subscriberCount() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(hub.subscriberCount()).toBe(0);
  });

  it('fans one LISTEN connection out to several streams and accepts the Authorization header', async () => {
    const who = await registerUser(app, 'fanout');
    const missionId = await discordMission(app, who);
    const a = await SseClient.open(eventsUrl(who, missionId, false), { authorization: `Bearer ${who.token}` });
    const b = await SseClient.open(eventsUrl(who, missionId));
    await a.next();
    await b.next();
    const listeners = await h.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN mission_events%'`);
    expect(listeners.rows[0].n).toBe(1);
    const event: MissionEvent = { type: 'step', mission_id: missionId, account_id: who.accountId, step_id: 'step-1', status: 'completed' };
    await publishMissionEvent(h.db.pool, event);
    expect(await a.next()).toEqual({ event: 'step', data: event });
    expect(await b.next()).toEqual({ event: 'step', data: event });
    a.close();
    b.close();
  });

  it('shows the approved steps in the snapshot and pushes the approval itself', async () => {
    const who = await registerUser(app, 'approved');
    const missionId = await discordMission(app, who);
    const stream = await SseClient.open(eventsUrl(who, missionId));
    await stream.next();
    const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
    expect(approved.statusCode).toBe(202);
    expect(await stream.next()).toEqual({
      event: 'mission',
      data: { type: 'mission', mission_id: missionId, account_id: who.accountId, phase: 'execution', status: 'approved', error_code: null, error_message: null },
    });
    stream.close();
    const again = await SseClient.open(eventsUrl(who, missionId));
    const snapshot = (await again.next()) as { data: { mission: { status: string }; steps: unknown[] } };
    expect(snapshot.data.mission.status).toBe('approved');
    expect(snapshot.data.steps).toEqual([{ step_id: 'step-1', skill: 'provision_full_stack', position: 1, status: 'pending' }]);
    again.close();
  });

  it('answers 401 without a token and 404 for another account’s mission', async () => {
    const owner = await registerUser(app, 'sse-owner');
    const stranger = await registerUser(app, 'sse-stranger');
    const missionId = await discordMission(app, owner);
    const anonymous = await fetch(`${base}/api/v1/ai/missions/${missionId}/events`);
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const foreign = await fetch(eventsUrl(stranger, missionId));
    expect(foreign.status).toBe(404);
    await foreign.body?.cancel();
    const malformed = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/not-a-uuid/events?access_token=${owner.token}` });
    expect(malformed.statusCode).toBe(404);
    expect(body(malformed).error.code).toBe('not_found');
  });

  it('re-establishes the LISTEN connection after it drops', async () => {
    const who = await registerUser(app, 'reconnect');
    const missionId = await discordMission(app, who);
    const stream = await SseClient.open(eventsUrl(who, missionId));
    await stream.next();
    await h.db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN mission_events%'`);
    const event: MissionEvent = { type: 'step', mission_id: missionId, account_id: who.accountId, step_id: 'step-1', status: 'running' };
    const deadline = Date.now() + 5_000;
    for (;;) {
      const listening = await h.db.pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN mission_events%'`);
      if (listening.rows[0].n === 1) break;
      if (Date.now() > deadline) throw new Error('the hub did not reconnect');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await publishMissionEvent(h.db.pool, event);
    expect(await stream.next()).toEqual({ event: 'step', data: event });
    stream.close();
  });

  it('ends open streams when the app closes', async () => {
    const own = await h.app({ missionEvents: hub, heartbeatMs: 60_000 });
    const url = await own.listen({ host: '127.0.0.1', port: 0 });
    const who = await registerUser(own, 'shutdown');
    const missionId = await discordMission(own, who);
    const stream = await SseClient.open(`${url}/api/v1/ai/missions/${missionId}/events?access_token=${who.token}`);
    await stream.next();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    stream.close();
  });
});
