/**
 * How the backend log's lines read (RUNBOOK Verification "no 500s in the backend log", CONTRACT 9
 * `log_journald`). The reference writes one JSON object per request. Public Powernode's backend is
 * Rails under puma, read with `journalctl -u powernode-backend@default -o short-iso`: a request is
 * a `Started GET "/api/v1/…" for <ip> at <time>` line on arrival and a `Completed <status> …` line
 * when answered, each after the journal's own `2026-12-07T10:00:01+0000 <host> puma[<pid>]: `.
 */
export type LogEntry = { time: Date | null; status: number | null; line: string };

export type LogFormat = {
  /** The lines that say how a request was answered (or, for JSON, every object), in order. */
  entries(text: string): LogEntry[];
  /**
   * The lines this format cannot read: a scan blind to them could pass while a 5xx sits there.
   * JSON: a line that is not a JSON object, or one with no time it can read. Journal: a line
   * without the `-o short-iso` stamp (`-o cat` prints none).
   */
  unreadable(text: string): string[];
};

const nonEmptyLines = (text: string) => text.split('\n').map((line) => line.trimEnd()).filter((line) => line.trim() !== '');

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

/**
 * One JSON log line, or null when it is not a JSON object. Tolerant of the usual shapes: `time` as
 * ISO text or epoch (ms, or s), status as `statusCode`, `res.statusCode` or a numeric `status`.
 */
export function parseJsonLine(line: string): LogEntry | null {
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

/** `-o short-iso`: `2026-12-07T10:00:01+0000 host unit[pid]: message`. */
const JOURNAL_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)([+-]\d\d):?(\d\d) \S+ [^\s[]+\[(\d+)\]: (.*)$/;
const STARTED = /^Started ([A-Z]+) "([^"]*)"/;
const COMPLETED = /^Completed (\d{3})\b/;

/**
 * Rails request lines from the journal, one entry per `Completed` line. The journal stamps lines
 * to the second, so an entry's time is the end of that second: a line is never taken as earlier
 * than the answer it logs (a 5xx from the second before the run started may count; none after it
 * is missed). Concurrent requests of one puma process interleave and Rails names no request id,
 * so a `Completed` line is paired with the oldest `Started` still open in its process: the request
 * line shown beside it is the likely one, not a certain one.
 */
export function journaldEntries(text: string): LogEntry[] {
  const open = new Map<string, string[]>();
  const entries: LogEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const m = JOURNAL_LINE.exec(line);
    if (!m) continue;
    const [, stamp, offsetHours, offsetMinutes, pid, message] = m as unknown as [string, string, string, string, string, string];
    const started = STARTED.exec(message);
    if (started) {
      const queue = open.get(pid) ?? [];
      queue.push(`${started[1]} ${started[2]}`);
      open.set(pid, queue);
      continue;
    }
    const completed = COMPLETED.exec(message);
    if (!completed) continue;
    const second = Date.parse(`${stamp}${offsetHours}:${offsetMinutes}`);
    const request = open.get(pid)?.shift();
    entries.push({
      time: Number.isNaN(second) ? null : new Date(second + 999),
      status: Number(completed[1]),
      line: request ? `${request}: ${line}` : line,
    });
  }
  return entries;
}

export const LOG_FORMATS = {
  json: {
    entries: (text) => text.split('\n').flatMap((line) => parseJsonLine(line) ?? []),
    unreadable: (text) => nonEmptyLines(text).filter((line) => parseJsonLine(line)?.time == null),
  },
  journald: {
    entries: journaldEntries,
    // journalctl's own markers ("-- No entries --", "-- Boot … --") are not log lines.
    unreadable: (text) => nonEmptyLines(text).filter((line) => !JOURNAL_LINE.test(line) && !/^-- .* --$/.test(line)),
  },
} satisfies Record<string, LogFormat>;

export type LogFormatName = keyof typeof LOG_FORMATS;
