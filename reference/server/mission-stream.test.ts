import { describe, expect, it } from 'vitest';
import type { MissionEvent } from '../lib/events';
import type { MissionEventGap, MissionEventListener } from './mission-events';
import { MAX_READS, MissionStream, type MissionStreamSink } from './mission-stream';
import type { MissionSnapshot } from './services/missions';

const ACCOUNT = 'acct-1';

function snapshot(version: number): MissionSnapshot {
  return {
    mission: { id: 'm1', phase: 'execution', status: `v${version}`, error_code: null, error_message: null },
    steps: [],
  };
}

function step(status: 'running' | 'completed', accountId = ACCOUNT): MissionEvent {
  return { type: 'step', mission_id: 'm1', account_id: accountId, step_id: 'step-1', status };
}

type Sent = { snapshot: string } | { event: string } | { broken: true };

/**
 * A hub and a database in one: `during(read)` runs while snapshot read number `read` is in flight,
 * so a test places an event or a hub reconnect at an exact point of the ordering.
 */
function fakeSource(during: (read: number, emit: MissionEventListener, gap: MissionEventGap) => void = () => undefined, failOn = 0) {
  let listener: MissionEventListener = () => undefined;
  let onGap: MissionEventGap = () => undefined;
  let reads = 0;
  let unsubscribed = false;
  const source = {
    accountId: ACCOUNT,
    async subscribe(l: MissionEventListener, g: MissionEventGap) {
      listener = l;
      onGap = g;
      return () => {
        unsubscribed = true;
      };
    },
    async readSnapshot() {
      reads += 1;
      const read = reads;
      during(read, (event) => listener(event), () => onGap());
      if (read === failOn) throw new Error('database went away');
      return snapshot(read);
    },
  };
  return {
    source,
    emit: (event: MissionEvent) => listener(event),
    gap: () => onGap(),
    reads: () => reads,
    unsubscribed: () => unsubscribed,
  };
}

function recorder(): { sink: MissionStreamSink; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    sink: {
      snapshot: (s) => sent.push({ snapshot: s.mission.status }),
      event: (e) => sent.push({ event: e.status }),
      broken: () => sent.push({ broken: true }),
    },
  };
}

async function settled(): Promise<void> {
  // The stream's re-reads are promise chains on already-settled fakes: a macrotask turn drains them.
  await new Promise((resolve) => setImmediate(resolve));
}

describe('MissionStream ordering', () => {
  it('sends the snapshot first and only then live events, of this account only', async () => {
    const fake = fakeSource();
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    fake.emit(step('running', 'someone-else'));
    fake.emit(step('running'));
    expect(sent).toEqual([{ snapshot: 'v1' }, { event: 'running' }]);
    expect(fake.reads()).toBe(1);
  });

  it('re-reads instead of replaying an event that arrived during the read, so nothing steps back', async () => {
    const fake = fakeSource((read, emit) => {
      if (read === 1) emit(step('completed'));
    });
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    expect(fake.reads()).toBe(2);
    expect(sent).toEqual([{ snapshot: 'v2' }]);
  });

  it('after MAX_READS busy reads sends the last snapshot and then the held events in order', async () => {
    const fake = fakeSource((_read, emit) => {
      emit(step('running'));
      emit(step('completed'));
    });
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    expect(fake.reads()).toBe(MAX_READS);
    expect(sent).toEqual([{ snapshot: `v${MAX_READS}` }, { event: 'running' }, { event: 'completed' }]);
  });

  it('holds events that arrive between open and start and sends them after the snapshot', async () => {
    const fake = fakeSource();
    const stream = await MissionStream.open(fake.source);
    fake.emit(step('running'));
    const { sink, sent } = recorder();
    stream.start(sink);
    expect(sent).toEqual([{ snapshot: 'v1' }, { event: 'running' }]);
  });

  it('answers a hub reconnect with a fresh snapshot, holding live events until it is sent', async () => {
    const fake = fakeSource((read, emit) => {
      if (read === 2) emit(step('completed'));
      if (read === 3) emit(step('running', 'someone-else'));
    });
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    fake.gap();
    await settled();
    // Read 2 saw an event arrive, so read 3 covers it; nothing is sent out of order.
    expect(sent).toEqual([{ snapshot: 'v1' }, { snapshot: 'v3' }]);
    fake.emit(step('running'));
    expect(sent.at(-1)).toEqual({ event: 'running' });
  });

  it('reads again when the hub reconnects during a read, however busy the stream is', async () => {
    const fake = fakeSource((read, emit, gap) => {
      emit(step('running'));
      if (read === MAX_READS) gap();
    });
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    expect(fake.reads()).toBe(MAX_READS + 1);
    expect(sent).toEqual([{ snapshot: `v${MAX_READS + 1}` }, { event: 'running' }]);
  });

  it('reports a failed re-read as broken, and a failed first read as an error after unsubscribing', async () => {
    const live = fakeSource(() => undefined, 2);
    const stream = await MissionStream.open(live.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    live.gap();
    await settled();
    expect(sent).toEqual([{ snapshot: 'v1' }, { broken: true }]);

    const dead = fakeSource(() => undefined, 1);
    await expect(MissionStream.open(dead.source)).rejects.toThrow('database went away');
    expect(dead.unsubscribed()).toBe(true);
  });

  it('sends nothing once closed', async () => {
    const fake = fakeSource();
    const stream = await MissionStream.open(fake.source);
    const { sink, sent } = recorder();
    stream.start(sink);
    stream.close();
    fake.emit(step('running'));
    fake.gap();
    await settled();
    expect(sent).toEqual([{ snapshot: 'v1' }]);
    expect(fake.unsubscribed()).toBe(true);
  });
});
