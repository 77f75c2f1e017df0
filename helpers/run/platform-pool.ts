/**
 * The negative path "platform pool disabled": the operator-managed Vultr credential (scope 1, no
 * account) is switched off in the DB for one test and switched back on in the fixture's teardown,
 * even when the test fails. Only the rows this switch turned off are turned back on.
 *
 * It is state the target shares with everyone who uses it, so:
 * - the change is recorded in the run state before it is made, and its undoing after, so that
 *   `npm run rollback` puts back what a killed run left off;
 * - while it is off, this process holds the pool's lock exclusively (a Postgres advisory lock on
 *   the target's database): approvals in other workers or shards hold it shared, and wait.
 */
import type { Queries } from '../clients/queries';
import { PLATFORM_POOL_LOCK, type Held, type Locks } from './approval-gate';
import type { SharedChange } from './state';

export type PlatformPoolDeps = {
  queries: Pick<Queries, 'platformPoolCredentials' | 'setCredentialsActive'>;
  locks: Locks;
  ledger: {
    recordSharedChange(change: SharedChange): void;
    recordSharedChangeUndone(change: Pick<SharedChange, 'kind' | 'credentialIds'>): void;
  };
};

export class PlatformPool {
  private disabledIds: string[] = [];
  private lock: Held | undefined;

  constructor(private readonly deps: PlatformPoolDeps) {}

  /** Disables every active platform-pool credential; returns how many there were. */
  async disable(): Promise<number> {
    this.lock ??= await this.deps.locks.exclusive(PLATFORM_POOL_LOCK);
    const active = (await this.deps.queries.platformPoolCredentials()).filter((c) => c.is_active).map((c) => c.id);
    if (active.length === 0) throw new Error('no active platform-pool credential to disable: pre-flight item 3 should have caught this');
    this.deps.ledger.recordSharedChange({ kind: 'platform_pool_disabled', credentialIds: active, at: new Date().toISOString() });
    this.disabledIds.push(...active.filter((id) => !this.disabledIds.includes(id)));
    await this.deps.queries.setCredentialsActive(active, false);
    return active.length;
  }

  /** Re-enables what `disable` turned off; safe to call when nothing was disabled. */
  async restore(): Promise<void> {
    try {
      if (this.disabledIds.length === 0) return;
      await restorePlatformPool(this.deps.queries, this.disabledIds);
      this.deps.ledger.recordSharedChangeUndone({ kind: 'platform_pool_disabled', credentialIds: this.disabledIds });
      this.disabledIds = [];
    } finally {
      await this.lock?.release();
      this.lock = undefined;
    }
  }
}

/** Switches these platform-pool credentials back on, and proves they are on. */
export async function restorePlatformPool(queries: Pick<Queries, 'platformPoolCredentials' | 'setCredentialsActive'>, ids: string[]): Promise<void> {
  await queries.setCredentialsActive(ids, true);
  const stillOff = (await queries.platformPoolCredentials()).filter((c) => ids.includes(c.id) && !c.is_active);
  if (stillOff.length > 0) throw new Error(`platform-pool credential(s) ${stillOff.map((c) => c.id).join(', ')} could not be re-enabled: enable them in Settings → Cloud Credentials`);
}
