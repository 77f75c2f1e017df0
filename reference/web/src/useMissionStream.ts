/**
 * Live execution state of one mission from `GET /ai/missions/:id/events` (SSE). EventSource cannot
 * send headers, so the token travels as `?access_token=`. Every (re)connect starts with a snapshot,
 * so a dropped stream heals without missing a transition.
 */
import { useEffect, useRef, useState } from 'react';
import { API_PREFIX, getToken } from './api';
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
    let source: EventSource | null = null;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let finished = false;

    const finish = (outcome: MissionOutcome) => {
      if (finished) return;
      finished = true;
      source?.close();
      outcomeRef.current(id, outcome);
    };

    const connect = () => {
      const token = getToken() ?? '';
      source = new EventSource(`${API_PREFIX}/ai/missions/${encodeURIComponent(id)}/events?access_token=${encodeURIComponent(token)}`);

      source.addEventListener('snapshot', (event) => {
        const data = parse<SnapshotEvent>(event);
        if (!data) return;
        failures = 0;
        setExecution(applySnapshot(id, data));
        if (isTerminal(data.mission.status)) {
          finish({ status: data.mission.status, error_code: data.mission.error_code ?? null, error_message: null });
        }
      });

      source.addEventListener('step', (event) => {
        const data = parse<StepEvent>(event);
        if (data) setExecution((current) => applyStep(current, data));
      });

      source.addEventListener('mission', (event) => {
        const data = parse<MissionEvent>(event);
        if (!data) return;
        setExecution((current) => ({ ...current, status: data.status }));
        if (isTerminal(data.status)) {
          finish({ status: data.status, error_code: data.error_code ?? null, error_message: data.error_message ?? null });
        }
      });

      source.onerror = () => {
        // While CONNECTING the browser retries by itself; CLOSED means it gave up (an HTTP error
        // or a bad content type), so reconnect by hand with a growing pause.
        if (finished || !source || source.readyState !== EventSource.CLOSED) return;
        failures += 1;
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** failures);
        retryTimer = setTimeout(connect, delay);
      };
    };

    connect();
    return () => {
      finished = true;
      clearTimeout(retryTimer);
      source?.close();
    };
  }, [id]);

  return execution;
}
