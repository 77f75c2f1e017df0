import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../db/test-database';
import { BOOTSTRAP_CATALOG, bootstrapAccount, bootstrapCounts } from './bootstrap';

describe('account bootstrap', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await startTestDatabase();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  async function newAccount(name: string): Promise<string> {
    const { rows } = await db.pool.query<{ id: string }>('INSERT INTO accounts (name) VALUES ($1) RETURNING id', [name]);
    return rows[0]!.id;
  }

  it('seeds 1 provider, 2 regions, 3 instance types and 7 templates, and stays there when run twice', async () => {
    const accountId = await newAccount('twice');
    await bootstrapAccount(db.pool, accountId);
    await bootstrapAccount(db.pool, accountId);
    expect(await bootstrapCounts(db.pool, accountId)).toEqual({ providers: 1, regions: 2, instance_types: 3, templates: 7 });
    const stamped = await db.pool.query('SELECT bootstrapped_at FROM accounts WHERE id = $1', [accountId]);
    expect(stamped.rows[0].bootstrapped_at).toBeInstanceOf(Date);
  });

  it('stores the contract prices and codes', async () => {
    const accountId = await newAccount('prices');
    await bootstrapAccount(db.pool, accountId);
    const { rows } = await db.pool.query(
      `SELECT instance_type_code, vcpus, memory_mb, hourly_price FROM system_provider_instance_types WHERE account_id = $1 ORDER BY hourly_price`,
      [accountId],
    );
    expect(rows).toEqual([
      { instance_type_code: 'vc2-1c-1gb', vcpus: 1, memory_mb: 1024, hourly_price: 0.007 },
      { instance_type_code: 'vc2-1c-2gb', vcpus: 1, memory_mb: 2048, hourly_price: 0.018 },
      { instance_type_code: 'vc2-2c-4gb', vcpus: 2, memory_mb: 4096, hourly_price: 0.036 },
    ]);
    const regions = await db.pool.query(`SELECT region_code FROM system_provider_regions WHERE account_id = $1 ORDER BY region_code`, [accountId]);
    expect(regions.rows.map((r) => r.region_code)).toEqual(['us-east-1', 'us-west-1']);
    expect(BOOTSTRAP_CATALOG.templates).toContain('arm64-uefi-base');
  });

  it('leaves one template out under the bootstrap_six_templates fault', async () => {
    const accountId = await newAccount('six');
    await bootstrapAccount(db.pool, accountId, { sixTemplates: true });
    expect((await bootstrapCounts(db.pool, accountId)).templates).toBe(6);
  });

  it('keeps accounts apart', async () => {
    const a = await newAccount('a');
    const b = await newAccount('b');
    await bootstrapAccount(db.pool, a);
    expect(await bootstrapCounts(db.pool, b)).toEqual({ providers: 0, regions: 0, instance_types: 0, templates: 0 });
  });
});
