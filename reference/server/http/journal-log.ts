/**
 * The backend log as public Powernode's operators read it (CONTRACT 9 `log_journald`): what
 * `journalctl -u powernode-backend@default -o short-iso` prints for a Rails app under Puma. Each
 * request gets a `Started` line when it arrives and a `Completed` line when it is answered, so
 * lines of concurrent requests interleave as they do in the journal. Like the JSON log, it never
 * holds a body or a header, and credentials in a query string are redacted.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactUrl, type BackendLog } from './request-log';

const SERVICE = 'puma';

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** `2026-12-07T10:00:01+0000`, journalctl's short-iso stamp (UTC). */
export function shortIso(at: Date): string {
  const date = `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
  return `${date}T${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}+0000`;
}

/** `2026-12-07 10:00:01 +0000`, the time in Rails' `Started` line. */
export function railsTime(at: Date): string {
  return shortIso(at).replace('T', ' ').replace('+0000', ' +0000');
}

export function startedLine(method: string, url: string, ip: string, at: Date): string {
  return `Started ${method} "${redactUrl(url)}" for ${ip} at ${railsTime(at)}`;
}

export function completedLine(statusCode: number, elapsedMs: number): string {
  const reason = STATUS_CODES[statusCode] ?? 'Unknown';
  return `Completed ${statusCode} ${reason} in ${Math.round(elapsedMs)}ms (Views: 0.0ms | ActiveRecord: 0.0ms)`;
}

export class JournalLog implements BackendLog {
  private readonly stream: WriteStream | null;
  private readonly prefixHost = hostname().split('.')[0] || 'localhost';

  constructor(
    file: string | null,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.stream = createWriteStream(file, { flags: 'a' });
      this.stream.on('error', (error) => console.error(`backend journal: ${error.message}`));
    } else {
      this.stream = null;
    }
  }

  private write(message: string): void {
    this.stream?.write(`${shortIso(this.now())} ${this.prefixHost} ${SERVICE}[${process.pid}]: ${message}\n`);
  }

  started(request: FastifyRequest): void {
    this.write(startedLine(request.method, request.url, request.ip, this.now()));
  }

  request(_request: FastifyRequest, reply: FastifyReply): void {
    this.write(completedLine(reply.statusCode, reply.elapsedTime));
  }

  bug(request: FastifyRequest, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    // Rails logs the exception class and message before the 500's Completed line.
    this.write(`${e.name} (${e.message.split('\n')[0]}):`);
    console.error(`[${request.id}] ${request.method} ${redactUrl(request.url)}: ${e.stack ?? e.message}`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
}
