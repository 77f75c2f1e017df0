/**
 * The backend log the suite's "no 5xx" check reads: one JSON line per request. Bodies and
 * Authorization headers are never written. Credentials in a query string are redacted: access tokens
 * (no longer accepted there, but a client may still send one) and stream tickets (useless once used
 * or a minute old, but a log is no place to find out which).
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

export type LogLevel = 'info' | 'warn' | 'error';

export function redactUrl(url: string): string {
  return url.replace(/([?&](?:access_token|ticket)=)[^&#]*/gi, '$1[REDACTED]');
}

export function levelFor(statusCode: number): LogLevel {
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400) return 'warn';
  return 'info';
}

/** What the API server writes per request: the JSON lines here, or journald lines (journal-log.ts). */
export interface BackendLog {
  /** The request arrived (a Rails log says so before it answers). */
  started(request: FastifyRequest): void;
  request(request: FastifyRequest, reply: FastifyReply): void;
  bug(request: FastifyRequest, error: unknown): void;
  close(): Promise<void>;
}

export class RequestLog implements BackendLog {
  private readonly stream: WriteStream | null;

  constructor(file: string | null) {
    if (file) {
      mkdirSync(dirname(file), { recursive: true });
      this.stream = createWriteStream(file, { flags: 'a' });
      // A full disk must not take the API down with it.
      this.stream.on('error', (error) => console.error(`backend log: ${error.message}`));
    } else {
      this.stream = null;
    }
  }

  private write(line: Record<string, unknown>): void {
    this.stream?.write(`${JSON.stringify(line)}\n`);
  }

  started(): void {
    // One line per request, written when it is answered.
  }

  request(request: FastifyRequest, reply: FastifyReply): void {
    this.write({
      time: Date.now(),
      level: levelFor(reply.statusCode),
      method: request.method,
      url: redactUrl(request.url),
      statusCode: reply.statusCode,
      responseTime: Math.round(reply.elapsedTime * 100) / 100,
      reqId: request.id,
    });
  }

  bug(request: FastifyRequest, error: unknown): void {
    const e = error instanceof Error ? error : new Error(String(error));
    this.write({
      time: Date.now(),
      level: 'error',
      method: request.method,
      url: redactUrl(request.url),
      reqId: request.id,
      msg: 'unhandled error',
      err: { type: e.name, message: e.message, stack: e.stack },
    });
    console.error(`[${request.id}] ${request.method} ${redactUrl(request.url)}: ${e.stack ?? e.message}`);
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    await new Promise<void>((resolve) => stream.end(resolve));
  }
}
