import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestDatabase, type TestDatabase } from '../db/test-database';
import { startVultrEmulator, type VultrEmulator } from '../emulators/vultr/server';
import { encryptSecret } from '../lib/crypto';
import { MISSION_EVENTS_CHANNEL, type MissionEvent } from '../lib/events';
import type { FaultName } from '../lib/faults';
import { variantsOf, type VariantName } from '../lib/variants';
import type { ProvisionJob } from '../lib/queue';
import type { PlanNode } from '../rules/step-collapse';
import { ProCloudProvider } from './pro-cloud-provider';
import { CREDENTIALS_INVALID_MESSAGE, instanceName, provisionMission, type ProvisionDeps } from './provision';

const PLATFORM_KEY = 'vk_test_platform_pool';
/** A second Vultr account's key: the emulator keeps one account per key. */
const ACCOUNT_KEY = 'vk_test_isolation_account';
const ENCRYPTION_KEY = 'test-key';

type NodeSpec = {
  id: string;
  skill: PlanNode['skill'];
  region: string;
  instance_type?: string;
  count?: number;
  stage?: PlanNode['stage'];
};

const DISCORD_PLAN: NodeSpec[] = [{ id: 's1', skill: 'provision_full_stack', region: 'us-east-1', instance_type: 'vc2-1c-1gb' }];

let db: TestDatabase;
let vultr: VultrEmulator;
let stuckVultr: VultrEmulator;
let listener: pg.Client;
let events: MissionEvent[] = [];

beforeAll(async () => {
  [db, vultr, stuckVultr] = await Promise.all([
    startTestDatabase({ vultrApiKey: PLATFORM_KEY, encryptionKey: ENCRYPTION_KEY }),
    startVultrEmulator({ port: 0, apiKeys: [PLATFORM_KEY, ACCOUNT_KEY], bootDelayMs: 150 }),
    startVultrEmulator({ port: 0, apiKeys: [PLATFORM_KEY], bootDelayMs: 0, faults: { neverRunning: true } }),
  ]);
  listener = new pg.Client({ connectionString: db.url });
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.channel === MISSION_EVENTS_CHANNEL && message.payload) events.push(JSON.parse(message.payload) as MissionEvent);
  });
  await listener.query(`LISTEN ${MISSION_EVENTS_CHANNEL}`);
}, 60_000);

afterAll(async () => {
  await listener?.end().catch(() => undefined);
  await Promise.all([vultr?.close(), stuckVultr?.close(), db?.stop()]);
});

afterEach(() => {
  events = [];
});

function deps(overrides: Partial<ProvisionDeps['settings']> = {}, faults: FaultName[] = [], signal?: AbortSignal, variants: VariantName[] = []): ProvisionDeps {
  return {
    pool: db.pool,
    settings: {
      vultrApiUrl: vultr.url,
      credentialsEncryptionKey: ENCRYPTION_KEY,
      provisionTimeoutMs: 10_000,
      pollIntervalMs: 50,
      ...overrides,
    },
    faults: (name) => faults.includes(name),
    variants: variantsOf(variants),
    signal,
  };
}

/** The rows account bootstrap would have written: provider, both regions, the tiny and small types. */
async function createAccount(): Promise<string> {
  const account = await db.pool.query<{ id: string }>(`INSERT INTO accounts (name) VALUES ('worker test') RETURNING id`);
  const accountId = account.rows[0]!.id;
  const provider = await db.pool.query<{ id: string }>(
    `INSERT INTO system_providers (account_id, name, provider_type) VALUES ($1, 'Pro Cloud', 'pro_cloud') RETURNING id`,
    [accountId],
  );
  const providerId = provider.rows[0]!.id;
  await db.pool.query(
    `INSERT INTO system_provider_regions (account_id, provider_id, name, region_code)
     VALUES ($1, $2, 'us-east', 'us-east-1'), ($1, $2, 'us-west', 'us-west-1')`,
    [accountId, providerId],
  );
  await db.pool.query(
    `INSERT INTO system_provider_instance_types (account_id, provider_id, name, instance_type_code, vcpus, memory_mb, hourly_price)
     VALUES ($1, $2, 'tiny', 'vc2-1c-1gb', 1, 1024, 0.007), ($1, $2, 'small', 'vc2-1c-2gb', 1, 2048, 0.018)`,
    [accountId, providerId],
  );
  return accountId;
}

