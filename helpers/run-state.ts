/**
 * When the run started, shared between processes: pre-flight (the first project) writes it, the
 * verification teardown reads it to bound "no 5xx since the run started". Workers are separate
 * processes, so the moment is kept in a small file keyed by the run id.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

const STATE_DIR = 'test-results/run-state';

function statePath(runId: string): string {
  return resolve(process.cwd(), STATE_DIR, `${runId}.json`);
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
