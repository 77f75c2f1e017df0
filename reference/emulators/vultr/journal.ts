// A bounded log of the requests the emulator answered, for offline assertions by the suite.
// It holds method, path, status, timing and a creation's requested tags only: never headers or
// bodies, so no key or password can leak.
import { InvalidRequest } from './create-request';

export interface JournalEntry {
  method: string;
  path: string;
  status: number;
  time: string;
  duration_ms: number;
  /** For instance creations: the tags the request asked for (owner attribution, e.g. account:<id>). */
  tags?: string[];
}

export class Journal {
  private entries: JournalEntry[] = [];

  constructor(private readonly limit: number) {}

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
      if (Number.isNaN(sinceMs)) throw new InvalidRequest('Invalid since: expected an ISO 8601 time.');
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
