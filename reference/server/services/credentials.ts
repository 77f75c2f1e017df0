/**
 * Cloud credentials as the settings page sees them: the account's own keys (writable) and the
 * platform pool's (read-only). A key is encrypted before it reaches the database and only its
 * last four characters ever come back.
 */
import type pg from 'pg';
import { encryptSecret } from '../../lib/crypto';
import { SCOPE_ACCOUNT, SCOPE_PLATFORM_POOL } from '../../rules/credentials';
import { ApiError, notFound } from '../http/errors';

export type CredentialView = {
  id: string;
  scope: 'account' | 'platform_pool';
  provider_type: string;
  key_last4: string;
  is_active: boolean;
  consecutive_failures: number;
  last_error: string | null;
};

type CredentialRow = Omit<CredentialView, 'scope'> & { scope: number };

const SELECT_VIEW = `SELECT c.id, c.scope, p.provider_type, c.key_last4, c.is_active, c.consecutive_failures, c.last_error
                       FROM system_provider_credentials c JOIN system_providers p ON p.id = c.provider_id`;

function view(row: CredentialRow): CredentialView {
  return { ...row, scope: row.scope === SCOPE_PLATFORM_POOL ? 'platform_pool' : 'account' };
}

export async function listCredentials(pool: pg.Pool, accountId: string): Promise<CredentialView[]> {
  const { rows } = await pool.query<CredentialRow>(
    `${SELECT_VIEW}
      WHERE (c.scope = ${SCOPE_ACCOUNT} AND c.account_id = $1) OR (c.scope = ${SCOPE_PLATFORM_POOL} AND c.account_id IS NULL)
      ORDER BY c.scope DESC, c.created_at`,
    [accountId],
  );
  return rows.map(view);
}

/** The account's bootstrap provider, or the canonical platform row when bootstrap never ran. */
async function providerFor(pool: pg.Pool, accountId: string, providerType: string): Promise<string> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM system_providers WHERE provider_type = $2 AND (account_id = $1 OR account_id IS NULL)
      ORDER BY account_id NULLS LAST LIMIT 1`,
    [accountId, providerType],
  );
  if (!rows[0]) throw new ApiError(422, 'provider_missing', `No ${providerType} provider is configured for this account`);
  return rows[0].id;
}

export async function createCredential(
  pool: pg.Pool,
  encryptionKey: string,
  accountId: string,
  input: { provider_type: string; api_key: string },
): Promise<CredentialView> {
  const apiKey = input.api_key.trim();
  const providerId = await providerFor(pool, accountId, input.provider_type);
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO system_provider_credentials (account_id, provider_id, scope, credentials, key_last4, is_active)
     VALUES ($1, $2, ${SCOPE_ACCOUNT}, $3, $4, true) RETURNING id`,
    [accountId, providerId, encryptSecret(apiKey, encryptionKey), apiKey.slice(-4)],
  );
  return getCredential(pool, accountId, rows[0]!.id);
}

async function getCredential(pool: pg.Pool, accountId: string, id: string): Promise<CredentialView> {
  const { rows } = await pool.query<CredentialRow>(`${SELECT_VIEW} WHERE c.id = $1 AND c.account_id = $2 AND c.scope = ${SCOPE_ACCOUNT}`, [
    id,
    accountId,
  ]);
  if (!rows[0]) throw notFound('The credential');
  return view(rows[0]);
}

/** Only account-scoped rows are writable; the platform pool answers 404 like any foreign id. */
export async function setCredentialActive(pool: pg.Pool, accountId: string, id: string, isActive: boolean): Promise<CredentialView> {
  const { rowCount } = await pool.query(
    `UPDATE system_provider_credentials SET is_active = $3, updated_at = now() WHERE id = $1 AND account_id = $2 AND scope = ${SCOPE_ACCOUNT}`,
    [id, accountId, isActive],
  );
  if (rowCount === 0) throw notFound('The credential');
  return getCredential(pool, accountId, id);
}
