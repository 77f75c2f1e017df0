/**
 * The ordering behind one open event stream: subscribe first, then read the snapshot, then send
 * the snapshot followed by whatever the snapshot may not cover, then go live.
 *
 * Why this order: the worker commits a state change and then NOTIFYs it. A snapshot read before the
 * subscription can miss a change that commits between the two, and so can the subscription: the
 * page then waits forever for a transition that already happened (a mission's final `failed`).
 *
 * Events carry no sequence number, so duplicates are told apart by time: an event is only delivered
 * once its change has committed, so every event received before a snapshot read starts is already
 * in that read and is dropped. Events received during the read may or may not be in it; rather than
 * replay them over a snapshot that might be newer (a step flickering back from completed to
 * running), the snapshot is read again, up to MAX_READS times, after which the few held events are
 * sent after the snapshot: each carries its entity's full state and they arrive in commit order, so
 * the last one wins either way. A dropped LISTEN connection (the hub's `onGap`) triggers the same
 * re-read, so a reconnect of the hub loses nothing either.
 */
import type { MissionEvent } from '../lib/events';
import type { MissionEventGap, MissionEventListener } from './mission-events';
import type { MissionSnapshot } from './services/missions';

export const MAX_READS = 3;

export type MissionStreamSink = {
  snapshot(snapshot: MissionSnapshot): void;
  event(event: MissionEvent): void;
  /** A re-read after a gap failed: the stream can no longer vouch for its state and should end. */
  broken(error: unknown): void;
};

export type MissionStreamSource = {
  /** Only this account's events are forwarded, whoever publishes on the mission's id. */
  accountId: string;
  subscribe(listener: MissionEventListener, onGap: MissionEventGap): Promise<() => void>;
  readSnapshot(): Promise<MissionSnapshot>;
};

export class MissionStream {
  private held: MissionEvent[] = [];
  private pendingSnapshot: MissionSnapshot | null = null;
  private sink: MissionStreamSink | null = null;
  private syncing = false;
  private gapDuringRead = false;
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  private constructor(private readonly source: MissionStreamSource) {}

  /** Subscribes and reads the first snapshot; throws (having unsubscribed) if either fails. */
  static async open(source: MissionStreamSource): Promise<MissionStream> {
    const stream = new MissionStream(source);
    stream.unsubscribe = await source.subscribe(
      (event) => stream.receive(event),
      () => stream.gap(),
    );
    try {
      await stream.sync();
    } catch (error) {
      stream.close();
      throw error;
    }
    return stream;
  }

  /** Sends the snapshot and the events held so far, then every event as it comes. */
  start(sink: MissionStreamSink): void {
    this.sink = sink;
    this.flush();
  }

  close(): void {
    this.closed = true;
    this.held = [];
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private receive(event: MissionEvent): void {
    if (this.closed || event.account_id !== this.source.accountId) return;
    if (this.sink && !this.syncing) this.sink.event(event);
    else this.held.push(event);
  }

  private gap(): void {
    if (this.closed) return;
    if (this.syncing) {
      this.gapDuringRead = true;
      return;
    }
    this.sync().then(
      () => this.flush(),
      (error: unknown) => {
        if (!this.closed) this.sink?.broken(error);
      },
    );
  }

  private async sync(): Promise<void> {
    // Set before the first read is even requested, so nothing slips past between call and await.
    this.syncing = true;
    try {
      for (let read = 1; ; read += 1) {
        // Whatever arrived before this read starts is in it.
        this.held = [];
        this.gapDuringRead = false;
        const snapshot = await this.source.readSnapshot();
        if (this.closed) return;
        this.pendingSnapshot = snapshot;
        // A gap while reading: the read may have started before the missed changes committed.
        if (this.gapDuringRead) continue;
        if (this.held.length === 0 || read >= MAX_READS) return;
      }
    } finally {
      this.syncing = false;
    }
  }

  private flush(): void {
    if (!this.sink || this.closed) return;
    if (this.pendingSnapshot) {
      this.sink.snapshot(this.pendingSnapshot);
      this.pendingSnapshot = null;
    }
    for (const event of this.held.splice(0)) this.sink.event(event);
  }
}
