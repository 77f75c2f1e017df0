/**
 * The negative path "platform pool disabled": the operator-managed Vultr credential (scope 1, no
 * account) is switched off in the DB for one test and switched back on in the fixture's teardown,
 * even when the test fails. Only the rows this switch turned off are turned back on.
 */
import type { Queries } from '../clients/queries';

export class PlatformPool {
  private disabledIds: string[] = [];

  constructor(private readonly queries: Pick<Queries, 'platformPoolCredentials' | 'setCredentialsActive'>) {}

  /** Disables every active platform-pool credential; returns how many there were. */
  async disable(): Promise<number> {
    const active = (await this.queries.platformPoolCredentials()).filter((c) => c.is_active).map((c) => c.id);
    if (active.length === 0) throw new Error('no active platform-pool credential to disable: pre-flight item 3 should have caught this');
    this.disabledIds.push(...active.filter((id) => !this.disabledIds.includes(id)));
    await this.queries.setCredentialsActive(active, false);
    return active.length;
  }

  /** Re-enables what `disable` turned off; safe to call when nothing was disabled. */
  async restore(): Promise<void> {
    if (this.disabledIds.length === 0) return;
    await this.queries.setCredentialsActive(this.disabledIds, true);
    const stillOff = (await this.queries.platformPoolCredentials()).filter((c) => this.disabledIds.includes(c.id) && !c.is_active);
    if (stillOff.length > 0) throw new Error(`platform-pool credential(s) ${stillOff.map((c) => c.id).join(', ')} could not be re-enabled: enable them in Settings → Cloud Credentials`);
    this.disabledIds = [];
  }
}
