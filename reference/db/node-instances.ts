/**
 * Where a NodeInstance keeps its Vultr id: the column `provider_instance_id` (CONTRACT 5), or under
 * the `cloud_id_in_config` variant `config->>'cloud_instance_id'` on rows that also need a
 * `node_id` (public Powernode; db/migrations/variants/cloud_id_in_config.sql). Every query that
 * reads or writes the Vultr id takes its SQL from here.
 */
import type { Variants } from '../lib/variants';

export type CloudIdSql = {
  /** An expression for a SELECT list or a WHERE clause. */
  read: string;
  /** The SET fragment that stores the Vultr id given as `param` (e.g. `$2`). */
  write(param: string): string;
  /** Columns (with a leading comma) an INSERT adds, and their values. */
  insertColumns: string;
  insertValues: string;
};

const COLUMN: CloudIdSql = {
  read: 'provider_instance_id',
  write: (param) => `provider_instance_id = ${param}`,
  insertColumns: '',
  insertValues: '',
};

const IN_CONFIG: CloudIdSql = {
  read: "(config->>'cloud_instance_id')",
  write: (param) => `config = config || jsonb_build_object('cloud_instance_id', ${param}::text)`,
  // A node of its own per instance: the reference has no separate node inventory.
  insertColumns: ', node_id',
  insertValues: ', gen_random_uuid()',
};

export function cloudIdSql(variants: Variants): CloudIdSql {
  return variants('cloud_id_in_config') ? IN_CONFIG : COLUMN;
}