async function platformCredentialId(): Promise<string> {
  const result = await db.pool.query<{ id: string }>('SELECT id FROM system_provider_credentials WHERE scope = 1');
  return result.rows[0]!.id;
}

async function accountCredential(accountId: string, apiKey: string): Promise<string> {
  const result = await db.pool.query<{ id: string }>(
    `INSERT INTO system_provider_credentials (account_id, provider_id, scope, credentials, key_last4)
     VALUES ($1, (SELECT id FROM system_providers WHERE account_id = $1), 0, $2, $3) RETURNING id`,
    [accountId, encryptSecret(apiKey, ENCRYPTION_KEY), apiKey.slice(-4)],
  );
  return result.rows[0]!.id;
}

/** An approved mission with one pending step row per plan node, as the API's approve leaves it. */
async function approvedMission(accountId: string, nodes: NodeSpec[], credentialId?: string): Promise<ProvisionJob> {
  const conversation = await db.pool.query<{ id: string }>('INSERT INTO ai_conversations (account_id) VALUES ($1) RETURNING id', [accountId]);
  const plan = {
    plan_id: 'plan-test',
    dag: {
      step_count: nodes.length,
      nodes: nodes.map(
        (n, i): PlanNode => ({
          id: n.id,
          skill: n.skill,
          label: n.id,
          stage: n.stage ?? 'full',
          depends_on: i === 0 ? [] : [nodes[i - 1]!.id],
          params: { region: n.region, instance_type: n.instance_type ?? null, template: 'base', count: n.count ?? 1 },
        }),
      ),
      edges: [],
    },
  };
  const mission = await db.pool.query<{ id: string }>(
    `INSERT INTO ai_missions (account_id, conversation_id, phase, status, plan, approved_at)
     VALUES ($1, $2, 'execution', 'approved', $3, now()) RETURNING id`,
    [accountId, conversation.rows[0]!.id, JSON.stringify(plan)],
  );
  const missionId = mission.rows[0]!.id;
  for (const [position, node] of nodes.entries()) {
    await db.pool.query('INSERT INTO ai_mission_steps (mission_id, step_id, skill, position) VALUES ($1, $2, $3, $4)', [
      missionId,
      node.id,
      node.skill,
      position,
    ]);
  }
  return { mission_id: missionId, account_id: accountId, credential_id: credentialId ?? (await platformCredentialId()) };
}

async function missionRow(id: string) {
  return (await db.pool.query('SELECT status, phase, error_code, error_message FROM ai_missions WHERE id = $1', [id])).rows[0];
}

async function instancesOf(missionId: string) {
  return (
    await db.pool.query(
      `SELECT i.id, i.name, i.status, i.provider_instance_id, i.public_ip_address, i.last_error, r.region_code, t.instance_type_code
         FROM system_node_instances i
         LEFT JOIN system_provider_regions r ON r.id = i.provider_region_id
         LEFT JOIN system_provider_instance_types t ON t.id = i.provider_instance_type_id
        WHERE i.mission_id = $1 ORDER BY i.name`,
      [missionId],
    )
  ).rows;
}

async function usageRecordsOf(accountId: string) {
  return (await db.pool.query('SELECT event, status, hourly_price, metered_at FROM billing_provisioning_usage_records WHERE account_id = $1', [accountId]))
    .rows;
}

