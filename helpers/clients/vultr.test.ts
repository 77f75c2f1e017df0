import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, DEFAULT_MIN_INTERVAL_MS, VultrApiError, VultrClient, VultrJournal, backoffDelay, emulatorOrigin, vultrAccounts } from './vultr';

const ORIGIN = 'http://vultr.test';
const KEY = 'vk_test_secret_key_value';
const instance = (id: string, tags: string[]) => ({ id, status: 'active', power_status: 'running', region: 'ewr', plan: 'vc2-1c-1gb', tags });

function setup() {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const sleeps: number[] = [];
  const client = new VultrClient({
    baseUrl: `${ORIGIN}/v2`,
    apiKey: KEY,
    dispatcher: agent,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    minIntervalMs: 0,
  });
  return { agent, pool: agent.get(ORIGIN), client, sleeps };
}

let agents: MockAgent[] = [];
afterEach(async () => {
  for (const a of agents) await a.close();
  agents = [];
});

describe('backoffDelay', () => {
  it('grows exponentially, is jittered, and is capped', () => {
    const b = { attempts: 6, baseMs: 250, capMs: 8_000 };
    expect(backoffDelay(0, b, () => 0.999)).toBe(249);
    expect(backoffDelay(3, b, () => 0.5)).toBe(1_000);
    expect(backoffDelay(10, b, () => 0.999)).toBe(7_992);
    expect(backoffDelay(10, b, () => 0)).toBe(0);
  });
});

describe('VultrClient', () => {
  it('retries a 429 with backoff, then answers', async () => {
    const { agent, pool, client, sleeps } = setup();
    agents.push(agent);
    pool.intercept({ path: '/v2/account', method: 'GET', headers: { authorization: `Bearer ${KEY}` } }).reply(429, { error: 'Rate limit exceeded', status: 429 });
    pool.intercept({ path: '/v2/account', method: 'GET' }).reply(429, { error: 'Rate limit exceeded', status: 429 });
    pool.intercept({ path: '/v2/account', method: 'GET' }).reply(200, { account: { name: 'pool' } });
    expect(await client.account()).toEqual({ name: 'pool' });
    expect(sleeps).toEqual([125, 250]);
  });

  it('gives up after the bounded number of attempts', async () => {
    const { agent, pool, client, sleeps } = setup();
    agents.push(agent);
    pool.intercept({ path: '/v2/account', method: 'GET' }).reply(429, { error: 'Rate limit exceeded', status: 429 }).times(DEFAULT_BACKOFF.attempts);
    await expect(client.account()).rejects.toThrow(/429/);
    expect(sleeps).toHaveLength(DEFAULT_BACKOFF.attempts - 1);
  });

  it("reports a rejected key with Vultr's message, never the key", async () => {
    const { agent, pool, client } = setup();
    agents.push(agent);
    pool.intercept({ path: '/v2/account', method: 'GET' }).reply(401, { error: 'Invalid API token.', status: 401 });
    const error = await client.account().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VultrApiError);
    expect((error as VultrApiError).status).toBe(401);
    expect((error as Error).message).toBe('Vultr GET /v2/account answered 401: Invalid API token.');
    expect((error as Error).message).not.toContain(KEY);
  });

  it('answers null for an unknown instance and "already gone" when deleting one', async () => {
    const { agent, pool, client } = setup();
    agents.push(agent);
    pool.intercept({ path: '/v2/instances/nope', method: 'GET' }).reply(404, { error: 'instance not found', status: 404 });
    pool.intercept({ path: '/v2/instances/nope', method: 'DELETE' }).reply(404, { error: 'instance not found', status: 404 });
    pool.intercept({ path: '/v2/instances/i1', method: 'DELETE' }).reply(204, '');
    expect(await client.instance('nope')).toBeNull();
    expect(await client.deleteInstance('nope')).toBe('already_gone');
    expect(await client.deleteInstance('i1')).toBe('deleted');
  });

  it('follows the cursor through every page of a tag listing', async () => {
    const { agent, pool, client } = setup();
    agents.push(agent);
    pool
      .intercept({ path: '/v2/instances?tag=account%3Aa1&per_page=100', method: 'GET' })
      .reply(200, { instances: [instance('i1', ['account:a1'])], meta: { total: 2, links: { next: 'c2', prev: '' } } });
    pool
      .intercept({ path: '/v2/instances?tag=account%3Aa1&per_page=100&cursor=c2', method: 'GET' })
      .reply(200, { instances: [instance('i2', ['account:a1']), instance('i3', ['account:other'])], meta: { total: 2, links: { next: '', prev: 'c1' } } });
    expect((await client.instancesByTag('account:a1')).map((i) => i.id)).toEqual(['i1', 'i2']);
  });
});

