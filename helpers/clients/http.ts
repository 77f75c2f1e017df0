/**
 * One small JSON-over-undici call used by every HTTP client of the suite. Calls go through undici,
 * not Playwright's request context, so Authorization headers never land in traces; errors name the
 * method, path and status, never a header.
 */
import { Agent, request, type Dispatcher } from 'undici';

export type HttpResponse = { status: number; json: unknown; text: string; headers?: Record<string, string | string[] | undefined> };

export type HttpCall = {
  method?: Dispatcher.HttpMethod;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent byte for byte as JSON text (e.g. a signed webhook payload); wins over `body`. */
  rawJson?: string;
  timeoutMs?: number;
};

export function createDispatcher(): Agent {
  return new Agent({ connections: 16, keepAliveTimeout: 5_000 });
}

export async function httpJson(dispatcher: Dispatcher, url: string, call: HttpCall = {}): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  const body = call.rawJson ?? (call.body === undefined ? undefined : JSON.stringify(call.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const timeout = call.timeoutMs ?? 15_000;
  const response = await request(url, {
    dispatcher,
    method: call.method ?? 'GET',
    headers,
    body,
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  const text = await response.body.text();
  let json: unknown = undefined;
  if (text.length > 0) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: response.statusCode, json, text, headers: response.headers };
}

/** Where a request went, for messages: method and path only (no query string, no headers). */
export function describeCall(method: string, url: string): string {
  try {
    return `${method} ${new URL(url).pathname}`;
  } catch {
    return method;
  }
}

/**
 * The first code of the set found in the error or anything it wraps: undici wraps connection errors
 * in `cause`, Node's happy eyeballs in AggregateError `errors`, the stripe SDK in `detail`.
 */
export function codeInChain(error: unknown, codes: ReadonlySet<string>): string | null {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const { code, cause, errors, detail } = current as { code?: unknown; cause?: unknown; errors?: unknown; detail?: unknown };
    if (typeof code === 'string' && codes.has(code)) return code;
    const wrapped: unknown[] = Array.isArray(errors) ? errors : [];
    queue.push(cause, detail, ...wrapped);
  }
  return null;
}

/**
 * The suite's one list of network error codes: each means the request got no HTTP answer at all.
 * A `blip` passes by itself (a connection reset or refused while a server restarts), so a poll
 * keeps going through it; a `fault` (a name that does not resolve, no route, an answer that never
 * came) stays until someone fixes the path, so a poll stops at once and the diagnosis names it.
 */
const NETWORK_ERRORS: Record<string, 'blip' | 'fault'> = {
  ECONNREFUSED: 'blip',
  ECONNRESET: 'blip',
  EPIPE: 'blip',
  ETIMEDOUT: 'blip',
  UND_ERR_SOCKET: 'blip',
  UND_ERR_CONNECT_TIMEOUT: 'blip',
  ENOTFOUND: 'fault',
  EAI_AGAIN: 'fault',
  EHOSTUNREACH: 'fault',
  ENETUNREACH: 'fault',
  UND_ERR_HEADERS_TIMEOUT: 'fault',
  UND_ERR_BODY_TIMEOUT: 'fault',
};

/** pg's admin_shutdown: the server dropped the connection; the pool opens a new one for the next query. */
const PG_CONNECTION_DROPPED = '57P01';

const NO_ANSWER_CODES: ReadonlySet<string> = new Set(Object.keys(NETWORK_ERRORS));
const TRANSIENT_CODES: ReadonlySet<string> = new Set([
  ...Object.entries(NETWORK_ERRORS)
    .filter(([, kind]) => kind === 'blip')
    .map(([code]) => code),
  PG_CONNECTION_DROPPED,
]);

/** The code of a "no answer" network failure anywhere in the error's causes, or null. */
export function noAnswerCode(error: unknown): string | null {
  return codeInChain(error, NO_ANSWER_CODES);
}

/** The code of a network blip (or of a pg connection dropped by the server), or null for anything else. */
export function transientCode(error: unknown): string | null {
  return codeInChain(error, TRANSIENT_CODES);
}

/**
 * For probes polled with expect.poll, which stops at the first thrown error: a transport blip
 * becomes a value that simply does not match yet, while real failures still throw at once.
 */
export async function pollable<T>(probe: () => Promise<T>): Promise<T | `transient error: ${string}`> {
  try {
    return await probe();
  } catch (error) {
    const code = transientCode(error);
    if (code) return `transient error: ${code}`;
    throw error;
  }
}