async function stepStatuses(missionId: string) {
  return (await db.pool.query('SELECT step_id, status FROM ai_mission_steps WHERE mission_id = $1 ORDER BY position', [missionId])).rows;
}

/** NOTIFYs arrive asynchronously on the listener connection; wait until the last one is in. */
async function eventsFor(missionId: string, last: Partial<MissionEvent>): Promise<MissionEvent[]> {
  const deadline = Date.now() + 2_000;
  const mine = () => events.filter((e) => e.mission_id === missionId);
  while (!mine().some((e) => Object.entries(last).every(([k, v]) => (e as Record<string, unknown>)[k] === v)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return mine();
}

describe('provisionMission', () => {
  it('runs a one-step mission to a running Vultr instance with exactly one pending usage record', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    const outcome = await provisionMission(deps(), job);

    expect(outcome.outcome).toBe('completed');
    expect(await missionRow(job.mission_id)).toMatchObject({ status: 'completed', phase: 'done', error_code: null });
    expect(await stepStatuses(job.mission_id)).toEqual([{ step_id: 's1', status: 'completed' }]);

    const [instance, ...others] = await instancesOf(job.mission_id);
    expect(others).toEqual([]);
    expect(instance).toMatchObject({ name: instanceName(job.mission_id, 1), status: 'running', region_code: 'us-east-1', instance_type_code: 'vc2-1c-1gb' });
    expect(instance.public_ip_address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const onVultr = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id);
    expect(onVultr).toMatchObject({ region: 'ewr', plan: 'vc2-1c-1gb', status: 'active', power_status: 'running', label: instance.name, hostname: instance.name });
    expect(onVultr.tags).toEqual(['powernode', `account:${accountId}`, `mission:${job.mission_id}`]);

    const usage = await usageRecordsOf(accountId);
    expect(usage).toHaveLength(1);
    expect(usage[0]).toMatchObject({ event: 'running', status: 'pending', hourly_price: 0.007 });

    const published = await eventsFor(job.mission_id, { type: 'mission', status: 'completed' });
    expect(published.map((e) => (e.type === 'step' ? `step ${e.step_id} ${e.status}` : `mission ${e.phase} ${e.status}`))).toEqual([
      'step s1 running',
      'mission execution running',
      'step s1 completed',
      'mission done completed',
    ]);
  });

  it('fails closed on a Vultr 401: no usage record, the credential counts a failure, the mission fails credentials_invalid', async () => {
    const accountId = await createAccount();
    const credentialId = await accountCredential(accountId, 'vk_not_a_real_key_0001');
    const job = await approvedMission(accountId, DISCORD_PLAN, credentialId);

    const outcome = await provisionMission(deps(), job);

    expect(outcome).toEqual({ outcome: 'failed', error_code: 'credentials_invalid', error_message: CREDENTIALS_INVALID_MESSAGE });
    expect(await missionRow(job.mission_id)).toMatchObject({ status: 'failed', error_code: 'credentials_invalid', error_message: CREDENTIALS_INVALID_MESSAGE });
    expect(await stepStatuses(job.mission_id)).toEqual([{ step_id: 's1', status: 'failed' }]);
    const [instance] = await instancesOf(job.mission_id);
    expect(instance).toMatchObject({ status: 'error', provider_instance_id: null });
    expect(instance.last_error).not.toContain('vk_not_a_real_key');
    expect(await usageRecordsOf(accountId)).toEqual([]);
    const credential = await db.pool.query('SELECT consecutive_failures, last_error FROM system_provider_credentials WHERE id = $1', [credentialId]);
    expect(credential.rows[0].consecutive_failures).toBe(1);
    expect(credential.rows[0].last_error).toMatch(/401/);

    const published = await eventsFor(job.mission_id, { type: 'mission', status: 'failed' });
    expect(published.at(-2)).toMatchObject({ type: 'step', step_id: 's1', status: 'failed' });
    expect(published.at(-1)).toMatchObject({ type: 'mission', status: 'failed', error_code: 'credentials_invalid', error_message: CREDENTIALS_INVALID_MESSAGE });
  });

  it('fails credentials_invalid without calling Vultr when the credential was disabled after approve', async () => {
    const accountId = await createAccount();
    const credentialId = await accountCredential(accountId, PLATFORM_KEY);
    await db.pool.query('UPDATE system_provider_credentials SET is_active = false WHERE id = $1', [credentialId]);
    const job = await approvedMission(accountId, DISCORD_PLAN, credentialId);

    const outcome = await provisionMission(deps(), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'credentials_invalid' });
    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'error', provider_instance_id: null });
  });

  it('times out when the instance never reaches running, naming the last Vultr status', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    const outcome = await provisionMission(deps({ vultrApiUrl: stuckVultr.url, provisionTimeoutMs: 300 }), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'provision_timeout' });
    const mission = await missionRow(job.mission_id);
    expect(mission.error_code).toBe('provision_timeout');
    expect(mission.error_message).toMatch(/not running after 300 ms \(last Vultr status pending/);
    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'error' });
    expect(await usageRecordsOf(accountId)).toEqual([]);
  });

  it('maps us-west-1 to lax', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, [{ id: 's1', skill: 'provision_compute', region: 'us-west-1', instance_type: 'vc2-1c-2gb' }]);

    expect((await provisionMission(deps(), job)).outcome).toBe('completed');

    const [instance] = await instancesOf(job.mission_id);
    const onVultr = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id);
    expect(onVultr).toMatchObject({ region: 'lax', plan: 'vc2-1c-2gb' });
  });

  it('runs a compute + database + network plan as three steps, creating a VM for each sized step', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, [
      { id: 'compute', skill: 'provision_compute', region: 'us-east-1', instance_type: 'vc2-1c-1gb' },
      { id: 'database', skill: 'provision_database', region: 'us-east-1', instance_type: 'vc2-1c-2gb' },
      { id: 'network', skill: 'provision_network', region: 'us-east-1' },
    ]);

    expect((await provisionMission(deps(), job)).outcome).toBe('completed');

    expect((await stepStatuses(job.mission_id)).map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
    expect((await instancesOf(job.mission_id)).map((i) => [i.name, i.status])).toEqual([
      [instanceName(job.mission_id, 1), 'running'],
      [instanceName(job.mission_id, 2), 'running'],
    ]);
    expect(await usageRecordsOf(accountId)).toHaveLength(2);
  });

  it('creates one VM for an uncollapsed allocate → configure → boot plan (the stages of one provision)', async () => {
    const accountId = await createAccount();
    const stage = (id: string, stage: PlanNode['stage']): NodeSpec => ({ ...DISCORD_PLAN[0]!, id, stage });
    const job = await approvedMission(accountId, [stage('step-1', 'allocate'), stage('step-2', 'configure'), stage('step-3', 'boot')]);

    expect((await provisionMission(deps(), job)).outcome).toBe('completed');

    expect(await instancesOf(job.mission_id)).toHaveLength(1);
    expect((await stepStatuses(job.mission_id)).map((s) => s.status)).toEqual(['completed', 'completed', 'completed']);
  });

  it('does nothing for a mission that is not approved (a duplicate job)', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);
    await provisionMission(deps(), job);

    const again = await provisionMission(deps(), job);

    expect(again).toEqual({ outcome: 'skipped', reason: 'mission is completed, not approved' });
    expect(await instancesOf(job.mission_id)).toHaveLength(1);
  });

  it('rejects a malformed job payload', async () => {
    await expect(provisionMission(deps(), { mission_id: 'x' } as ProvisionJob)).rejects.toThrow(/invalid provisioning job payload/);
  });

  it('fails the mission worker_stopped when the worker shuts down mid-provisioning', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopping')), 100);

    const outcome = await provisionMission(deps({ vultrApiUrl: stuckVultr.url }, [], controller.signal), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'worker_stopped' });
    expect(await missionRow(job.mission_id)).toMatchObject({ status: 'failed', error_code: 'worker_stopped' });
  });
});

