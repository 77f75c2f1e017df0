/**
 * Account bootstrap (CONTRACT 6.2): every new account gets its own Pro Cloud provider with the
 * regions, instance types and node templates the provisioning chat plans against. Runs after the
 * account row commits; idempotent through the unique indexes, so a retry or a second call adds
 * nothing.
 */

export type RegionSpec = { name: string; region_code: string };
export type InstanceTypeSpec = {
  name: string;
  instance_type_code: string;
  vcpus: number;
  memory_mb: number;
  hourly_price: number;
};
export type Catalog = { regions: RegionSpec[]; instanceTypes: InstanceTypeSpec[]; templates: string[] };

export const BOOTSTRAP_PROVIDER = { name: 'Pro Cloud', provider_type: 'pro_cloud' } as const;

export const BOOTSTRAP_REGIONS: readonly RegionSpec[] = [
  { name: 'us-east', region_code: 'us-east-1' },
  { name: 'us-west', region_code: 'us-west-1' },
];

export const BOOTSTRAP_INSTANCE_TYPES: readonly InstanceTypeSpec[] = [
  { name: 'tiny', instance_type_code: 'vc2-1c-1gb', vcpus: 1, memory_mb: 1024, hourly_price: 0.007 },
  { name: 'small', instance_type_code: 'vc2-1c-2gb', vcpus: 1, memory_mb: 2048, hourly_price: 0.018 },
  { name: 'medium', instance_type_code: 'vc2-2c-4gb', vcpus: 2, memory_mb: 4096, hourly_price: 0.036 },
];

export const BOOTSTRAP_TEMPLATES: readonly string[] = [
  'base',
  'hardened',
  'web-apache',
  'web-nginx',
  'rpi4-base',
  'rpi4-hardened',
  'arm64-uefi-base',
];

/** The catalog a freshly bootstrapped account has; also the planner's fallback. */
export const BOOTSTRAP_CATALOG: Catalog = {
  regions: [...BOOTSTRAP_REGIONS],
  instanceTypes: [...BOOTSTRAP_INSTANCE_TYPES],
  templates: [...BOOTSTRAP_TEMPLATES],
};

export type BootstrapOptions = {
  /** Self-test fault `bootstrap_six_templates`: the last template is dropped. */
  sixTemplates?: boolean;
};

type Queryable = { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

export type BootstrapCounts = { providers: number; regions: number; instance_types: number; templates: number };

/**
 * Seeds the account's catalog. Safe to run any number of times: each insert is
 * ON CONFLICT DO NOTHING against the per-account unique indexes.
 */
export async function bootstrapAccount(db: Queryable, accountId: string, options: BootstrapOptions = {}): Promise<void> {
  await db.query(
    `INSERT INTO system_providers (account_id, name, provider_type, enabled)
     VALUES ($1, $2, $3, true) ON CONFLICT DO NOTHING`,
    [accountId, BOOTSTRAP_PROVIDER.name, BOOTSTRAP_PROVIDER.provider_type],
  );
  const provider = await db.query(`SELECT id FROM system_providers WHERE account_id = $1 AND provider_type = $2`, [
    accountId,
    BOOTSTRAP_PROVIDER.provider_type,
  ]);
  const providerId = provider.rows[0]?.id;
  if (typeof providerId !== 'string') throw new Error(`bootstrap: no ${BOOTSTRAP_PROVIDER.provider_type} provider for account ${accountId}`);

  for (const region of BOOTSTRAP_REGIONS) {
    await db.query(
      `INSERT INTO system_provider_regions (account_id, provider_id, name, region_code)
       VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, region_code) DO NOTHING`,
      [accountId, providerId, region.name, region.region_code],
    );
  }
  for (const type of BOOTSTRAP_INSTANCE_TYPES) {
    await db.query(
      `INSERT INTO system_provider_instance_types (account_id, provider_id, name, instance_type_code, vcpus, memory_mb, hourly_price)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_id, instance_type_code) DO NOTHING`,
      [accountId, providerId, type.name, type.instance_type_code, type.vcpus, type.memory_mb, type.hourly_price],
    );
  }
  const templates = options.sixTemplates ? BOOTSTRAP_TEMPLATES.slice(0, 6) : BOOTSTRAP_TEMPLATES;
  for (const template of templates) {
    await db.query(
      `INSERT INTO system_node_templates (account_id, name) VALUES ($1, $2) ON CONFLICT (account_id, name) DO NOTHING`,
      [accountId, template],
    );
  }
  await db.query(`UPDATE accounts SET bootstrapped_at = COALESCE(bootstrapped_at, now()), updated_at = now() WHERE id = $1`, [
    accountId,
  ]);
}

/** RUNBOOK step 1's check, as CONTRACT 5 words it (count(*) WHERE account_id = $1). */
export async function bootstrapCounts(db: Queryable, accountId: string): Promise<BootstrapCounts> {
  const { rows } = await db.query(
    `SELECT (SELECT count(*) FROM system_providers WHERE account_id = $1)::int AS providers,
            (SELECT count(*) FROM system_provider_regions WHERE account_id = $1)::int AS regions,
            (SELECT count(*) FROM system_provider_instance_types WHERE account_id = $1)::int AS instance_types,
            (SELECT count(*) FROM system_node_templates WHERE account_id = $1)::int AS templates`,
    [accountId],
  );
  return rows[0] as BootstrapCounts;
}
