/**
 * What Vultr holds for the suite's accounts. An account's instances are found two ways, as the
 * RUNBOOK Rollback does: through the NodeInstances' provider ids, and through the tag
 * `account:<id>` the stack puts on everything it creates (which also finds an instance whose row
 * was never written). "No cloud call" is read from the emulator's journal on the local target, and
 * from the account's instance count at Vultr elsewhere.
 */
import type { Config } from '../config';
import type { Queries } from '../clients/queries';
import type { VultrInstance } from '../schemas';
import { accountTag, type VultrClient, type VultrJournal } from '../clients/vultr';

export type CreationEvidence = { count: number; source: 'emulator journal' | 'account instances at Vultr'; entries: unknown[] };

export class Cloud {
  constructor(
    private readonly vultr: VultrClient,
    private readonly journal: VultrJournal,
    private readonly queries: Queries,
    private readonly config: Pick<Config, 'isLocalTarget'>,
  ) {}

  /** Answers only when Vultr accepts VULTR_API_KEY (GET /account); used by pre-flight to prove the key. */
  async probe(): Promise<void> {
    await this.vultr.account();
  }

  /** The instance behind a NodeInstance's provider id; throws when Vultr does not know it. */
  async instance(providerInstanceId: string): Promise<VultrInstance> {
    const instance = await this.vultr.instance(providerInstanceId);
    if (!instance) throw new Error(`Vultr has no instance ${providerInstanceId}`);
    return instance;
  }

  /**
   * The ids of the instances carrying one of these accounts' tags: one listing per tag for a few
   * accounts, one listing of the Vultr account for more (Vultr allows 30 requests a second).
   */
  async taggedInstanceIds(accountIds: string[]): Promise<string[]> {
    if (accountIds.length <= 3) {
      const lists = await Promise.all(accountIds.map((id) => this.vultr.instancesByTag(accountTag(id))));
      return lists.flat().map((i) => i.id);
    }
    const tags = new Set(accountIds.map(accountTag));
    return (await this.vultr.allInstances()).filter((i) => i.tags.some((tag) => tags.has(tag))).map((i) => i.id);
  }

  /** Every instance Vultr holds for the account, by tag and by the account's NodeInstance rows. */
  async instancesOfAccount(accountId: string): Promise<VultrInstance[]> {
    const byId = new Map<string, VultrInstance>();
    for (const instance of await this.vultr.instancesByTag(accountTag(accountId))) byId.set(instance.id, instance);
    for (const row of await this.queries.nodeInstances([accountId])) {
      if (!row.provider_instance_id || byId.has(row.provider_instance_id)) continue;
      const instance = await this.vultr.instance(row.provider_instance_id);
      if (instance) byId.set(instance.id, instance);
    }
    return [...byId.values()];
  }

  /**
   * Instance creations for the account since a moment: every `POST /v2/instances` the emulator saw
   * since then asking for the account's tag, or not attributable to any account (local), else the
   * account's instances at Vultr (a real Vultr has no journal).
   */
  async instanceCreationsSince(since: Date, accountId: string): Promise<CreationEvidence> {
    if (this.config.isLocalTarget) {
      const entries = await this.journal.instanceCreations(since, accountTag(accountId));
      return { count: entries.length, source: 'emulator journal', entries };
    }
    const instances = await this.instancesOfAccount(accountId);
    return { count: instances.length, source: 'account instances at Vultr', entries: instances };
  }
}
