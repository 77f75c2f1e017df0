/**
 * Bearer-token authentication. Tokens are opaque; only their SHA-256 digest is stored, so a token
 * is checked by digest lookup. The query-string form exists for EventSource, which cannot send
 * headers, and is accepted only where a route opts in.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { tokenDigest } from '../../lib/crypto';
import { unauthorized } from './errors';

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

function queryToken(request: FastifyRequest): string | null {
  const query = request.url.split('?')[1];
  if (!query) return null;
  const value = new URLSearchParams(query).get('access_token');
  return value || null;
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

export function requireAuth(pool: pg.Pool, options: { allowQueryToken?: boolean } = {}) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    const token = headerToken(request) ?? (options.allowQueryToken ? queryToken(request) : null);
    if (!token) throw unauthorized();
    const auth = await lookupToken(pool, token);
    if (!auth) throw unauthorized();
    request.auth = auth;
  };
}

/** The authenticated caller; routes reach this only behind requireAuth. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw unauthorized();
  return request.auth;
}