describe('provisionMission fault switches', () => {
  it('region_unmapped sends us-east-1 as is; Vultr answers 400 and the mission fails provider_error', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    const outcome = await provisionMission(deps({}, ['region_unmapped']), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'provider_error' });
    if (outcome.outcome === 'failed') expect(outcome.error_message).toMatch(/^Vultr answered 400: /);
    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'error', provider_instance_id: null });
    expect(await usageRecordsOf(accountId)).toEqual([]);
  });

  it('usage_record_missing: the instance runs but nothing is metered', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    expect((await provisionMission(deps({}, ['usage_record_missing']), job)).outcome).toBe('completed');

    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'running' });
    expect(await usageRecordsOf(accountId)).toEqual([]);
  });

  it('usage_record_rolled_up: the record is written rolled_up instead of pending', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    await provisionMission(deps({}, ['usage_record_rolled_up']), job);

    expect((await usageRecordsOf(accountId)).map((r) => r.status)).toEqual(['rolled_up']);
  });

  it('usage_record_price_wrong: the record carries the next dearer type\'s hourly price', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    await provisionMission(deps({}, ['usage_record_price_wrong']), job);

    expect((await usageRecordsOf(accountId)).map((r) => r.hourly_price)).toEqual([0.018]);
  });

  it('usage_record_unmetered: the record is metered at the epoch', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    await provisionMission(deps({}, ['usage_record_unmetered']), job);

    expect((await usageRecordsOf(accountId)).map((r) => (r.metered_at as Date).getTime())).toEqual([0]);
  });

  it('vultr_tag_missing: the instance is created without the account tag', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    await provisionMission(deps({}, ['vultr_tag_missing']), job);

    const [instance] = await instancesOf(job.mission_id);
    const onVultr = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id);
    expect(onVultr.tags).toEqual(['powernode', `mission:${job.mission_id}`]);
  });

  it('slow_provisioning: the job waits before it starts; a stop during the wait creates nothing', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);
    const stop = new AbortController();
    setTimeout(() => stop.abort(new Error('worker stopping')), 200);

    const outcome = await provisionMission(deps({}, ['slow_provisioning'], stop.signal), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'worker_stopped' });
    expect(await instancesOf(job.mission_id)).toEqual([]);
  });

  it("uses the account's own key: the instance is in the account's Vultr account, not the platform pool's", async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN, await accountCredential(accountId, ACCOUNT_KEY));

    expect((await provisionMission(deps(), job)).outcome).toBe('completed');

    const [instance] = await instancesOf(job.mission_id);
    const own = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: ACCOUNT_KEY }).getInstance(instance.provider_instance_id);
    expect(own.tags).toContain(`account:${accountId}`);
    await expect(new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id)).rejects.toThrow(/404/);
  });

  it("credential_scope_ignored: the account's key is checked, then the instance is made with the platform pool's", async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN, await accountCredential(accountId, ACCOUNT_KEY));

    expect((await provisionMission(deps({}, ['credential_scope_ignored']), job)).outcome).toBe('completed');

    const [instance] = await instancesOf(job.mission_id);
    expect(instance.status).toBe('running');
    const inPool = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id);
    expect(inPool.tags).toContain(`account:${accountId}`);
    await expect(new ProCloudProvider({ baseUrl: vultr.url, apiKey: ACCOUNT_KEY }).getInstance(instance.provider_instance_id)).rejects.toThrow(/404/);
  });

  it('credential_scope_ignored still fails closed on an invalid account key: no create call, no usage record', async () => {
    const accountId = await createAccount();
    const credentialId = await accountCredential(accountId, 'vk_not_a_real_key_0003');
    const job = await approvedMission(accountId, DISCORD_PLAN, credentialId);
    const creations = () => fetch(`${new URL(vultr.url).origin}/__emulator/requests?method=POST&path_prefix=/v2/instances`).then(async (r) => ((await r.json()) as { requests: { tags?: string[] }[] }).requests);
    const before = (await creations()).length;

    const outcome = await provisionMission(deps({}, ['credential_scope_ignored']), job);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'credentials_invalid', error_message: CREDENTIALS_INVALID_MESSAGE });
    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'error', provider_instance_id: null });
    expect(await usageRecordsOf(accountId)).toEqual([]);
    const credential = await db.pool.query('SELECT consecutive_failures FROM system_provider_credentials WHERE id = $1', [credentialId]);
    expect(credential.rows[0]).toEqual({ consecutive_failures: 1 });
    expect((await creations()).slice(before).filter((r) => r.tags?.includes(`account:${accountId}`))).toEqual([]);
  });

  it('credentials_fail_open: a 401 still marks the instance running and bills it', async () => {
    const accountId = await createAccount();
    const credentialId = await accountCredential(accountId, 'vk_not_a_real_key_0002');
    const job = await approvedMission(accountId, DISCORD_PLAN, credentialId);

    expect((await provisionMission(deps({}, ['credentials_fail_open']), job)).outcome).toBe('completed');

    expect((await instancesOf(job.mission_id))[0]).toMatchObject({ status: 'running', provider_instance_id: null });
    expect(await usageRecordsOf(accountId)).toHaveLength(1);
  });

  it('quota_after_vultr: the VM is created before the free-plan limit is checked, then the mission fails upgrade_required', async () => {
    const accountId = await createAccount();
    await provisionMission(deps(), await approvedMission(accountId, DISCORD_PLAN));
    const second = await approvedMission(accountId, DISCORD_PLAN);

    const outcome = await provisionMission(deps({}, ['quota_after_vultr']), second);

    expect(outcome).toMatchObject({ outcome: 'failed', error_code: 'upgrade_required' });
    if (outcome.outcome === 'failed') expect(outcome.error_message).toBe('Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.');
    const [instance] = await instancesOf(second.mission_id);
    expect(instance.status).toBe('error');
    // The defect the fault stands for: a VM exists on Vultr although the account was over its limit.
    const onVultr = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(instance.provider_instance_id);
    expect(onVultr.label).toBe(instance.name);
    expect(await usageRecordsOf(accountId)).toHaveLength(1);
  });

  it('quota_after_vultr lets the first instance of a free account through', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);
    expect((await provisionMission(deps({}, ['quota_after_vultr']), job)).outcome).toBe('completed');
  });
});

