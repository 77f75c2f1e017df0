/**
 * RUNBOOK Verification: "no 500s in the backend log since the run started". The log is read through
 * BACKEND_LOG_COMMAND when set (e.g. `journalctl -u powernode-backend@default -o short-iso`), else
 * from BACKEND_LOG_FILE; its lines are read in BACKEND_LOG_FORMAT (helpers/dialect/log-format.ts).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config';
import { LOG_FORMATS, parseJsonLine, type LogEntry, type LogFormat } from '../dialect/log-format';

export type { LogEntry };

/** One JSON log line, or null when it is not a JSON object. */
export const parseLogLine = parseJsonLine;

export type LogScan = {
  /** 5xx answers logged at or after `since`. */
  serverErrors: LogEntry[];
  /** 5xx answers whose time could not be read: reported, not counted. */
  undatedServerErrors: LogEntry[];
  linesRead: number;
  requestLinesSince: number;
  /** Lines the format cannot read or date (the first few): the scan would be blind to a 5xx there. */
  unreadable: string[];
  unreadableCount: number;
};

export function scanForServerErrors(text: string, since: Date, format: LogFormat = LOG_FORMATS.json): LogScan {
  const unreadable = format.unreadable(text);
  const scan: LogScan = { serverErrors: [], undatedServerErrors: [], linesRead: 0, requestLinesSince: 0, unreadable: unreadable.slice(0, 5), unreadableCount: unreadable.length };
  for (const entry of format.entries(text)) {
    scan.linesRead++;
    if (entry.time && entry.time < since) continue;
    if (entry.time && entry.status !== null) scan.requestLinesSince++;
    if (entry.status === null || entry.status < 500) continue;
    (entry.time ? scan.serverErrors : scan.undatedServerErrors).push(entry);
  }
  return scan;
}

const run = promisify(execFile);

/** The backend log is not where BACKEND_LOG_FILE says; `path` is where it was looked for. */
export class MissingLogError extends Error {
  constructor(readonly path: string) {
    super(`no backend log at ${path}: set BACKEND_LOG_FILE to the backend's JSON log, or BACKEND_LOG_COMMAND to a command printing it`);
    this.name = 'MissingLogError';
  }
}

/** The backend's log text and where it came from; throws with what to set when there is none. */
export async function readBackendLog(config: Pick<Config, 'BACKEND_LOG_COMMAND' | 'BACKEND_LOG_FILE'>): Promise<{ source: string; text: string }> {
  if (config.BACKEND_LOG_COMMAND) {
    const { stdout } = await run('/bin/sh', ['-c', config.BACKEND_LOG_COMMAND], { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
    return { source: 'BACKEND_LOG_COMMAND', text: stdout };
  }
  const path = resolve(process.cwd(), config.BACKEND_LOG_FILE);
  if (!existsSync(path)) throw new MissingLogError(path);
  return { source: path, text: await readFile(path, 'utf8') };
}
