/**
 * What Vultr holds for the suite's accounts. An account's instances are found two ways, as the
 * RUNBOOK Rollback does: through the NodeInstances' provider ids, and through the tag
 * `account:<id>` the stack puts on everything it creates (which also finds an instance whose row
 * was never written). "No cloud call" is read from the emulator's journal on the local target, and
 * from the account's instance count at Vultr elsewhere.
 *
 * A count of zero proves absence only when the count could have seen the thing: so every absence
 * check first proves that the stack tags what it creates (tagProblem, taggingProof).
 *
 * The suite may hold keys of two Vultr accounts (helpers/clients/vultr.ts, vultrAccounts): the
 * platform pool's, which the funnel and most negative paths provision through, and the
 * account-isolation test's. Counts of what the run holds ask both; a question about one account
 * goes through `under(key)`.
 */
import type { Config } from '../config';
import type { Queries } from '../clients/queries';
import type { JournalEntry, NodeInstanceRow, VultrInstance } from '../schemas';
import { accountTag, TAG_LISTINGS_UP_TO, type VultrAccountClient, type VultrClient, type VultrJournal, type VultrKeyName } from '../clients/vultr';

/**
 * What the stack left at Vultr for an account: its instances (by tag and by its rows) and, where
 * the emulator journal is there, its create calls since a moment; null elsewhere.
 */
export type Footprint = { instances: VultrInstance[]; createCalls: JournalEntry[] | null };

/** What is wrong with a footprint that should hold `instances` instances and no create call. */
export function footprintProblem(footprint: Footprint, instances: number): string | null {
  const problems: string[] = [];
  if (footprint.instances.length !== instances) {
    problems.push(`${footprint.instances.length} instance(s) at Vultr for the account (${footprint.instances.map((i) => i.id).join(', ') || 'none'}), expected ${instances}`);
  }
  if (footprint.createCalls && footprint.createCalls.length > 0) {
    const calls = footprint.createCalls.map((c) => `${c.status} at ${c.time} [${c.tags?.join(', ') ?? 'no tags kept'}]`);
    problems.push(`${calls.length} create call(s) the emulator journal attributes to the account: ${calls.join('; ')}`);
  }
  return problems.length > 0 ? problems.join('; ') : null;
}

/** How a negative path knows its count by tag can see an instance: what was checked, and what was wrong. */
export type TaggingProof = { problem: string | null; how: string };

/** Who a key's Vultr account is, as GET /account says (nothing secret). */
export type VultrAccountProfile = { name: string; email: string };

/** One Vultr account, through its key: what the account-isolation test asks of each. */
export class VultrAccountView {
  constructor(
    readonly key: VultrKeyName,
    private readonly client: VultrClient,
  ) {}

  /** GET /account: throws when Vultr refuses the key. */
  async profile(): Promise<VultrAccountProfile> {
    const account = await this.client.account();
    const text = (value: unknown) => (typeof value === 'string' ? value : '');
    return { name: text(account.name), email: text(account.email) };
  }

  /** The instance, or null when this account answers 404 for it. */
  instance(id: string): Promise<VultrInstance | null> {
    return this.client.instance(id);
  }

  /** This account's instances carrying the suite account's tag. */
  tagged(accountId: string): Promise<VultrInstance[]> {
    return this.client.instancesByTag(accountTag(accountId));
  }

  /**
   * Presence first, before "this account does not hold the instance": why this key's 404 and
   * empty tag listing would prove nothing, or null when they prove the absence. They do when the
   * key opens a Vultr account (GET /account answers) other than the one that holds the instance,
   * its listing answers, and the instance carries the tag that listing filters by.
   */
  async sightProof(instance: VultrInstance, accountId: string, holder: VultrAccountProfile): Promise<TaggingProof> {
    const own = await this.profile();
    const listed = await this.client.allInstances();
    const tag = accountTag(accountId);
    const how =
      `${this.key} opens the Vultr account ${own.email} (GET /account), whose listing answers (${listed.length} instance(s)); ` +
      `the instance ${instance.id} carries ${tag}, which the tag listing filters by`;
    if (own.email === holder.email) return { problem: `${this.key} opens the very account that holds the instance (${holder.email}): its 404 could not happen`, how };
    if (!instance.tags.includes(tag)) {
      return { problem: `the instance ${instance.id} does not carry ${tag} (its tags: ${instance.tags.join(', ') || 'none'}), so an empty tag listing proves nothing`, how };
    }
    return { problem: null, how };
  }
}

export class Cloud {
  private readonly vultr: VultrClient;

  constructor(
    private readonly accounts: readonly VultrAccountClient[],
    private readonly journal: VultrJournal,
    private readonly queries: Queries,
    private readonly config: Pick<Config, 'isLocalTarget'>,
  ) {
    const pool = accounts.find((a) => a.key === 'VULTR_API_KEY');
    if (!pool) throw new Error('Cloud needs the platform pool\'s Vultr client (VULTR_API_KEY)');
    this.vultr = pool.client;
  }