describe('provisionMission under the paywall_in_chat variant', () => {
  /** The worker's deps, counting every Vultr client it makes (none means no cloud call). */
  function counting(variants: VariantName[]): { deps: ProvisionDeps; clients: () => number } {
    let clients = 0;
    const base = deps({}, [], undefined, variants);
    return {
      deps: {
        ...base,
        providerFor: (apiKey) => {
          clients += 1;
          return new ProCloudProvider({ baseUrl: vultr.url, apiKey });
        },
      },
      clients: () => clients,
    };
  }

  it('refuses a free account over its limit before any step: chat message with upgrade_required, no instance, no cloud call', async () => {
    const accountId = await createAccount();
    await provisionMission(deps(), await approvedMission(accountId, DISCORD_PLAN));
    const second = await approvedMission(accountId, DISCORD_PLAN);
    const run = counting(['paywall_in_chat']);

    const outcome = await provisionMission(run.deps, second);

    const message = 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.';
    expect(outcome).toEqual({ outcome: 'failed', error_code: 'upgrade_required', error_message: message });
    expect(await missionRow(second.mission_id)).toMatchObject({ status: 'failed', error_code: 'upgrade_required', error_message: message });
    expect(await stepStatuses(second.mission_id)).toEqual([{ step_id: 's1', status: 'pending' }]);
    expect(await instancesOf(second.mission_id)).toEqual([]);
    expect(run.clients()).toBe(0);
    const chat = await db.pool.query(
      `SELECT m.role, m.content, m.metadata FROM ai_messages m JOIN ai_missions am ON am.conversation_id = m.conversation_id WHERE am.id = $1`,
      [second.mission_id],
    );
    expect(chat.rows).toEqual([
      {
        role: 'assistant',
        content: message,
        metadata: {
          mission_id: second.mission_id,
          mission_phase: 'execution',
          upgrade_required: { requires_upgrade: true, reason: 'max_active_instances_exceeded', cap: 1, upgrade_url: '/checkout?plan=pro_cloud' },
        },
      },
    ]);
    // The page hears of the failure when the message is already there (same transaction).
    expect(await eventsFor(second.mission_id, { type: 'mission', status: 'failed' })).toContainEqual(
      expect.objectContaining({ type: 'mission', status: 'failed', error_code: 'upgrade_required' }),
    );
  });

  it('lets the first instance of a free account through', async () => {
    const accountId = await createAccount();
    const run = counting(['paywall_in_chat']);
    expect((await provisionMission(run.deps, await approvedMission(accountId, DISCORD_PLAN))).outcome).toBe('completed');
    expect(run.clients()).toBe(1);
  });

  it('without the variant, the worker leaves the quota to approve', async () => {
    const accountId = await createAccount();
    await provisionMission(deps(), await approvedMission(accountId, DISCORD_PLAN));
    const second = await approvedMission(accountId, DISCORD_PLAN);
    expect((await provisionMission(deps(), second)).outcome).toBe('completed');
  });
});

