import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AI_QUOTA_LIMIT, appliedVariantMigrations, listMigrations, migrate, seed, variantMigrations } from './migrate';
import { startTestDatabase, type TestDatabase } from './test-database';

describe('migrations and seeds', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await startTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('records one schema_migrations row per migration file', async () => {
    const rows = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.rows.map((r) => r.version)).toEqual(listMigrations().map((m) => m.version));
  });

  it('is a no-op when run again', async () => {
    expect(await migrate(db.pool)).toEqual([]);
  });

  it('applies a variant’s schema change to a new database only', async () => {
    expect(await migrate(db.pool, { variants: ['cloud_id_in_config'] })).toEqual([]);
    expect(await appliedVariantMigrations(db.pool)).toEqual([]);
    const columns = await db.pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'system_node_instances'`);
    expect(columns.rows.map((r) => r.column_name)).toContain('provider_instance_id');
    expect(variantMigrations(['cloud_id_in_config', 'route_core']).map((m) => m.version)).toEqual(['variant:cloud_id_in_config']);
  });

  it('seeds plans with find-or-create semantics: a stale row is left stale', async () => {
    await db.pool.query(`UPDATE saas_plans SET limits = '{}' WHERE slug = 'free'`);
    await seed(db.pool, { vultrApiKey: 'vk_other', credentialsEncryptionKey: 'test-key' });
    const free = await db.pool.query(`SELECT limits FROM saas_plans WHERE slug = 'free'`);
    expect(free.rows[0].limits).toEqual({});
    const pro = await db.pool.query(`SELECT limits, price_cents FROM saas_plans WHERE slug = 'pro_cloud'`);
    expect(pro.rows[0]).toEqual({ limits: { max_node_instances: 50, max_monthly_provisioning_usd: 500 }, price_cents: 4900 });
  });

  it('registers the platform-pool credential, except under the platform_credential_missing fault', async () => {
    const credentials = async () => (await db.pool.query('SELECT is_active FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL')).rows;
    expect(await credentials()).toEqual([{ is_active: true }]);
    await db.pool.query('DELETE FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL');
    await seed(db.pool, { vultrApiKey: 'vk_test_platform_pool', credentialsEncryptionKey: 'test-key', platformCredentialMissing: true });
    expect(await credentials()).toEqual([]);
    await seed(db.pool, { vultrApiKey: 'vk_test_platform_pool', credentialsEncryptionKey: 'test-key' });
    expect(await credentials()).toEqual([{ is_active: true }]);
  });

  it('registers the platform-pool credential as failing under the credential_unhealthy fault', async () => {
    const credentials = async () =>
      (await db.pool.query('SELECT consecutive_failures, last_error FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL')).rows;
    expect(await credentials()).toEqual([{ consecutive_failures: 0, last_error: null }]);
    await db.pool.query('DELETE FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL');
    await seed(db.pool, { vultrApiKey: 'vk_test_platform_pool', credentialsEncryptionKey: 'test-key', platformCredentialUnhealthy: true });
    expect(await credentials()).toEqual([{ consecutive_failures: 5, last_error: 'Vultr answered 401: Invalid API token.' }]);
    await db.pool.query('DELETE FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL');
    await seed(db.pool, { vultrApiKey: 'vk_test_platform_pool', credentialsEncryptionKey: 'test-key' });
  });

  it('seeds the AI provider with its quota unused, or used up under the ai_quota_exhausted fault (new rows only)', async () => {
    const quota = async () => (await db.pool.query(`SELECT current_quota_usage, quota_limit FROM ai_providers WHERE name = 'pro_cloud'`)).rows;
    expect(await quota()).toEqual([{ current_quota_usage: 0, quota_limit: AI_QUOTA_LIMIT }]);
    await seed(db.pool, { vultrApiKey: 'vk_other', credentialsEncryptionKey: 'test-key', aiQuotaExhausted: true });
    expect(await quota(), 'find-or-create: an existing row is left alone').toEqual([{ current_quota_usage: 0, quota_limit: AI_QUOTA_LIMIT }]);
    await db.pool.query(`DELETE FROM ai_providers WHERE name = 'pro_cloud'`);
    await seed(db.pool, { vultrApiKey: 'vk_other', credentialsEncryptionKey: 'test-key', aiQuotaExhausted: true });
    expect(await quota()).toEqual([{ current_quota_usage: AI_QUOTA_LIMIT, quota_limit: AI_QUOTA_LIMIT }]);
    await db.pool.query(`UPDATE ai_providers SET current_quota_usage = 0 WHERE name = 'pro_cloud'`);
  });

  it('stores the platform-pool key encrypted, never in plaintext', async () => {
    const rows = await db.pool.query(`SELECT credentials, key_last4, is_active FROM system_provider_credentials WHERE scope = 1`);
    expect(rows.rowCount).toBe(1);
    expect(rows.rows[0].credentials).not.toContain('vk_test_platform_pool');
    expect(rows.rows[0].key_last4).toBe('pool');
    expect(rows.rows[0].is_active).toBe(true);
  });
});
