import { describe, expect, it } from 'vitest';
import { PlatformPool } from './platform-pool';

function fakeQueries(initial: { id: string; is_active: boolean }[]) {
  const rows = initial.map((r) => ({ ...r, account_id: null, provider_id: 'p', scope: 1, consecutive_failures: 0, last_error: null }));
  return {
    rows,
    async platformPoolCredentials() {
      return rows.map((r) => ({ ...r }));
    },
    async setCredentialsActive(ids: string[], active: boolean) {
      for (const r of rows) if (ids.includes(r.id)) r.is_active = active;
      return ids.length;
    },
  };
}

describe('PlatformPool', () => {
  it('disables the active credentials and restores only those', async () => {
    const q = fakeQueries([
      { id: 'c1', is_active: true },
      { id: 'c2', is_active: false },
    ]);
    const pool = new PlatformPool(q);
    expect(await pool.disable()).toBe(1);
    expect(q.rows.map((r) => r.is_active)).toEqual([false, false]);
    await pool.restore();
    expect(q.rows.map((r) => r.is_active)).toEqual([true, false]);
  });

  it('restoring without disabling changes nothing', async () => {
    const q = fakeQueries([{ id: 'c1', is_active: false }]);
    await new PlatformPool(q).restore();
    expect(q.rows[0]?.is_active).toBe(false);
  });

  it('refuses to run the test without a credential to disable', async () => {
    await expect(new PlatformPool(fakeQueries([])).disable()).rejects.toThrow(/pre-flight item 3/);
  });
});