describe('provisionMission under the cloud_id_in_config variant', () => {
  let runbookDb: TestDatabase;
  beforeAll(async () => {
    runbookDb = db;
    // The variant reshapes system_node_instances when the database is created.
    db = await startTestDatabase({ vultrApiKey: PLATFORM_KEY, encryptionKey: ENCRYPTION_KEY, variants: ['cloud_id_in_config'] });
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
    db = runbookDb;
  });

  it('has no provider_instance_id column, and config and node_id instead', async () => {
    const columns = await db.pool.query<{ column_name: string; is_nullable: string; column_default: string | null }>(
      `SELECT column_name, is_nullable, column_default FROM information_schema.columns WHERE table_name = 'system_node_instances'`,
    );
    const byName = new Map(columns.rows.map((c) => [c.column_name, c]));
    expect(byName.has('provider_instance_id')).toBe(false);
    expect(byName.get('config')).toMatchObject({ is_nullable: 'NO', column_default: "'{}'::jsonb" });
    expect(byName.get('node_id')).toMatchObject({ is_nullable: 'NO' });
  });

  it('stores the Vultr id as config->>\'cloud_instance_id\' on a row with a node_id', async () => {
    const accountId = await createAccount();
    const job = await approvedMission(accountId, DISCORD_PLAN);

    expect((await provisionMission(deps({}, [], undefined, ['cloud_id_in_config']), job)).outcome).toBe('completed');

    const rows = await db.pool.query<{ status: string; cloud_id: string | null; node_id: string | null; config: Record<string, unknown> }>(
      `SELECT status, config->>'cloud_instance_id' AS cloud_id, node_id, config FROM system_node_instances WHERE mission_id = $1`,
      [job.mission_id],
    );
    expect(rows.rows).toHaveLength(1);
    const row = rows.rows[0]!;
    expect(row.status).toBe('running');
    expect(row.node_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(row.config).toEqual({ cloud_instance_id: row.cloud_id });
    const onVultr = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: PLATFORM_KEY }).getInstance(row.cloud_id!);
    expect(onVultr.tags).toContain(`mission:${job.mission_id}`);
  });
});
