/**
 * One LISTEN connection for the whole server, fanned out to every open event stream. The worker
 * NOTIFYs MISSION_EVENTS_CHANNEL after each state change; subscribers get the events of their
 * own mission only. A dropped connection is re-established while anyone is listening; whatever was
 * published while it was down is lost to LISTEN, so every subscriber is told (`onGap`) once it is
 * back and re-reads the state it follows.
 */
import pg from 'pg';
import { MISSION_EVENTS_CHANNEL, type MissionEvent } from '../lib/events';

export type MissionEventListener = (event: MissionEvent) => void;
/** Called after the LISTEN connection came back from a drop: events may have been missed. */
export type MissionEventGap = () => void;

type Subscriber = { onEvent: MissionEventListener; onGap: MissionEventGap | undefined };

const RECONNECT_DELAY_MS = 1_000;

function parseEvent(payload: string | undefined): MissionEvent | null {
  if (!payload) return null;
  try {
    const value = JSON.parse(payload) as Partial<MissionEvent>;
    if ((value.type === 'step' || value.type === 'mission') && typeof value.mission_id === 'string') return value as MissionEvent;
  } catch {
    // Not ours or malformed: another publisher on the channel must not break the stream.
  }
  return null;
}

export class MissionEventHub {
  private readonly listeners = new Map<string, Set<Subscriber>>();
  private client: pg.Client | null = null;
  /** Set when an established connection is lost; cleared once a new one has told the subscribers. */
  private missedWhileDown = false;
  private connecting: Promise<void> | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly connectionString: string) {}

  /** Resolves once LISTEN is active, so nothing published after this returns is missed. */
  async subscribe(missionId: string, listener: MissionEventListener, onGap?: MissionEventGap): Promise<() => void> {
    if (this.closed) throw new Error('mission event hub is closed');
    await this.ensureListening();
    let set = this.listeners.get(missionId);
    if (!set) {
      set = new Set();
      this.listeners.set(missionId, set);
    }
    const subscriber: Subscriber = { onEvent: listener, onGap };
    set.add(subscriber);
    return () => {
      const current = this.listeners.get(missionId);
      current?.delete(subscriber);
      if (current && current.size === 0) this.listeners.delete(missionId);
    };
  }

  subscriberCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  private ensureListening(): Promise<void> {
    if (this.client) return Promise.resolve();
    this.connecting ??= this.connect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.connectionString });
    client.on('notification', (message) => {
      if (message.channel !== MISSION_EVENTS_CHANNEL) return;
      const event = parseEvent(message.payload);
      if (!event) return;
      for (const subscriber of this.listeners.get(event.mission_id) ?? []) subscriber.onEvent(event);
    });
    const lost = () => {
      if (this.client !== client) return;
      this.client = null;
      this.missedWhileDown = true;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      await client.query(`LISTEN ${MISSION_EVENTS_CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.missedWhileDown) {
      this.missedWhileDown = false;
      for (const set of this.listeners.values()) for (const subscriber of set) subscriber.onGap?.();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer || this.listeners.size === 0) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.ensureListening().catch(() => this.scheduleReconnect());
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
