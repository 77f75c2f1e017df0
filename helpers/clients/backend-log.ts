/**
 * RUNBOOK Verification: "no 500s in the backend log since the run started". The log is read through
 * BACKEND_LOG_COMMAND when set (e.g. `journalctl -u powernode-backend@default -o cat`), else from
 * BACKEND_LOG_FILE. Lines are JSON; the parser is tolerant of the usual shapes: `time` as ISO text
 * or epoch (ms, or s), status as `statusCode`, `res.statusCode` or a numeric `status`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config';

export type LogEntry = { time: Date | null; status: number | null; line: string };

function parseTime(value: unknown): Date | null {
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Epoch seconds are below 1e11 until the year 5138; milliseconds are above it since 1973.
    return new Date(value < 1e11 ? value * 1000 : value);
  }
  if (typeof value === 'string' && value.trim() !== '') {
    if (/^\d+(\.\d+)?$/.test(value.trim())) return parseTime(Number(value));
    const date = new Date(value);
    return Number.isNaN(date.getTime()) ? null : date;
  }
  return null;
}

function parseStatus(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : null;
}

/** One log line, or null when it is not a JSON object. */
export function parseLogLine(line: string): LogEntry | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return null;
  let record: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    record = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const res = record.res && typeof record.res === 'object' ? (record.res as Record<string, unknown>) : {};
  const status = parseStatus(record.statusCode) ?? parseStatus(res.statusCode) ?? parseStatus(record.status);
  return { time: parseTime(record.time ?? record.timestamp ?? record['@timestamp']), status, line: trimmed };
}

export type LogScan = {
  /** 5xx answers logged at or after `since`. */
  serverErrors: LogEntry[];
  /** 5xx answers whose time could not be read: reported, not counted. */
  undatedServerErrors: LogEntry[];
  linesRead: number;
  requestLinesSince: number;
};

export function scanForServerErrors(text: string, since: Date): LogScan {
  const scan: LogScan = { serverErrors: [], undatedServerErrors: [], linesRead: 0, requestLinesSince: 0 };
  for (const line of text.split('\n')) {
    const entry = parseLogLine(line);
    if (!entry) continue;
    scan.linesRead++;
    if (entry.time && entry.time < since) continue;
    if (entry.time && entry.status !== null) scan.requestLinesSince++;
    if (entry.status === null || entry.status < 500) continue;
    (entry.time ? scan.serverErrors : scan.undatedServerErrors).push(entry);
  }
  return scan;
}

const run = promisify(execFile);

/** The backend's log text and where it came from; throws with what to set when there is none. */
export async function readBackendLog(config: Pick<Config, 'BACKEND_LOG_COMMAND' | 'BACKEND_LOG_FILE'>): Promise<{ source: string; text: string }> {
  if (config.BACKEND_LOG_COMMAND) {
    const { stdout } = await run('/bin/sh', ['-c', config.BACKEND_LOG_COMMAND], { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 });
    return { source: 'BACKEND_LOG_COMMAND', text: stdout };
  }
  const path = resolve(process.cwd(), config.BACKEND_LOG_FILE);
  if (!existsSync(path)) {
    throw new Error(`no backend log at ${path}: set BACKEND_LOG_FILE to the backend's JSON log, or BACKEND_LOG_COMMAND to a command printing it`);
  }
  return { source: path, text: await readFile(path, 'utf8') };
}
