import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pillText } from './components/ExecutionPill';
import type { SnapshotEvent } from './types';
import { applySnapshot, applyStep, followMission, isTerminal, retryDelay, type Execution, type StreamSource, type StreamTransport } from './useMissionStream';

describe('execution state', () => {
  const snapshot = {
    mission: { id: 'm1', phase: 'execute', status: 'running' as const },
    steps: [
      { step_id: 's2', skill: 'provision_network', position: 2, status: 'pending' as const },
      { step_id: 's1', skill: 'provision_full_stack', position: 1, status: 'running' as const },
    ],
  };

  it('orders snapshot steps by position', () => {
    const execution = applySnapshot('m1', snapshot);
    expect(execution.steps.map((s) => s.step_id)).toEqual(['s1', 's2']);
    expect(execution.status).toBe('running');
  });

  it('moves one step without touching the others', () => {
    const execution = applyStep(applySnapshot('m1', snapshot), { step_id: 's1', status: 'completed' });
    expect(execution.steps.map((s) => s.status)).toEqual(['completed', 'pending']);
  });

  it('keeps a step it had not heard of', () => {
    const execution = applyStep(applySnapshot('m1', snapshot), { step_id: 's9', status: 'running' });
    expect(execution.steps).toHaveLength(3);
  });

  it('knows which statuses end a mission', () => {
    expect(isTerminal('completed')).toBe(true);
    expect(isTerminal('failed')).toBe(true);
    expect(isTerminal('running')).toBe(false);
  });
});

describe('pill text', () => {
  const base: Execution = {
    missionId: 'm1',
    status: 'running',
    steps: [
      { step_id: 's1', skill: 'a', status: 'completed' },
      { step_id: 's2', skill: 'b', status: 'running' },
    ],
  };

  it('counts completed steps while running', () => {
    expect(pillText(base)).toBe('Provisioning… 1 of 2 steps');
  });

  it('says when provisioning finished or failed', () => {
    expect(pillText({ ...base, status: 'completed' })).toBe('Provisioned · 2 of 2 steps');
    expect(pillText({ ...base, status: 'failed' })).toBe('Provisioning failed · 1 of 2 steps');
  });
});

class FakeSource implements StreamSource {
  onerror: ((event: Event) => void) | null = null;
  closed = false;
  private readonly listeners = new Map<string, ((event: MessageEvent<string>) => void)[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
  }

  emit(type: string, data: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data: JSON.stringify(data) } as MessageEvent<string>);
  }

  fail(): void {
    this.onerror?.(new Event('error'));
  }
}

/** Tickets t1, t2, … (or a failure where `failing` says so) and every source opened, in order. */
function fakeTransport(failing: (n: number) => boolean = () => false) {
  const sources: FakeSource[] = [];
  let issued = 0;
  const transport: StreamTransport = {
    async ticket() {
      issued += 1;
      if (failing(issued)) throw new Error('network');
      return `t${issued}`;
    },
    open(url) {
      const source = new FakeSource(url);
      sources.push(source);
      return source;
    },
  };
  return { transport, sources, issued: () => issued };
}

function recorder() {
  const seen: string[] = [];
  return {
    seen,
    handlers: {
      snapshot: (data: SnapshotEvent) => seen.push(`snapshot:${data.mission.status}`),
      step: (data: { status: string }) => seen.push(`step:${data.status}`),
      mission: (data: { status: string }) => seen.push(`mission:${data.status}`),
    },
  };
}

const SNAPSHOT: SnapshotEvent = { mission: { id: 'm1', phase: 'execution', status: 'running', error_code: null, error_message: null }, steps: [] };

describe('following a mission stream', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens the stream with a fresh ticket, never with the access token', async () => {
    const { transport, sources } = fakeTransport();
    const { seen, handlers } = recorder();
    const stop = followMission('m1', handlers, transport);
    await vi.advanceTimersByTimeAsync(0);
    expect(sources.map((s) => s.url)).toEqual(['/api/v1/ai/missions/m1/events?ticket=t1']);
    sources[0]!.emit('snapshot', SNAPSHOT);
    sources[0]!.emit('step', { step_id: 's1', status: 'completed' });
    sources[0]!.emit('mission', { phase: 'done', status: 'completed' });
    expect(seen).toEqual(['snapshot:running', 'step:completed', 'mission:completed']);
    stop();
    expect(sources[0]!.closed).toBe(true);
  });

  it('on an error closes the stream itself and reconnects after a pause with a new ticket', async () => {
    const { transport, sources, issued } = fakeTransport();
    const { seen, handlers } = recorder();
    const stop = followMission('m1', handlers, transport);
    await vi.advanceTimersByTimeAsync(0);
    sources[0]!.emit('snapshot', SNAPSHOT);
    sources[0]!.fail();
    expect(sources[0]!.closed).toBe(true);
    await vi.advanceTimersByTimeAsync(retryDelay(1) - 1);
    expect(issued()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sources.map((s) => s.url)).toEqual(['/api/v1/ai/missions/m1/events?ticket=t1', '/api/v1/ai/missions/m1/events?ticket=t2']);
    // Whatever the old source still delivers is ignored; the new one starts from its snapshot.
    sources[0]!.emit('step', { step_id: 's1', status: 'failed' });
    sources[1]!.emit('snapshot', { ...SNAPSHOT, mission: { ...SNAPSHOT.mission, status: 'failed' } });
    expect(seen).toEqual(['snapshot:running', 'snapshot:failed']);
    stop();
  });

  it('backs off while tickets cannot be had, and resets the pause after a snapshot', async () => {
    const { transport, sources, issued } = fakeTransport((n) => n <= 3);
    const { handlers } = recorder();
    const stop = followMission('m1', handlers, transport);
    await vi.advanceTimersByTimeAsync(0);
    expect(issued()).toBe(1);
    await vi.advanceTimersByTimeAsync(retryDelay(1));
    expect(issued()).toBe(2);
    await vi.advanceTimersByTimeAsync(retryDelay(2));
    expect(issued()).toBe(3);
    await vi.advanceTimersByTimeAsync(retryDelay(3));
    expect(sources).toHaveLength(1);
    sources[0]!.emit('snapshot', SNAPSHOT);
    sources[0]!.fail();
    await vi.advanceTimersByTimeAsync(retryDelay(1));
    expect(sources).toHaveLength(2);
    expect(retryDelay(10)).toBe(15_000);
    stop();
  });

  it('stops cleanly: no source after a stop during the ticket request, no retry after a stop', async () => {
    const { transport, sources } = fakeTransport();
    const stopEarly = followMission('m1', recorder().handlers, transport);
    stopEarly();
    await vi.advanceTimersByTimeAsync(0);
    expect(sources).toHaveLength(0);

    const stop = followMission('m1', recorder().handlers, transport);
    await vi.advanceTimersByTimeAsync(0);
    sources[0]!.fail();
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sources).toHaveLength(1);
  });
});
