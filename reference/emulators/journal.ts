/**
 * The request journal behind both emulators' `GET /__emulator/requests`, for offline assertions by
 * the suite: method, path, status, time and duration, and what a route notes (the tags a Vultr
 * create asks for). Never headers or bodies, and secrets in query strings are redacted, so no key
 * or password can leak through it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { HttpError } from './http-kit';

export interface JournalEntry {
  method: string;
  path: string;
  status: number;
  time: string;
  duration_ms: number;
  /** For Vultr instance creations: the tags the request asked for (owner attribution, e.g. account:<id>). */
  tags?: string[];
  /** For an accepted key on a Vultr instance creation: the e-mail of the Vultr account it acted for (one account per key). */
  account?: string;
}

/** What a route adds to its request's entry before the answer is sent. */
export type JournalNote = Pick<JournalEntry, 'tags' | 'account'>;

export const DEFAULT_JOURNAL_LIMIT = 5_000;
const SECRET_PARAMS = /([?&](?:client_secret|key|secret)=)[^&]*/gi;

export class RequestJournal {
  private entries: JournalEntry[] = [];

  constructor(private readonly limit = DEFAULT_JOURNAL_LIMIT) {}

  /** Journals the request once its answer is sent; the returned note may still be filled in until then. */
  track(req: IncomingMessage, res: ServerResponse): JournalNote {
    const startedAt = performance.now();
    const time = new Date().toISOString();
    const note: JournalNote = {};
    res.on('finish', () => {
      const duration = Math.round((performance.now() - startedAt) * 1000) / 1000;
      this.record({ method: req.method ?? 'GET', path: redact(req.url ?? '/'), status: res.statusCode, time, duration_ms: duration, ...note });
    });
    return note;
  }

  record(entry: JournalEntry): void {
    this.entries.push(entry);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
  }

  clear(): void {
    this.entries = [];
  }

  // Filters: since=<ISO time> (inclusive), method=<verb>, path_prefix=<path start>, tag=<one tag>.
  query(params: URLSearchParams): JournalEntry[] {
    const since = params.get('since');
    let sinceMs: number | undefined;
    if (since !== null) {
      sinceMs = Date.parse(since);
      if (Number.isNaN(sinceMs)) throw new HttpError(400, 'Invalid since: expected an ISO 8601 time.');
    }
    const method = params.get('method')?.toUpperCase();
    const prefix = params.get('path_prefix');
    const tag = params.get('tag');
    return this.entries.filter(
      (e) =>
        (sinceMs === undefined || Date.parse(e.time) >= sinceMs) &&
        (method === undefined || e.method === method) &&
        (prefix === null || e.path.startsWith(prefix)) &&
        (tag === null || (e.tags ?? []).includes(tag)),
    );
  }
}

export function redact(path: string): string {
  return path.replace(SECRET_PARAMS, '$1[redacted]');
}