  /** One Vultr account, by the variable of its key; throws when the suite holds no such key. */
  under(key: VultrKeyName): VultrAccountView {
    const account = this.accounts.find((a) => a.key === key);
    if (!account) throw new Error(`${key} is not set: the suite holds no key of that Vultr account`);
    return new VultrAccountView(key, account.client);
  }

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
   * The ids of the instances carrying one of these accounts' tags, in every Vultr account the
   * suite holds a key for (the instance cap counts what exists: a VM made with the isolation key
   * lives only in its account): one listing per tag for a few accounts, one listing of each Vultr
   * account for more (Vultr allows 30 requests a second).
   */
  async taggedInstanceIds(accountIds: string[]): Promise<string[]> {
    const ids = await Promise.all(this.accounts.map(({ client }) => taggedIn(client, accountIds)));
    return [...new Set(ids.flat())];
  }

  /**
   * Presence first: why a count by `account:<id>` would see nothing of what the stack created for
   * the account, judged on one of its instances; null when the instance carries the tag.
   */
  async tagProblem(providerInstanceId: string, accountId: string): Promise<string | null> {
    const instance = await this.vultr.instance(providerInstanceId);
    if (!instance) return `Vultr has no instance ${providerInstanceId}, so its tags cannot show that the stack tags what it creates`;
    const tag = accountTag(accountId);
    return instance.tags.includes(tag)
      ? null
      : `the Vultr instance ${providerInstanceId} does not carry the tag ${tag} (its tags: ${instance.tags.join(', ') || 'none'}): ` +
          'the stack does not tag what it creates, so a count of the account\'s instances by that tag would see none and prove nothing';
  }

  /**
   * For a negative path, which has no instance of its own to look at: the tags of an instance the
   * run created (the newest still at Vultr), else, on the local target, the emulator journal,
   * which keeps the tags each create call asked for and counts a call without an account tag as
   * this account's. Against a remote target with no instance of the run yet, tagging stays
   * unproven, which `how` says; the counts there also go through the NodeInstance rows.
   *
   * A path where the stack tried a create for the account (and Vultr refused it) proves tagging
   * with that very call, on the local target: `attempt` names the account and since when.
   */
  async taggingProof(runInstances: NodeInstanceRow[], attempt?: { accountId: string; since: Date }): Promise<TaggingProof> {
    if (attempt && this.config.isLocalTarget) {
      const tag = accountTag(attempt.accountId);
      const calls = await this.journal.instanceCreations(attempt.since, tag);
      if (calls.some((e) => e.tags?.includes(tag))) return { problem: null, how: `the create call the stack attempted for the account asked for ${tag}` };
      if (calls.length > 0) {
        const asked = calls.map((e) => (e.tags ? `[${e.tags.join(', ')}]` : 'no tags kept')).join('; ');
        return { problem: `the stack's create calls since the approve did not ask for the tag ${tag} (they asked for ${asked})`, how: 'the emulator journal' };
      }
    }
    for (const row of runInstances) {
      if (!row.provider_instance_id) continue;
      const problem = await this.tagProblem(row.provider_instance_id, row.account_id);
      if (problem?.startsWith('Vultr has no instance')) continue;
      return { problem, how: `the tags of ${row.name} (Vultr ${row.provider_instance_id}), an instance this run created` };
    }
    if (this.config.isLocalTarget) return { problem: null, how: 'the emulator journal: a create call that asks for no account tag counts as this account\'s' };
    return { problem: null, how: 'unproven: no instance of this run at Vultr yet and no emulator journal; the count also reads the NodeInstance rows' };
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

  /** The account's footprint at Vultr (see Footprint); `acceptedOnly` leaves out create calls Vultr refused. */
  async footprint(accountId: string, since: Date, options: { acceptedOnly?: boolean } = {}): Promise<Footprint> {
    const instances = await this.instancesOfAccount(accountId);
    return { instances, createCalls: this.config.isLocalTarget ? await this.journalCreations(since, accountId, options.acceptedOnly ?? false) : null };
  }

  private async journalCreations(since: Date, accountId: string, acceptedOnly: boolean): Promise<JournalEntry[]> {
    const calls = await this.journal.instanceCreations(since, accountTag(accountId));
    // A refused call (401, 400) created nothing; a negative path that expects one counts only the accepted.
    return acceptedOnly ? calls.filter((e) => e.status >= 200 && e.status < 300) : calls;
  }
}

async function taggedIn(vultr: VultrClient, accountIds: string[]): Promise<string[]> {
  if (accountIds.length <= TAG_LISTINGS_UP_TO) {
    const lists = await Promise.all(accountIds.map((id) => vultr.instancesByTag(accountTag(id))));
    return lists.flat().map((i) => i.id);
  }
  const tags = new Set(accountIds.map(accountTag));
  return (await vultr.allInstances()).filter((i) => i.tags.some((tag) => tags.has(tag))).map((i) => i.id);
}
