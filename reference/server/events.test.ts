import { get, type ClientRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishMissionEvent, type MissionEvent } from '../lib/events';
import { inTransaction } from './services/db';
import { MissionEventHub, type MissionEventGap, type MissionEventListener } from './mission-events';
import { StreamTickets } from './stream-tickets';
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

  async function ticketFor(who: Identity, missionId: string, on = app): Promise<string> {
    const response = await on.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket`, headers: who.auth });
    if (response.statusCode !== 201) throw new Error(`ticket: ${response.statusCode} ${response.body}`);
    return body(response).data.ticket as string;
  }

  function eventsUrl(missionId: string, ticket?: string, origin = base): string {
    return `${origin}/api/v1/ai/missions/${missionId}/events${ticket === undefined ? '' : `?ticket=${encodeURIComponent(ticket)}`}`;
  }

  async function openWithTicket(who: Identity, missionId: string): Promise<SseClient> {
    return SseClient.open(eventsUrl(missionId, await ticketFor(who, missionId)));
  }

  async function expectRejected(url: string, code: string, headers: Record<string, string> = {}): Promise<void> {
    const response = await fetch(url, { headers });
    expect(response.status, url).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const payload = (await response.json()) as { success: boolean; error: { code: string; message: string } };
    expect(payload).toEqual({ success: false, error: { code, message: expect.any(String) } });
  }

  it('sends a snapshot, then this mission’s events, heartbeats, and cleans up on close', async () => {
    const who = await registerUser(app, 'sse');
    const missionId = await discordMission(app, who);
    const stream = await openWithTicket(who, missionId);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);

    expect(await stream.next()).toEqual({
      event: 'snapshot',
      data: {
        mission: { id: missionId, phase: 'plan_review', status: 'plan_ready', error_code: null, error_message: null },
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
    const a = await SseClient.open(eventsUrl(missionId), { authorization: `Bearer ${who.token}` });
    const b = await openWithTicket(who, missionId);
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
    const stream = await openWithTicket(who, missionId);
    await stream.next();
    const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
    expect(approved.statusCode).toBe(202);
    expect(await stream.next()).toEqual({
      event: 'mission',
      data: { type: 'mission', mission_id: missionId, account_id: who.accountId, phase: 'execution', status: 'approved', error_code: null, error_message: null },
    });
    stream.close();
    const again = await openWithTicket(who, missionId);
    const snapshot = (await again.next()) as { data: { mission: { status: string }; steps: unknown[] } };
    expect(snapshot.data.mission.status).toBe('approved');
    expect(snapshot.data.steps).toEqual([{ step_id: 'step-1', skill: 'provision_full_stack', position: 1, status: 'pending' }]);
    again.close();
  });

  it('answers 401 without credentials and 404 for another account’s mission', async () => {
    const owner = await registerUser(app, 'sse-owner');
    const stranger = await registerUser(app, 'sse-stranger');
    const missionId = await discordMission(app, owner);
    await expectRejected(eventsUrl(missionId), 'unauthorized');
    const foreign = await fetch(eventsUrl(missionId), { headers: stranger.auth });
    expect(foreign.status).toBe(404);
    await foreign.body?.cancel();
    const foreignTicket = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket`, headers: stranger.auth });
    expect(foreignTicket.statusCode).toBe(404);
    expect(body(foreignTicket).error.code).toBe('not_found');
    const anonymousTicket = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket` });
    expect(anonymousTicket.statusCode).toBe(401);
    const malformed = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/not-a-uuid/events`, headers: owner.auth });
    expect(malformed.statusCode).toBe(404);
    expect(body(malformed).error.code).toBe('not_found');
  });

  it('re-establishes the LISTEN connection after it drops, and re-sends the state it may have missed', async () => {
    const who = await registerUser(app, 'reconnect');
    const missionId = await discordMission(app, who);
    const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
    expect(approved.statusCode).toBe(202);
    const stream = await openWithTicket(who, missionId);
    await stream.next((m) => 'event' in m && m.event === 'snapshot');
    await h.db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query ILIKE 'LISTEN mission_events%'`);
    // Committed while the hub may be deaf; its NOTIFY may never arrive, the re-sent snapshot must.
    await h.db.pool.query(`UPDATE ai_mission_steps SET status = 'running', updated_at = now() WHERE mission_id = $1`, [missionId]);
    const resent = await stream.next(
      (m) => 'event' in m && m.event === 'snapshot' && (m.data as { steps: { status: string }[] }).steps[0]?.status === 'running',
      5_000,
    );
    expect(resent).toMatchObject({ data: { mission: { id: missionId, status: 'approved' } } });
    const event: MissionEvent = { type: 'step', mission_id: missionId, account_id: who.accountId, step_id: 'step-1', status: 'completed' };
    await publishMissionEvent(h.db.pool, event);
    expect(await stream.next((m) => 'event' in m && m.event === 'step' && (m.data as MissionEvent).type === 'step' && (m.data as { status: string }).status === 'completed')).toEqual({
      event: 'step',
      data: event,
    });
    stream.close();
  });

  it('ends open streams when the app closes', async () => {
    const own = await h.app({ missionEvents: hub, heartbeatMs: 60_000 });
    const url = await own.listen({ host: '127.0.0.1', port: 0 });
    const who = await registerUser(own, 'shutdown');
    const missionId = await discordMission(own, who);
    const stream = await SseClient.open(eventsUrl(missionId, await ticketFor(who, missionId, own), url));
    await stream.next();
    const started = Date.now();
    await own.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    stream.close();
  });

  describe('stream tickets', () => {
    it('issues a random, short-lived ticket that opens the stream once', async () => {
      const who = await registerUser(app, 'ticket');
      const missionId = await discordMission(app, who);
      const response = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket`, headers: who.auth });
      expect(response.statusCode).toBe(201);
      expect(response.headers['cache-control']).toBe('no-store');
      const { ticket, expires_in } = body(response).data as { ticket: string; expires_in: number };
      expect(ticket).toMatch(/^m1st_[A-Za-z0-9_-]{43}$/);
      expect(ticket).not.toContain(who.token);
      expect(expires_in).toBe(60);
      expect(await ticketFor(who, missionId)).not.toBe(ticket);

      const stream = await SseClient.open(eventsUrl(missionId, ticket));
      expect(stream.status).toBe(200);
      expect(await stream.next()).toMatchObject({ event: 'snapshot', data: { mission: { id: missionId } } });
      stream.close();
      await expectRejected(eventsUrl(missionId, ticket), 'invalid_stream_ticket');
    });

    it('answers 401 to a missing, empty, unknown or malformed ticket', async () => {
      const who = await registerUser(app, 'ticket-bad');
      const missionId = await discordMission(app, who);
      await expectRejected(eventsUrl(missionId), 'unauthorized');
      for (const ticket of ['', 'm1st_unknown', `m1st_${'A'.repeat(43)}`, 'x'.repeat(5_000), '\u00ff\u{1f916}']) {
        await expectRejected(eventsUrl(missionId, ticket), 'invalid_stream_ticket');
      }
      const good = await ticketFor(who, missionId);
      await expectRejected(`${eventsUrl(missionId, good)}&ticket=${good}`, 'invalid_stream_ticket');
      // A bad ticket is not rescued by a good header: the caller meant the ticket.
      await expectRejected(eventsUrl(missionId, 'm1st_unknown'), 'invalid_stream_ticket', who.auth);
    });

    it('binds a ticket to its mission: not good for another mission, nor another account’s', async () => {
      const owner = await registerUser(app, 'ticket-owner');
      const stranger = await registerUser(app, 'ticket-stranger');
      const ownersMission = await discordMission(app, owner);
      const strangersMission = await discordMission(app, stranger);
      await expectRejected(eventsUrl(ownersMission, await ticketFor(stranger, strangersMission)), 'invalid_stream_ticket');
      await expectRejected(eventsUrl(strangersMission, await ticketFor(owner, ownersMission)), 'invalid_stream_ticket');
      // Presenting it on the wrong mission burned it.
      const ticket = await ticketFor(owner, ownersMission);
      await expectRejected(eventsUrl(strangersMission, ticket), 'invalid_stream_ticket');
      await expectRejected(eventsUrl(ownersMission, ticket), 'invalid_stream_ticket');
    });

    it('expires a ticket after its minute', async () => {
      let now = Date.parse('2026-01-01T00:00:00Z');
      const tickets = new StreamTickets({ now: () => now });
      const own = await h.app({ missionEvents: hub, streamTickets: tickets });
      const origin = await own.listen({ host: '127.0.0.1', port: 0 });
      const who = await registerUser(own, 'ticket-expiry');
      const missionId = await discordMission(own, who);
      const early = await ticketFor(who, missionId, own);
      const late = await ticketFor(who, missionId, own);
      now += 59_000;
      const stream = await SseClient.open(eventsUrl(missionId, early, origin));
      expect(stream.status).toBe(200);
      stream.close();
      now += 1_000;
      await expectRejected(eventsUrl(missionId, late, origin), 'invalid_stream_ticket');
      expect(tickets.size()).toBe(0);
      await own.close();
    });

    it('no longer accepts the access token in the query string', async () => {
      const who = await registerUser(app, 'ticket-query');
      const missionId = await discordMission(app, who);
      await expectRejected(`${eventsUrl(missionId)}?access_token=${who.token}`, 'unauthorized');
    });
  });
});

