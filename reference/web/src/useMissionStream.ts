/**
 * Live execution state of one mission from `GET /ai/missions/:id/events` (SSE). EventSource cannot
 * send headers, and a bearer token in a URL would land in traces, logs and history, so every
 * (re)connect first trades the token for a single-use stream ticket (`POST .../events/ticket`) and
 * opens the stream with that. The browser's own EventSource retry would replay a used ticket, so on
 * any error the stream is closed and reopened here, with a fresh ticket and a growing pause. Every
 * (re)connect starts with a snapshot, so a dropped stream heals without missing a transition.
 */
import { useEffect, useRef, useState } from 'react';
import { api, API_PREFIX } from './api';
import type { MissionEvent, MissionStatus, SnapshotEvent, StepEvent, StepStatus } from './types';

export type ExecStep = { step_id: string; skill: string; status: StepStatus };
export type Execution = { missionId: string; status: MissionStatus; steps: ExecStep[] };
export type MissionOutcome = { status: 'completed' | 'failed'; error_code: string | null; error_message: string | null };

const MAX_BACKOFF_MS = 15_000;

export function isTerminal(status: string): status is 'completed' | 'failed' {
  return status === 'completed' || status === 'failed';
}

export function applySnapshot(missionId: string, snapshot: SnapshotEvent): Execution {
  const steps = [...snapshot.steps]
    .sort((a, b) => a.position - b.position)
    .map((s) => ({ step_id: s.step_id, skill: s.skill, status: s.status }));
  return { missionId, status: snapshot.mission.status, steps };
}

export function applyStep(execution: Execution, event: StepEvent): Execution {
  const known = execution.steps.some((s) => s.step_id === event.step_id);
  const steps = known
    ? execution.steps.map((s) => (s.step_id === event.step_id ? { ...s, status: event.status } : s))
    : [...execution.steps, { step_id: event.step_id, skill: '', status: event.status }];
  return { ...execution, steps };
}

function parse<T>(event: Event): T | null {
  try {
    return JSON.parse((event as MessageEvent<string>).data) as T;
  } catch {
    return null;
  }
}

/** The part of EventSource the stream uses; tests pass a fake. */
export type StreamSource = {
  addEventListener(type: string, listener: (event: MessageEvent<string>) => void): void;
  close(): void;
  onerror: ((event: Event) => void) | null;
};

export type StreamTransport = {
  /** A fresh single-use ticket for this mission's stream (one per connect). */
  ticket(missionId: string): Promise<string>;
  open(url: string): StreamSource;
};

export type StreamHandlers = {
  snapshot(data: SnapshotEvent): void;
  step(data: StepEvent): void;
  mission(data: MissionEvent): void;
};

const browserTransport: StreamTransport = {
  async ticket(missionId) {
    const issued = await api<{ ticket: string; expires_in: number }>('POST', `/ai/missions/${encodeURIComponent(missionId)}/events/ticket`);
    return issued.ticket;
  },
  open: (url) => new EventSource(url),
};

export function retryDelay(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
}

/**
 * Follows one mission's event stream until the returned stop function is called: ticket, connect,
 * and on any error close, wait and start over. A snapshot resets the pause.
 */
export function followMission(missionId: string, handlers: StreamHandlers, transport: StreamTransport = browserTransport): () => void {
  let source: StreamSource | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let failures = 0;
  let stopped = false;

  const retry = () => {
    source?.close();
    source = null;
    if (stopped) return;
    failures += 1;
    retryTimer = setTimeout(() => void connect(), retryDelay(failures));
  };

  const connect = async () => {
    let ticket: string;
    try {
      ticket = await transport.ticket(missionId);
    } catch {
      retry();
      return;
    }
    if (stopped) return;
    const current = transport.open(`${API_PREFIX}/ai/missions/${encodeURIComponent(missionId)}/events?ticket=${encodeURIComponent(ticket)}`);
    source = current;
    // A closed source can still deliver what it had buffered: only the current one counts.
    const on = <T>(type: string, handle: (data: T) => void) =>
      current.addEventListener(type, (event) => {
        if (source !== current) return;
        const data = parse<T>(event);
        if (data) handle(data);
      });
    on<SnapshotEvent>('snapshot', (data) => {
      failures = 0;
      handlers.snapshot(data);
    });
    on<StepEvent>('step', (data) => handlers.step(data));
    on<MissionEvent>('mission', (data) => handlers.mission(data));
    current.onerror = () => {
      if (source === current) retry();
    };
  };

  void connect();
  return () => {
    stopped = true;
    clearTimeout(retryTimer);
    source?.close();
    source = null;
  };
}

/**
 * `initial` seeds the steps (from the approved plan) until the first snapshot arrives; the caller
 * mounts one consumer per mission (keyed by its id), so the mission never changes under the hook.
 * `onOutcome` fires once when the mission completes or fails.
 */
export function useMissionStream(initial: Execution, onOutcome: (missionId: string, outcome: MissionOutcome) => void): Execution {
  const [execution, setExecution] = useState<Execution>(initial);
  const outcomeRef = useRef(onOutcome);
  const id = initial.missionId;

  useEffect(() => {
    outcomeRef.current = onOutcome;
  }, [onOutcome]);

  useEffect(() => {
    let finished = false;
    let stop = () => {};

    const finish = (outcome: MissionOutcome) => {
      if (finished) return;
      finished = true;
      stop();
      outcomeRef.current(id, outcome);
    };

    stop = followMission(id, {
      snapshot(data) {
        setExecution(applySnapshot(id, data));
        if (isTerminal(data.mission.status)) {
          finish({ status: data.mission.status, error_code: data.mission.error_code ?? null, error_message: data.mission.error_message ?? null });
        }
      },
      step(data) {
        setExecution((current) => applyStep(current, data));
      },
      mission(data) {
        setExecution((current) => ({ ...current, status: data.status }));
        if (isTerminal(data.status)) {
          finish({ status: data.status, error_code: data.error_code ?? null, error_message: data.error_message ?? null });
        }
      },
    });
    return () => {
      finished = true;
      stop();
    };
  }, [id]);

  return execution;
}
