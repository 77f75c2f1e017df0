/**
 * The NodeInstance row the QuotaGuard negative path inserts (CONTRACT 5, CONTRACT 9
 * `cloud_id_in_config`). Public Powernode's `system_node_instances` also requires `node_id` (any
 * uuid will do for a row no node ever reads) and a jsonb `config`, where it keeps the Vultr id;
 * reading that id is NODE_INSTANCE_PROVIDER_ID_SQL's part.
 */
export type NodeInstanceInsert = {
  /** Columns after (account_id, name, status), and their SQL values. */
  extraColumns: string[];
  extraValues: string[];
};

export const NODE_INSTANCE_INSERTS = {
  runbook: { extraColumns: [], extraValues: [] },
  core: { extraColumns: ['node_id', 'config'], extraValues: ['gen_random_uuid()', "'{}'::jsonb"] },
} satisfies Record<string, NodeInstanceInsert>;

export type NodeInstanceInsertName = keyof typeof NODE_INSTANCE_INSERTS;
