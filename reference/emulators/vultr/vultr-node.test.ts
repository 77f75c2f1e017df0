// The official @vultr/vultr-node client must work against the emulator unchanged (CONTRACT 7).
import VultrNode from '@vultr/vultr-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVultrEmulator, type VultrEmulator } from './server';

const KEY = 'vk_test_official_client';

interface Instance {
  id: string;
  status: string;
  label: string;
  tags: string[];
  os_id: number;
}

describe('@vultr/vultr-node against the emulator', () => {
  let emulator: VultrEmulator;
  let vultr: ReturnType<typeof VultrNode.initialize>;

  beforeAll(async () => {
    emulator = await startVultrEmulator({ port: 0, apiKeys: [KEY], bootDelayMs: 60_000, rateLimitPerSecond: 10_000 });
    vultr = VultrNode.initialize({ apiKey: KEY, baseUrl: emulator.url });
  });
  afterAll(() => emulator.close());

  it('creates (os_id as the string the client requires), lists, gets and deletes an instance', async () => {
    const created = (await vultr.instances.createInstance({
      region: 'ewr',
      plan: 'vc2-1c-1gb',
      os_id: '2284',
      label: 'official-client',
      hostname: 'official-client',
      tags: ['powernode', 'account:official'],
    })) as { instance: Instance };
    expect(created).not.toBeInstanceOf(Error);
    expect(created.instance).toMatchObject({ status: 'pending', label: 'official-client', os_id: 2284, tags: ['powernode', 'account:official'] });
    const id = created.instance.id;

    const listed = (await vultr.instances.listInstances({ label: 'official-client', per_page: '10' })) as {
      instances: Instance[];
      meta: { total: number };
    };
    expect(listed.instances.map((i) => i.id)).toEqual([id]);
    expect(listed.meta.total).toBe(1);

    const fetched = (await vultr.instances.getInstance({ 'instance-id': id })) as { instance: Instance };
    expect(fetched.instance.id).toBe(id);

    // A 204 has no JSON, so the client resolves with undefined.
    expect(await vultr.instances.deleteInstance({ 'instance-id': id })).toBeUndefined();

    const gone = await vultr.instances.getInstance({ 'instance-id': id });
    expect(gone).toBeInstanceOf(Error);
    expect((gone as Error).message).toBe('Not Found: instance not found');
  });

  it('reads plans, regions and the account', async () => {
    const plans = (await vultr.plans.listPlans(undefined)) as { plans: Array<{ id: string; monthly_cost: number }> };
    expect(plans.plans.find((p) => p.id === 'vc2-1c-1gb')?.monthly_cost).toBe(5);
    const regions = (await vultr.regions.listRegions(undefined)) as { regions: Array<{ id: string }> };
    expect(regions.regions.map((r) => r.id)).toEqual(expect.arrayContaining(['ewr', 'lax']));
    const account = (await vultr.account.getAccountInfo(undefined)) as { account: { email: string } };
    expect(account.account.email).toEqual(expect.any(String));
  });

  it('fails a bad key the way it fails on Vultr: resolving with an Error, not rejecting', async () => {
    const wrong = VultrNode.initialize({ apiKey: 'vk_wrong', baseUrl: emulator.url });
    const result = await wrong.account.getAccountInfo(undefined);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toBe('Unauthorized: Invalid API token.');

    // Plans need no key, so even a bad key reads them.
    const plans = (await wrong.plans.listPlans(undefined)) as { plans: unknown[] };
    expect(plans.plans.length).toBeGreaterThan(0);
  });

  it('surfaces a create validation error as "Bad Request: <message>"', async () => {
    const result = await vultr.instances.createInstance({ region: 'nowhere', plan: 'vc2-1c-1gb', os_id: '2284' });
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toBe('Bad Request: Invalid region.');
  });
});
