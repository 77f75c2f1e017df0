import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptSecret } from '../lib/crypto';
import { startTestDatabase, type TestDatabase } from '../db/test-database';
import { bootstrapAccount } from './bootstrap';
import { chooseCredential, resolveCredential, type CredentialCandidate } from './credentials';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-02-01T00:00:00Z');

function candidate(id: string, over: Partial<CredentialCandidate>): CredentialCandidate {
  return { id, scope: 0, account_id: 'acc', is_active: true, created_at: t0, ...over };
}

describe('credential chooser', () => {
  const pool = candidate('pool', { scope: 1, account_id: null });

  it('prefers the account-scoped active key', () => {
    expect(chooseCredential([pool, candidate('own', {})], 'acc')).toEqual({ id: 'own', scope: 'account' });
  });

  it('falls back to the platform pool when the account key is disabled', () => {
    expect(chooseCredential([pool, candidate('own', { is_active: false })], 'acc')).toEqual({ id: 'pool', scope: 'platform_pool' });
  });

  it('answers null when nothing is active', () => {
    expect(chooseCredential([{ ...pool, is_active: false }], 'acc')).toBeNull();
    expect(chooseCredential([], 'acc')).toBeNull();
  });

  it('never picks another account’s key, and picks the newest of several', () => {
    expect(chooseCredential([candidate('theirs', { account_id: 'other' })], 'acc')).toBeNull();
    expect(chooseCredential([candidate('old', {}), candidate('new', { created_at: t1 })], 'acc')?.id).toBe('new');
  });
});

describe('credential resolution against the database', () => {
  let db: TestDatabase;
  let accountId: string;
  beforeAll(async () => {
    db = await startTestDatabase();
    accountId = (await db.pool.query<{ id: string }>(`INSERT INTO accounts (name) VALUES ('creds') RETURNING id`)).rows[0]!.id;
    await bootstrapAccount(db.pool, accountId);
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('walks account → platform pool → none', async () => {
    const poolId = (await db.pool.query<{ id: string }>('SELECT id FROM system_provider_credentials WHERE scope = 1')).rows[0]!.id;
    expect(await resolveCredential(db.pool, accountId)).toEqual({ id: poolId, scope: 'platform_pool' });

    const provider = (await db.pool.query<{ id: string }>('SELECT id FROM system_providers WHERE account_id = $1', [accountId])).rows[0]!.id;
    const own = await db.pool.query<{ id: string }>(
      `INSERT INTO system_provider_credentials (account_id, provider_id, scope, credentials, key_last4) VALUES ($1, $2, 0, $3, 'abcd') RETURNING id`,
      [accountId, provider, encryptSecret('VULTRKEYabcd', 'k')],
    );
    expect(await resolveCredential(db.pool, accountId)).toEqual({ id: own.rows[0]!.id, scope: 'account' });

    await db.pool.query('UPDATE system_provider_credentials SET is_active = false');
    expect(await resolveCredential(db.pool, accountId)).toBeNull();
  });
});
