import { BOOTSTRAP_CATALOG, type Catalog, type InstanceTypeSpec, type RegionSpec } from '../../rules/bootstrap';
import type { Db } from './db';

/** The account's own catalog; the bootstrap defaults when the account was never bootstrapped. */
export async function loadCatalog(db: Db, accountId: string): Promise<Catalog> {
  // Sequential on purpose: `db` may be a single transaction client.
  const regions = await db.query<RegionSpec>(`SELECT name, region_code FROM system_provider_regions WHERE account_id = $1 ORDER BY region_code`, [
    accountId,
  ]);
  const types = await db.query<InstanceTypeSpec>(
    `SELECT name, instance_type_code, vcpus, memory_mb, hourly_price FROM system_provider_instance_types WHERE account_id = $1 ORDER BY hourly_price`,
    [accountId],
  );
  const templates = await db.query<{ name: string }>(`SELECT name FROM system_node_templates WHERE account_id = $1 ORDER BY name`, [accountId]);
  if (types.rows.length === 0) return BOOTSTRAP_CATALOG;
  return {
    regions: regions.rows.length > 0 ? regions.rows : BOOTSTRAP_CATALOG.regions,
    instanceTypes: types.rows,
    templates: templates.rows.length > 0 ? templates.rows.map((t) => t.name) : BOOTSTRAP_CATALOG.templates,
  };
}
