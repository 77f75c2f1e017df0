import { describe, expect, it } from 'vitest';
import { createQueries, likeLiteral, missingSchemaItems, requiredSchema, type Queryable } from './queries';

describe('required schema', () => {
  it("uses the configured column for the Vultr id (a public Powernode keeps it in config->>'cloud_instance_id')", () => {
    expect(requiredSchema('provider_instance_id').system_node_instances).toContain('provider_instance_id');
    const publicCore = requiredSchema("config->>'cloud_instance_id'").system_node_instances;
    expect(publicCore).toContain('config');
    expect(publicCore).not.toContain('provider_instance_id');
  });

  it('names missing tables and columns as pending migrations', () => {
    const present = [
      { table_name: 'accounts', column_name: 'id' },
      { table_name: 'accounts', column_name: 'name' },
    ];
    expect(missingSchemaItems({ accounts: ['id', 'name', 'stripe_customer_id'], billing_provisioning_usage_records: ['id'] }, present)).toEqual([
      'column accounts.stripe_customer_id',
      'table billing_provisioning_usage_records',
    ]);
  });
});

describe('queries', () => {
  it('escapes LIKE wildcards', () => {
    expect(likeLiteral('e2e+run_1%x\\')).toBe('e2e+run\\_1\\%x\\\\');
  });

  it('selects the Vultr id through the configured expression and parses rows', async () => {
    const seen: string[] = [];
    const db: Queryable = {
      async query(text) {
        seen.push(text);
        return {
          rowCount: 1,
          rows: [{ id: 'n1', account_id: 'a1', mission_id: null, name: 'bot-1', status: 'running', provider_instance_id: 'v1', public_ip_address: null, created_at: new Date() }],
        };
      },
    };
    const rows = await createQueries(db, { providerIdSql: "config->>'cloud_instance_id'" }).nodeInstances(['a1']);
    expect(rows[0]?.provider_instance_id).toBe('v1');
    expect(seen[0]).toContain("(config->>'cloud_instance_id') AS provider_instance_id");
  });

  it('never selects the encrypted credentials column', async () => {
    const seen: string[] = [];
    const db: Queryable = {
      async query(text) {
        seen.push(text);
        return { rowCount: 0, rows: [] };
      },
    };
    const q = createQueries(db, { providerIdSql: 'provider_instance_id' });
    await q.platformPoolCredentials();
    await q.accountCredentials('a1');
    for (const text of seen) expect(text).not.toMatch(/\bcredentials\s*(,|FROM)/);
  });
});
