/**
 * What pre-flight and the funnel leave for the teardown, shared between processes: when the run
 * started (the verification teardown bounds "no 5xx since the run started" with it), which
 * pre-flight checks failed (then the funnel never ran and there is nothing to verify), and which
 * funnel identities were used (whose final state the verification must then find). Workers are
 * separate processes, so each is kept in a small file keyed by the run id.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * In the checkout, whatever the cwd of the process that runs the suite (a harness runs it from a
 * folder of its own): `npm run rollback -- --older-than` sweeps exactly the runs listed here.
 */
const STATE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'run-state');

type StateKind = 'start' | 'preflight-failures' | 'shared-changes' | 'funnel-identities';
const SUFFIX: Record<StateKind, string> = {
  start: '.json',
  'preflight-failures': '.preflight-failures',
  'shared-changes': '.shared-changes',
  'funnel-identities': '.funnel-identities',
};

function statePath(runId: string, kind: StateKind = 'start'): string {
  return resolve(STATE_DIR, `${runId}${SUFFIX[kind]}`);
}

/**
 * A change to state the run shares with others (the platform-pool credential), recorded before it
 * is made, and its undoing recorded after: a run killed in between leaves a change that
 * `npm run rollback` finds here and puts back.
 */
export type SharedChange = { kind: 'platform_pool_disabled'; credentialIds: string[]; at: string };
type SharedChangeLine = ({ op: 'made' } & SharedChange) | { op: 'undone'; kind: SharedChange['kind']; credentialIds: string[]; at: string };

export function recordSharedChange(runId: string, change: SharedChange): void {
  const path = statePath(runId, 'shared-changes');
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify({ op: 'made', ...change } satisfies SharedChangeLine)}\n`);
}

export function recordSharedChangeUndone(runId: string, change: Pick<SharedChange, 'kind' | 'credentialIds'>): void {
  const path = statePath(runId, 'shared-changes');
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${JSON.stringify({ op: 'undone', ...change, at: new Date().toISOString() } satisfies SharedChangeLine)}\n`);
}

/** The changes the run made and has not undone yet (each credential id once). */
export function pendingSharedChanges(runId: string): SharedChange[] {
  let text: string;
  try {
    text = readFileSync(statePath(runId, 'shared-changes'), 'utf8');
  } catch {
    return [];
  }
  const off = new Map<string, string>();
  for (const line of text.split('\n').filter(Boolean)) {
    let entry: SharedChangeLine;
    try {
      entry = JSON.parse(line) as SharedChangeLine;
    } catch {
      continue;
    }
    for (const id of entry.credentialIds ?? []) {
      if (entry.op === 'made') off.set(id, entry.at);
      else off.delete(id);
    }
  }
  return off.size === 0 ? [] : [{ kind: 'platform_pool_disabled', credentialIds: [...off.keys()], at: [...off.values()].sort()[0]! }];
}

/** Records the start once; later calls (other pre-flight tests, repeats) keep the first moment. */
export function recordRunStart(runId: string, now: Date = new Date()): Date {
  const existing = readRunStart(runId);
  if (existing) return existing;
  const path = statePath(runId);
  mkdirSync(dirname(path), { recursive: true });
  try {
    writeFileSync(path, JSON.stringify({ runId, startedAt: now.toISOString() }), { flag: 'wx' });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }
  return readRunStart(runId) ?? now;
}

export function readRunStart(runId: string): Date | null {
  try {
    const parsed = JSON.parse(readFileSync(statePath(runId), 'utf8')) as { startedAt?: unknown };
    const date = typeof parsed.startedAt === 'string' ? new Date(parsed.startedAt) : null;
    return date && !Number.isNaN(date.getTime()) ? date : null;
  } catch {
    return null;
  }
}

/** Records a failed pre-flight check; each worker appends its own line, so no write is lost. */
export function recordPreflightFailure(runId: string, title: string): void {
  const path = statePath(runId, 'preflight-failures');
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${title.replace(/\n/g, ' ')}\n`);
}

/** The pre-flight checks that failed in this run; empty when all passed (or none ran yet). */
export function readPreflightFailures(runId: string): string[] {
  try {
    return readFileSync(statePath(runId, 'preflight-failures'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Records a funnel identity the run used, so the verification knows whose final state it must find. */
export function recordFunnelIdentity(runId: string, email: string): void {
  const path = statePath(runId, 'funnel-identities');
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, `${email}\n`);
}

export function readFunnelIdentities(runId: string): string[] {
  try {
    return readFileSync(statePath(runId, 'funnel-identities'), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** The runs started from this checkout (each has its start recorded here): what `rollback --older-than` may sweep. */
export function runsStartedHere(): string[] {
  try {
    return readdirSync(STATE_DIR)
      .filter((name) => /^[a-z0-9]{4,24}\.json$/.test(name))
      .map((name) => name.slice(0, -'.json'.length));
  } catch {
    return [];
  }
}

/** One run's shared state, as pre-flight records it and the teardown reads it. */
export class RunState {
  constructor(readonly id: string) {}

  /** Marks the start of the run (the first call wins) and answers it. */
  recordStart(): Date {
    return recordRunStart(this.id);
  }

  /** When the run started, or null when pre-flight never ran. */
  start(): Date | null {
    return readRunStart(this.id);
  }

  recordPreflightFailure(title: string): void {
    recordPreflightFailure(this.id, title);
  }

  preflightFailures(): string[] {
    return readPreflightFailures(this.id);
  }

  recordSharedChange(change: SharedChange): void {
    recordSharedChange(this.id, change);
  }

  recordSharedChangeUndone(change: Pick<SharedChange, 'kind' | 'credentialIds'>): void {
    recordSharedChangeUndone(this.id, change);
  }

  recordFunnelIdentity(email: string): void {
    recordFunnelIdentity(this.id, email);
  }

  /** The funnel identities this run used (none when the funnel did not run). */
  funnelIdentities(): string[] {
    return readFunnelIdentities(this.id);
  }
}
