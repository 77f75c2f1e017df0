/**
 * The request journal behind `GET /__emulator/requests`: method, path, status and time only.
 * Headers and bodies are never kept, and secrets in query strings are redacted.
 */

export interface JournalEntry {
  method: string;
  path: string;
  status: number;
  time: string;
}

const MAX_ENTRIES = 5000;
const SECRET_PARAMS = /([?&](?:client_secret|key|secret)=)[^&]*/gi;

export class RequestJournal {
  private entries: JournalEntry[] = [];

  record(method: string, rawPath: string, status: number): void {
    this.entries.push({ method, path: redact(rawPath), status, time: new Date().toISOString() });
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  list(): JournalEntry[] {
    return [...this.entries];
  }

  reset(): void {
    this.entries = [];
  }
}

export function redact(path: string): string {
  return path.replace(SECRET_PARAMS, '$1[redacted]');
}
