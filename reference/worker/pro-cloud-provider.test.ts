import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVultrEmulator, type VultrEmulator } from '../emulators/vultr/server';
import { DEFAULT_OS_ID, ProCloudProvider, VultrApiError, VultrAuthError, VultrUnreachableError } from './pro-cloud-provider';

const KEY = 'vk_test_adapter_key';

let vultr: VultrEmulator;
beforeAll(async () => {
  vultr = await startVultrEmulator({ port: 0, apiKeys: [KEY], bootDelayMs: 0 });
});
afterAll(async () => {
  await vultr?.close();
});

const createRequest = {
  region: 'ewr',
  plan: 'vc2-1c-1gb',
  os_id: DEFAULT_OS_ID,
  label: 'pn-adapter-1',
  hostname: 'pn-adapter-1',
  tags: ['powernode', 'account:test'],
};

/** A fetch that answers from a script of statuses, counting calls. */
function scriptedFetch(statuses: number[]): { fetch: typeof fetch; calls: () => number } {
  let calls = 0;
  const fake = (async () => {
    const status = statuses[Math.min(calls, statuses.length - 1)]!;
    calls += 1;
    const body = status < 300 ? { instance: { id: 'i-1' } } : { error: `scripted ${status}`, status };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { fetch: fake, calls: () => calls };
}

describe('ProCloudProvider against the Vultr emulator', () => {
  it('creates, reads and deletes an instance', async () => {
    const provider = new ProCloudProvider({ baseUrl: vultr.url, apiKey: KEY });

    const created = await provider.createInstance(createRequest);
    expect(created).toMatchObject({ region: 'ewr', plan: 'vc2-1c-1gb', label: 'pn-adapter-1', tags: ['powernode', 'account:test'] });
    expect((await provider.getInstance(created.id)).id).toBe(created.id);

    await provider.deleteInstance(created.id);
    await expect(provider.getInstance(created.id)).rejects.toMatchObject({ name: 'VultrApiError', status: 404 });
  });

  it('turns a bad key into VultrAuthError without the key in the message', async () => {
    const provider = new ProCloudProvider({ baseUrl: vultr.url, apiKey: 'vk_wrong_secret_value' });

    const error = await provider.createInstance(createRequest).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VultrAuthError);
    expect((error as VultrAuthError).status).toBe(401);
    expect((error as VultrAuthError).vultrError).toBe('Invalid API token.');
    expect((error as Error).message).not.toContain('vk_wrong_secret_value');
  });

  it('reports an unknown region as VultrApiError 400 with Vultr\'s text', async () => {
    const provider = new ProCloudProvider({ baseUrl: vultr.url, apiKey: KEY });

    const error = await provider.createInstance({ ...createRequest, region: 'us-east-1' }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(VultrApiError);
    expect((error as VultrApiError).status).toBe(400);
    expect((error as VultrApiError).vultrError).not.toBe('');
  });

  it('proves a key with GET /account', async () => {
    const account = await new ProCloudProvider({ baseUrl: vultr.url, apiKey: KEY }).getAccount();
    expect(account).toHaveProperty('email');
  });
});

describe('ProCloudProvider retries', () => {
  it('retries 429 with backoff, then succeeds', async () => {
    const scripted = scriptedFetch([429, 429, 202]);
    const provider = new ProCloudProvider({ baseUrl: 'http://vultr.test/v2', apiKey: KEY, fetch: scripted.fetch, retryBaseMs: 1 });

    await expect(provider.createInstance(createRequest)).resolves.toEqual({ id: 'i-1' });
    expect(scripted.calls()).toBe(3);
  });

  it('gives up after the bounded number of retries', async () => {
    const scripted = scriptedFetch([503]);
    const provider = new ProCloudProvider({ baseUrl: 'http://vultr.test/v2', apiKey: KEY, fetch: scripted.fetch, retryBaseMs: 1, maxRetries: 2 });

    await expect(provider.getInstance('i-1')).rejects.toMatchObject({ status: 503, vultrError: 'scripted 503' });
    expect(scripted.calls()).toBe(3);
  });

  it('never retries a create that failed with a 5xx (it may have created the VM)', async () => {
    const scripted = scriptedFetch([500, 202]);
    const provider = new ProCloudProvider({ baseUrl: 'http://vultr.test/v2', apiKey: KEY, fetch: scripted.fetch, retryBaseMs: 1 });

    await expect(provider.createInstance(createRequest)).rejects.toMatchObject({ status: 500 });
    expect(scripted.calls()).toBe(1);
  });

  it('never retries a 401', async () => {
    const scripted = scriptedFetch([401, 202]);
    const provider = new ProCloudProvider({ baseUrl: 'http://vultr.test/v2', apiKey: KEY, fetch: scripted.fetch, retryBaseMs: 1 });

    await expect(provider.getInstance('i-1')).rejects.toBeInstanceOf(VultrAuthError);
    expect(scripted.calls()).toBe(1);
  });

  it('reports a refused connection as VultrUnreachableError', async () => {
    const provider = new ProCloudProvider({ baseUrl: 'http://127.0.0.1:1/v2', apiKey: KEY, retryBaseMs: 1, maxRetries: 1 });
    await expect(provider.getInstance('i-1')).rejects.toBeInstanceOf(VultrUnreachableError);
  });
});
