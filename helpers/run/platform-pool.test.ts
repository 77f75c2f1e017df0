import { describe, expect, it } from 'vitest';
import type { Held, Locks } from './approval-gate';
import { PlatformPool } from './platform-pool';
import type { SharedChange } from './state';

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

function deps(initial: { id: string; is_active: boolean }[]) {
  const queries = fakeQueries(initial);
  const events: string[] = [];
  const held: Held = { release: async () => void events.push('unlock') };
  const locks: Locks = {
    exclusive: async (name) => {
      events.push(`lock ${name}`);
      return held;
    },
    shared: async () => held,
  };
  const ledger = {
    recordSharedChange: (change: SharedChange) => {
      // Recorded before the change: the credentials are still on when the ledger hears of it.
      events.push(`made ${change.credentialIds.join(',')} while ${queries.rows.map((r) => (r.is_active ? 'on' : 'off')).join(',')}`);
    },
    recordSharedChangeUndone: (change: Pick<SharedChange, 'credentialIds'>) => void events.push(`undone ${change.credentialIds.join(',')}`),
  };
  return { queries, events, deps: { queries, locks, ledger } };
}

describe('PlatformPool', () => {
  it('disables the active credentials and restores only those', async () => {
    const d = deps([
      { id: 'c1', is_active: true },
      { id: 'c2', is_active: false },
    ]);
    const pool = new PlatformPool(d.deps);
    expect(await pool.disable()).toBe(1);
    expect(d.queries.rows.map((r) => r.is_active)).toEqual([false, false]);
    await pool.restore();
    expect(d.queries.rows.map((r) => r.is_active)).toEqual([true, false]);
  });

  it('takes the pool lock, records the change before making it, and its undoing after, then unlocks', async () => {
    const d = deps([{ id: 'c1', is_active: true }]);
    const pool = new PlatformPool(d.deps);
    await pool.disable();
    await pool.restore();
    expect(d.events).toEqual(['lock m1-e2e:platform-pool', 'made c1 while on', 'undone c1', 'unlock']);
  });

  it('restoring without disabling changes nothing', async () => {
    const d = deps([{ id: 'c1', is_active: false }]);
    await new PlatformPool(d.deps).restore();
    expect(d.queries.rows[0]?.is_active).toBe(false);
  });

  it('refuses to run the test without a credential to disable, and still unlocks on restore', async () => {
    const d = deps([]);
    const pool = new PlatformPool(d.deps);
    await expect(pool.disable()).rejects.toThrow(/pre-flight item 3/);
    await pool.restore();
    expect(d.events).toEqual(['lock m1-e2e:platform-pool', 'unlock']);
  });
});
