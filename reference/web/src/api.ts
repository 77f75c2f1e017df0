/**
 * The one place the UI talks to `/api/v1`: it adds the bearer token, unwraps the
 * `{success, data}` envelope and turns every failure into an ApiError with the server's code. Both
 * error envelopes are read: `{error:{code, message, details}}` and public Powernode's flat
 * `{error:"<message>", code:"<CODE>", details}` (the errors_flat variant), whose code is upper case.
 */
import { navigate } from './router';

const TOKEN_KEY = 'm1.access_token';
export const API_PREFIX = '/api/v1';

export function getToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string): void {
  window.localStorage.setItem(TOKEN_KEY, token);
}

export function clearToken(): void {
  window.localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(status: number, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

type Envelope = {
  success?: boolean;
  data?: unknown;
  error?: { code?: string; message?: string; details?: Record<string, unknown> } | string;
  code?: string;
  details?: Record<string, unknown>;
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function loginPath(next: string): string {
  return `/login?next=${encodeURIComponent(next)}`;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  let response: Response;
  try {
    response = await fetch(API_PREFIX + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
  }

  let payload: Envelope | null = null;
  const text = await response.text();
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      payload = isRecord(parsed) ? (parsed as Envelope) : null;
    } catch {
      payload = null;
    }
  }

  if (response.ok && payload && payload.success !== false) return payload.data as T;

  const error = payload?.error;
  const code = isRecord(error) && typeof error.code === 'string' ? error.code : (payload?.code?.toLowerCase() ?? `http_${response.status}`);
  const message =
    isRecord(error) && typeof error.message === 'string'
      ? error.message
      : typeof error === 'string'
        ? error
        : `The server answered ${response.status} ${response.statusText}`.trim();
  const details = isRecord(error) && isRecord(error.details) ? error.details : isRecord(payload?.details) ? payload.details : undefined;

  // An expired or revoked token: start over at login and come back here afterwards.
  if (response.status === 401 && token && !path.startsWith('/auth/')) {
    clearToken();
    navigate(loginPath(window.location.pathname + window.location.search), { replace: true });
  }
  throw new ApiError(response.status, code, message, details);
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
