/**
 * Bearer-token authentication. Tokens are opaque; only their SHA-256 digest is stored, so a token
 * is checked by digest lookup. A token is only ever read from the Authorization header: URLs end up
 * in traces, logs and browser history. The event stream, which EventSource opens without headers,
 * takes a short-lived single-use stream ticket instead (stream-tickets.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { tokenDigest } from '../../lib/crypto';
import type { StreamTickets } from '../stream-tickets';
import { ApiError, unauthorized } from './errors';

export type AuthContext = { userId: string; accountId: string; email: string; name: string };

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

function headerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return null;
  return BEARER.exec(header)?.[1] ?? null;
}

export async function lookupToken(pool: pg.Pool, token: string): Promise<AuthContext | null> {
  if (token.length > 200) return null;
  const { rows } = await pool.query<{ user_id: string; account_id: string; email: string; name: string }>(
    `SELECT u.id AS user_id, u.account_id, u.email, u.name
       FROM access_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_digest = $1 AND t.expires_at > now()`,
    [tokenDigest(token)],
  );
  const row = rows[0];
  return row ? { userId: row.user_id, accountId: row.account_id, email: row.email, name: row.name } : null;
}

export function requireAuth(pool: pg.Pool) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = headerToken(request);
    if (!token) throw unauthorized();
    const auth = await lookupToken(pool, token);
    if (!auth) throw unauthorized();
    request.auth = auth;
  };
}

export function invalidStreamTicket(): ApiError {
  return new ApiError(401, 'invalid_stream_ticket', 'The stream ticket is unknown, expired, already used or for another mission');
}

/**
 * For `GET /ai/missions/:id/events`: a `?ticket=` for this mission (browsers), or else the
 * Authorization header (any other client). A ticket that is present but not good is a 401 even if
 * a header is sent too, so a page never silently streams under a different identity.
 */
export function requireStreamAuth(pool: pg.Pool, tickets: StreamTickets) {
  const bearer = requireAuth(pool);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const query = request.query as Record<string, unknown> | undefined;
    if (query && Object.hasOwn(query, 'ticket')) {
      const { id } = request.params as { id?: string };
      const auth = tickets.redeem(query.ticket, id ?? '');
      if (!auth) throw invalidStreamTicket();
      request.auth = auth;
      return;
    }
    await bearer(request, reply);
  };
}

/** The authenticated caller; routes reach this only behind requireAuth. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}
