/**
 * The small HTTP kit both emulators stand on: a bounded body read, a JSON body, a reply with its
 * length, a route table, listen and close. Plain node:http, so an emulator is ready in a few ms.
 * Each emulator keeps its own error body (Vultr's {"error","status"}, Stripe's {"error":{...}}):
 * what the kit refuses is an HttpError, a status and a message that the emulator renders.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** One request header as text (the first, where node keeps a list). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The whole body as text. An oversized body is read to its end (so the answer reaches the client) and refused with 413. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > limit) reject(new HttpError(413, `The request body is larger than ${limit} bytes.`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

/** A JSON body; an empty one reads as `{}`. */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Invalid JSON body.');
  }
}

/** Writes a complete reply with its content-length; a HEAD request gets the headers only. */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, options: { headers?: Record<string, string>; indent?: number } = {}): void {
  sendText(res, status, JSON.stringify(body, null, options.indent), { ...options.headers, 'content-type': 'application/json' });
}

/** An answer before it is written: no body (204), text with its content-type, or JSON. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Writes a reply; `options.headers` go on every reply of an emulator, the reply's own override them. */
export function sendReply(res: ServerResponse, reply: Reply, options: { headers?: Record<string, string>; indent?: number } = {}): void {
  const headers = { ...options.headers, ...reply.headers };
  if (reply.body === undefined) res.writeHead(reply.status, headers).end();
  else if (typeof reply.body === 'string' && headers['content-type']) sendText(res, reply.status, reply.body, headers);
  else sendJson(res, reply.status, reply.body, { headers, indent: options.indent });
}

export interface RoutePattern {
  method: string;
  pattern: RegExp;
}

export type RouteMatch<R> = { route: R; params: string[] } | { route: undefined; pathMatched: boolean };

/** The first route for this method and path, with its captured groups; else whether any route has this path (405 rather than 404). */
export function matchRoute<R extends RoutePattern>(routes: readonly R[], method: string, path: string): RouteMatch<R> {
  let pathMatched = false;
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (!match) continue;
    pathMatched = true;
    if (route.method === method) return { route, params: match.slice(1).map((group) => group ?? '') };
  }
  return { route: undefined, pathMatched };
}

/** Listens and resolves with the port (0 picks a free one). */
export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export function originOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops listening and drops idle keep-alive sockets, so close does not wait on a client. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
