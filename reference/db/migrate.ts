/**
 * SQL migrations (reference/db/migrations/NNNN_name.sql, applied in order, each in its own
 * transaction, recorded in schema_migrations) and the seeds the runbook's pre-flight relies on.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { encryptSecret } from '../lib/crypto';

const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');
/** Schema changes of variants (lib/variants.ts), one file per variant that has one. */
const VARIANT_MIGRATIONS_DIR = join(MIGRATIONS_DIR, 'variants');
/** How a variant's schema change is recorded in schema_migrations. */
export const VARIANT_VERSION_PREFIX = 'variant:';

export type Migration = { version: string; name: string; sql: string };

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: file.slice(0, 4),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
}

/** The variants whose schema change exists (db/migrations/variants/<name>.sql). */
export function variantMigrations(names: readonly string[], dir = VARIANT_MIGRATIONS_DIR): Migration[] {
  return names
    .filter((name) => existsSync(join(dir, `${name}.sql`)))
    .map((name) => ({ version: `${VARIANT_VERSION_PREFIX}${name}`, name, sql: readFileSync(join(dir, `${name}.sql`), 'utf8') }));
}

/** The variants whose schema change this database carries. */
export async function appliedVariantMigrations(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ version: string }>(
    `SELECT version FROM schema_migrations WHERE version LIKE $1 ORDER BY version`,
    [`${VARIANT_VERSION_PREFIX}%`],
  );
  return rows.map((r) => r.version.slice(VARIANT_VERSION_PREFIX.length));
}

/**
 * Applies every migration not yet recorded. `leavePending` names versions to hold back (the
 * self-test's "pending migration" fault). `variants` names variants whose schema change follows
 * the numbered migrations, on a new database only (one with no migration recorded yet): it
 * reshapes tables that must still be empty. Returns the versions applied now.
 */
export async function migrate(pool: pg.Pool, options: { leavePending?: string[]; variants?: readonly string[] } = {}): Promise<string[]> {
  const client = await pool.connect();
  try {
    // Two processes starting at once must not both apply a migration.
    await client.query('SELECT pg_advisory_lock(54329001)');
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version));
    const applied: string[] = [];
    const pending = [...listMigrations(), ...(done.size === 0 ? variantMigrations(options.variants ?? []) : [])];
    for (const m of pending) {
      if (done.has(m.version) || options.leavePending?.includes(m.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(m.sql);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${m.name} failed: ${(error as Error).message}`, { cause: error });
      }
      applied.push(m.version);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(54329001)').catch(() => undefined);
    client.release();
  }
}

export const PLAN_LIMITS = {
  free: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
  pro_cloud: { max_node_instances: 50, max_monthly_provisioning_usd: 500 },
} as const;

export type SeedOptions = {
  vultrApiKey: string;
  credentialsEncryptionKey: string;
  /** Self-test fault: plan rows written without the Slice C limit keys. */
  stalePlanLimits?: boolean;
  /** Self-test fault: the AI provider row written with its quota already used up. */
  aiQuotaExhausted?: boolean;
  /** Self-test fault: no platform-pool Vultr credential is registered. */
  platformCredentialMissing?: boolean;
  /** Self-test fault: the platform-pool credential is registered as failing (consecutive failures, a last error). */
  platformCredentialUnhealthy?: boolean;
};

/** What the `credential_unhealthy` fault seeds: a pool credential Vultr has been refusing. */
export const UNHEALTHY_CREDENTIAL = { consecutiveFailures: 5, lastError: 'Vultr answered 401: Invalid API token.' } as const;

/** The AI provider's seeded quota (messages); the brief capture consumes one per message. */
export const AI_QUOTA_LIMIT = 100_000;

/**
 * Find-or-create seeds: existing rows are never updated (the RUNBOOK pre-flight 2 hazard
 * depends on exactly this), so a re-seed is a no-op on a seeded database.
 */
export async function seed(pool: pg.Pool, options: SeedOptions): Promise<void> {
  const plans = [
    { slug: 'free', name: 'Free', price_cents: 0, lookup: 'free_monthly', limits: PLAN_LIMITS.free },
    { slug: 'pro_cloud', name: 'Pro Cloud', price_cents: 4900, lookup: 'pro_cloud_monthly', limits: PLAN_LIMITS.pro_cloud },
  ];
  for (const plan of plans) {
    const limits = options.stalePlanLimits ? {} : plan.limits;
    await pool.query(
      `INSERT INTO saas_plans (slug, name, price_cents, stripe_price_lookup_key, limits)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (slug) DO NOTHING`,
      [plan.slug, plan.name, plan.price_cents, plan.lookup, JSON.stringify(limits)],
    );
  }

  await pool.query(
    `INSERT INTO system_providers (account_id, name, provider_type, enabled)
     VALUES (NULL, 'Pro Cloud', 'pro_cloud', true) ON CONFLICT DO NOTHING`,
  );
  const provider = await pool.query<{ id: string }>(
    `SELECT id FROM system_providers WHERE account_id IS NULL AND provider_type = 'pro_cloud'`,
  );
  const providerId = provider.rows[0]?.id;
  if (!providerId) throw new Error('seed: the canonical Pro Cloud provider row is missing');

  const pool_credential = await pool.query('SELECT 1 FROM system_provider_credentials WHERE scope = 1 AND account_id IS NULL');
  if (pool_credential.rowCount === 0 && !options.platformCredentialMissing) {
    const unhealthy = options.platformCredentialUnhealthy ? UNHEALTHY_CREDENTIAL : { consecutiveFailures: 0, lastError: null };
    await pool.query(
      `INSERT INTO system_provider_credentials (account_id, provider_id, scope, credentials, key_last4, is_active, consecutive_failures, last_error)
       VALUES (NULL, $1, 1, $2, $3, true, $4, $5)`,
      [
        providerId,
        encryptSecret(options.vultrApiKey, options.credentialsEncryptionKey),
        options.vultrApiKey.slice(-4),
        unhealthy.consecutiveFailures,
        unhealthy.lastError,
      ],
    );
  }

  await pool.query(
    `INSERT INTO ai_providers (name, current_quota_usage, quota_limit) VALUES ('pro_cloud', $1, $2)
     ON CONFLICT (name) DO NOTHING`,
    [options.aiQuotaExhausted ? AI_QUOTA_LIMIT : 0, AI_QUOTA_LIMIT],
  );
}