/**
 * A hub that runs `beforeSubscribe` (once) when the route subscribes, before the subscription
 * exists: the exact window between the route's read of the mission and its subscription.
 */
class WindowedHub extends MissionEventHub {
  beforeSubscribe: (() => Promise<void>) | null = null;

  override async subscribe(missionId: string, listener: MissionEventListener, onGap?: MissionEventGap): Promise<() => void> {
    const hook = this.beforeSubscribe;
    this.beforeSubscribe = null;
    if (hook) await hook();
    return super.subscribe(missionId, listener, onGap);
  }

  /** Resolves once the hub has dispatched an event matching `match` (to every listener it had). */
  async heard(missionId: string, match: (event: MissionEvent) => boolean, publish: () => Promise<void>): Promise<void> {
    let resolve!: () => void;
    const seen = new Promise<void>((r) => (resolve = r));
    const stop = await super.subscribe(missionId, (event) => {
      if (match(event)) resolve();
    });
    await publish();
    await seen;
    stop();
  }
}

describe('a mission that fails while the page connects (the missed final event)', () => {
  let h: Harness;
  let hub: WindowedHub;
  let app: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    h = await startHarness();
    hub = new WindowedHub(h.db.url);
    app = await h.app({ missionEvents: hub });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
    await hub?.close();
  });

  it('still shows the failure when it commits between the route’s mission read and its subscription', async () => {
    const who = await registerUser(app, 'race');
    const missionId = await discordMission(app, who);
    const approved = await app.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/approve`, headers: who.auth });
    expect(approved.statusCode).toBe(202);
    const message = 'Vultr rejected the API key';
    const failed: MissionEvent = {
      type: 'mission',
      mission_id: missionId,
      account_id: who.accountId,
      phase: 'execution',
      status: 'failed',
      error_code: 'credentials_invalid',
      error_message: message,
    };

    // What the worker's failMission does, landing in the window; the hook returns only once the
    // hub has dispatched the NOTIFY, so it is gone for good before the route subscribes.
    hub.beforeSubscribe = () =>
      hub.heard(
        missionId,
        (event) => event.type === 'mission' && event.status === 'failed',
        () =>
          inTransaction(h.db.pool, async (client) => {
            await client.query(`UPDATE ai_mission_steps SET status = 'failed', finished_at = now(), updated_at = now() WHERE mission_id = $1`, [missionId]);
            await client.query(`UPDATE ai_missions SET status = 'failed', error_code = $2, error_message = $3, updated_at = now() WHERE id = $1`, [
              missionId,
              failed.error_code,
              message,
            ]);
            await publishMissionEvent(client, failed);
          }),
      );

    const stream = await SseClient.open(`${base}/api/v1/ai/missions/${missionId}/events`, who.auth);
    expect(stream.status).toBe(200);
    expect(hub.beforeSubscribe).toBeNull();
    // The page finishes on a terminal snapshot as on a terminal event; before the fix the snapshot
    // still said `approved`, and the event had gone by: the pill waited forever.
    expect(await stream.next()).toEqual({
      event: 'snapshot',
      data: {
        mission: { id: missionId, phase: 'execution', status: 'failed', error_code: 'credentials_invalid', error_message: message },
        steps: [{ step_id: 'step-1', skill: 'provision_full_stack', position: 1, status: 'failed' }],
      },
    });
    stream.close();
  });
});