describe('VultrClient pacing', () => {
  it('starts calls at least minIntervalMs apart, also when they are made at once', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    agent.get(ORIGIN).intercept({ path: '/v2/account', method: 'GET' }).reply(200, { account: { name: 'x' } }).times(4);
    let clock = 1_000;
    const waits: number[] = [];
    const client = new VultrClient({
      baseUrl: `${ORIGIN}/v2`,
      apiKey: KEY,
      dispatcher: agent,
      minIntervalMs: 50,
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    // Three at the same moment: the first goes at once, the others wait for their slots.
    await Promise.all([client.account(), client.account(), client.account()]);
    expect(waits).toEqual([50, 100]);
    // Long after the last slot, a call does not wait.
    clock += 1_000;
    await client.account();
    expect(waits).toEqual([50, 100]);
  });

  it('paces the clients of two keys as one: Vultr limits per source IP, not per key', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    const keys: string[] = [];
    agent
      .get(ORIGIN)
      .intercept({ path: '/v2/account', method: 'GET' })
      .reply(200, (request) => {
        keys.push(String((request.headers as Record<string, string>).authorization));
        return { account: { name: 'x' } };
      })
      .times(3);
    const waits: number[] = [];
    const config = { VULTR_API_URL: `${ORIGIN}/v2`, VULTR_API_KEY: 'vk_pool_key', VULTR_ISOLATION_API_KEY: 'vk_isolation_key' };
    const timing = { now: () => 1_000, sleep: async (ms: number) => void waits.push(ms) };
    const [pool, isolation] = vultrAccounts(config, agent, timing).map((a) => a.client);
    if (!pool || !isolation) throw new Error('expected a client per key');
    await Promise.all([pool.account(), isolation.account(), pool.account()]);
    // One pace for both: the second and third calls wait their slots, whichever key makes them.
    expect(waits).toEqual([DEFAULT_MIN_INTERVAL_MS, 2 * DEFAULT_MIN_INTERVAL_MS]);
    expect(keys.sort()).toEqual(['Bearer vk_isolation_key', 'Bearer vk_pool_key', 'Bearer vk_pool_key']);
  });

  it('gives one client per configured key, named by its variable; no isolation key, no second client', () => {
    const agent = new MockAgent();
    agents.push(agent);
    const config = { VULTR_API_URL: `${ORIGIN}/v2`, VULTR_API_KEY: 'vk_pool_key' };
    expect(vultrAccounts({ ...config, VULTR_ISOLATION_API_KEY: 'vk_isolation_key' }, agent).map((a) => a.key)).toEqual(['VULTR_API_KEY', 'VULTR_ISOLATION_API_KEY']);
    expect(vultrAccounts({ ...config, VULTR_ISOLATION_API_KEY: '' }, agent).map((a) => a.key)).toEqual(['VULTR_API_KEY']);
  });
});

describe('VultrJournal', () => {
  it('counts only instance creations since the moment', async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    const since = new Date('2026-01-01T10:00:00.000Z');
    agent
      .get(ORIGIN)
      .intercept({ path: (p) => p.startsWith('/__emulator/requests?'), method: 'GET' })
      .reply(200, {
        requests: [
          { method: 'POST', path: '/v2/instances', status: 202, time: '2026-01-01T10:00:01.000Z', duration_ms: 3 },
          { method: 'POST', path: '/v2/instances/i1/reboot', status: 204, time: '2026-01-01T10:00:02.000Z', duration_ms: 3 },
          { method: 'POST', path: '/v2/instances', status: 401, time: '2026-01-01T09:59:59.000Z', duration_ms: 3 },
        ],
      });
    const journal = new VultrJournal(emulatorOrigin(`${ORIGIN}/v2`), agent);
    expect((await journal.instanceCreations(since)).map((e) => e.status)).toEqual([202]);
  });

  it("attributes creations to a tag's owner, counting the ones no tag attributes", async () => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agents.push(agent);
    const since = new Date('2026-01-01T10:00:00.000Z');
    const at = '2026-01-01T10:00:01.000Z';
    agent
      .get(ORIGIN)
      .intercept({ path: (p) => p.startsWith('/__emulator/requests?'), method: 'GET' })
      .reply(200, {
        requests: [
          { method: 'POST', path: '/v2/instances', status: 202, time: at, tags: ['account:a1'] },
          { method: 'POST', path: '/v2/instances', status: 202, time: at, tags: ['account:other'] },
          { method: 'POST', path: '/v2/instances', status: 400, time: at, tags: [] },
          { method: 'POST', path: '/v2/instances', status: 202, time: at },
          // A stack that forgot the account tag: anyone's creation, so counted as this account's.
          { method: 'POST', path: '/v2/instances', status: 202, time: at, tags: ['powernode', 'mission:m9'] },
        ],
      });
    const journal = new VultrJournal(emulatorOrigin(`${ORIGIN}/v2`), agent);
    expect((await journal.instanceCreations(since, 'account:a1')).map((e) => [e.status, e.tags])).toEqual([
      [202, ['account:a1']],
      [400, []],
      [202, undefined],
      [202, ['powernode', 'mission:m9']],
    ]);
  });

  it('finds the emulator origin from VULTR_API_URL', () => {
    expect(emulatorOrigin('http://127.0.0.1:3101/v2')).toBe('http://127.0.0.1:3101');
    expect(emulatorOrigin('http://127.0.0.1:3101/v2/')).toBe('http://127.0.0.1:3101');
    expect(emulatorOrigin('https://emu.test/vultr/v2')).toBe('https://emu.test/vultr');
  });
});
