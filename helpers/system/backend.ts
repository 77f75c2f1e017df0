/**
 * Runbook-level reads of the backend's state, for specs: each method answers one question a step
 * asks ("what did bootstrap create?", "is the instance running yet?"). Probes used with expect.poll
 * throw at once on a terminal failure (an instance in `error`) instead of waiting out the timeout.
 */
import { pollable } from '../clients/http';
import { runEmailPattern } from '../run/identity-emails';
import type { Queries } from '../clients/queries';
import { NODE_INSTANCE_FAILURES } from '../runbook';
import type { AccountRow, MissionRow, NodeInstanceRow } from '../schemas';

export class Backend {
  constructor(
    private readonly queries: Queries,
    private readonly domain: string,
  ) {}

  /** The accounts of one run's identities, optionally of one label (e.g. the funnel's). */
  accountsOfRun(runId: string, label?: string) {
    return this.queries.accountsByEmailPattern(runEmailPattern(runId, this.domain, label));
  }

  /** The account behind an identity's e-mail; throws when sign-up never created one. */
  async accountOf(email: string): Promise<AccountRow> {
    const user = await this.queries.userByEmail(email);
    const account = user ? await this.queries.account(user.account_id) : null;
    if (!account) throw new Error(`no account exists for ${email}: sign-up did not create one`);
    return account;
  }

  async account(accountId: string): Promise<AccountRow> {
    const account = await this.queries.account(accountId);
    if (!account) throw new Error(`account ${accountId} does not exist`);
    return account;
  }

  async stripeCustomerId(accountId: string): Promise<string | null> {
    return (await this.account(accountId)).stripe_customer_id;
  }

  bootstrapCounts(accountId: string) {
    return this.queries.bootstrapCounts(accountId);
  }

  subscriptions(accountId: string) {
    return this.queries.subscriptions(accountId);
  }

  /** The status of the account's latest subscription, or null when it has none. */
  async subscriptionStatus(accountId: string): Promise<string | null> {
    const rows = await this.queries.subscriptions(accountId);
    return rows.at(-1)?.status ?? null;
  }

  async activeSubscriptionCount(accountId: string): Promise<number> {
    return (await this.queries.subscriptions(accountId)).filter((s) => s.status === 'active').length;
  }

  /** The account's newest mission not among `known` (earlier missions), or null until one exists. */
  async newMission(accountId: string, known: string[] = []): Promise<MissionRow | null> {
    const missions = await this.queries.missions(accountId);
    return missions.filter((m) => !known.includes(m.id)).at(-1) ?? null;
  }

  nodeInstances(accountId: string): Promise<NodeInstanceRow[]> {
    return this.queries.nodeInstances([accountId]);
  }

  usageRecords(accountId: string) {
    return this.queries.usageRecords([accountId]);
  }

  accountCredentials(accountId: string) {
    return this.queries.accountCredentials(accountId);
  }

  /**
   * Probe for runbook step 4: the status of the account's NodeInstance(s), e.g. "running"; null
   * before the worker has created one. Throws as soon as one has failed, so the poll stops there.
   */
  async provisioningStatus(accountId: string): Promise<string | null> {
    const rows = await pollable(() => this.queries.nodeInstances([accountId]));
    if (typeof rows === 'string') return rows;
    const failed = rows.find((r) => (NODE_INSTANCE_FAILURES as readonly string[]).includes(r.status));
    if (failed) throw new Error(`NodeInstance ${failed.id} (${failed.name}) is ${failed.status}: provisioning failed; see the worker log`);
    if (rows.length === 0) return null;
    return rows.map((r) => r.status).join(', ');
  }

  /** QuotaGuard negative path: the free account now has one active instance, created in the DB only. */
  giveActiveInstance(accountId: string): Promise<NodeInstanceRow> {
    return this.queries.insertNodeInstance({ accountId, name: 'e2e-quota-guard-existing-instance', status: 'running' });
  }
}
