/**
 * Where the worker's state comes from (RUNBOOK pre-flight "Worker service running", Verification
 * "no failed meter jobs"; CONTRACT 6.9, CONTRACT 9 `worker_command`). The runbook's worker answers
 * WORKER_HEALTH_URL with `{status, failed:{<job>: n}}`. Public Powernode has no such URL: an
 * operator command (a `rails runner` one-liner over Sidekiq's API) prints
 * `{"running":true,"failed":{"BillingProvisioningMeterJob":0}}`, WORKER_STATE_COMMAND.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { describeCall, httpJson } from '../clients/http';
import { workerHealthSchema } from '../schemas';

export type WorkerState = { running: boolean; failed: Record<string, number>; source: string };

/** The worker's state could not be read; `httpStatus` is what the health URL answered, if it did. */
export class WorkerStateError extends Error {
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'WorkerStateError';
  }
}

export type WorkerStateSource = {
  read(options: { url: string; command: string; dispatcher: Dispatcher }): Promise<WorkerState>;
};

const commandOutputSchema = z.looseObject({ running: z.boolean(), failed: z.record(z.string(), z.number()).default({}) });

const run = promisify(execFile);

export const WORKER_STATE_SOURCES = {
  url: {
    async read({ url, dispatcher }) {
      const response = await httpJson(dispatcher, url, { timeoutMs: 10_000 });
      const parsed = workerHealthSchema.safeParse(response.json);
      if (!parsed.success) throw new WorkerStateError(`${describeCall('GET', url)} answered ${response.status} without {status, failed}`, response.status);
      return { running: parsed.data.status === 'ok', failed: parsed.data.failed, source: describeCall('GET', url) };
    },
  },
  command: {
    async read({ command }) {
      const { stdout } = await run('/bin/sh', ['-c', command], { timeout: 60_000, maxBuffer: 1024 * 1024 });
      // The JSON is the last line: a wrapper (ssh, bundler) may print before it.
      const last = stdout.trim().split('\n').at(-1) ?? '';
      let json: unknown;
      try {
        json = JSON.parse(last);
      } catch {
        throw new WorkerStateError(`WORKER_STATE_COMMAND printed no JSON on its last line (${JSON.stringify(last.slice(0, 120))})`);
      }
      const parsed = commandOutputSchema.safeParse(json);
      if (!parsed.success) throw new WorkerStateError(`WORKER_STATE_COMMAND printed ${last.slice(0, 120)}, not {"running":true|false,"failed":{"<job>":n}}`);
      return { running: parsed.data.running, failed: parsed.data.failed, source: 'WORKER_STATE_COMMAND' };
    },
  },
} satisfies Record<string, WorkerStateSource>;

/** A command when one is configured, else the health URL. */
export function workerStateSource(command: string): WorkerStateSource {
  return command.trim() ? WORKER_STATE_SOURCES.command : WORKER_STATE_SOURCES.url;
}
