import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVultrEmulator, type VultrEmulator, type VultrEmulatorOptions } from './server';

const KEY = 'vk_test_unit';
const AUTH = { authorization: `Bearer ${KEY}` };
const CREATE = { region: 'ewr', plan: 'vc2-1c-1gb', os_id: 2284 };

interface Instance {
  id: string;
  status: string;
  power_status: string;
  server_status: string;
  main_ip: string;
  label: string;
  tags: string[];
  region: string;
  date_created: string;
  default_password?: string;
  [field: string]: unknown;
}

interface Meta {
  total: number;
  links: { next: string; prev: string };
}

function start(overrides: Partial<VultrEmulatorOptions> = {}): Promise<VultrEmulator> {
  return startVultrEmulator({ port: 0, apiKeys: [KEY], bootDelayMs: 60_000, rateLimitPerSecond: 100_000, ...overrides });
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH) {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, text, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, headers: res.headers };
}

async function createInstance(base: string, body: Record<string, unknown> = CREATE): Promise<Instance> {
  const res = await call(base, 'POST', '/instances', body);
  expect(res.status).toBe(202);
  return (res.json as { instance: Instance }).instance;
}

async function pollInstance(base: string, id: string, done: (i: Instance) => boolean, timeoutMs = 5_000): Promise<Instance> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(base, 'GET', `/instances/${id}`);
    const instance = (res.json as { instance: Instance }).instance;
    if (done(instance)) return instance;
    if (Date.now() > deadline) throw new Error(`instance ${id} never reached the state; last: ${JSON.stringify(instance)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('vultr emulator over HTTP', () => {
  let emulator: VultrEmulator;
  let base: string;
  let origin: string;

  beforeAll(async () => {
    emulator = await start();
    base = emulator.url;
    origin = new URL(base).origin;
  });
  afterAll(() => emulator.close());

  describe('auth and errors', () => {
    it('rejects a missing or unknown key with Vultr\'s exact 401 body', async () => {
      const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer nope' }, { authorization: KEY }];
      for (const headers of attempts) {
        const res = await call(base, 'GET', '/account', undefined, headers);
        expect(res.status).toBe(401);
        expect(res.text).toBe('{"error":"Invalid API token.","status":401}');
        expect(res.headers.get('content-type')).toBe('application/json');
      }
    });

    it('answers /account for a known key', async () => {
      const res = await call(base, 'GET', '/account');
      expect(res.status).toBe(200);
      expect(res.json).toMatchObject({ account: { name: expect.any(String), email: expect.any(String), acls: expect.any(Array), balance: expect.any(Number) } });
    });

    it('serves plans, regions and os without a key', async () => {
      const plans = await call(base, 'GET', '/plans', undefined, {});
      expect(plans.status).toBe(200);
      const tiny = (plans.json as { plans: Array<Record<string, unknown>> }).plans.find((p) => p.id === 'vc2-1c-1gb');
      expect(tiny).toMatchObject({ vcpu_count: 1, ram: 1024, disk: 25, bandwidth: 1024, monthly_cost: 5, hourly_cost: 0.007, type: 'vc2' });
      expect(tiny?.locations).toEqual(expect.arrayContaining(['ewr', 'lax']));

      const regions = await call(base, 'GET', '/regions', undefined, {});
      expect(regions.status).toBe(200);
      const list = (regions.json as { regions: Array<Record<string, unknown>>; meta: Meta }).regions;
      expect(list.find((r) => r.id === 'ewr')).toMatchObject({ city: 'New Jersey', country: 'US', continent: 'North America', options: expect.any(Array) });
      expect(list.map((r) => r.id)).toContain('lax');

      const os = await call(base, 'GET', '/os', undefined, {});
      expect((os.json as { os: Array<Record<string, unknown>> }).os).toEqual(expect.arrayContaining([expect.objectContaining({ id: 2284 })]));
    });

    it('pages and filters the plan list', async () => {
      const first = await call(base, 'GET', '/plans?per_page=2', undefined, {});
      const page = first.json as { plans: unknown[]; meta: Meta };
      expect(page.plans).toHaveLength(2);
      expect(page.meta.links.next).not.toBe('');
      const vhf = await call(base, 'GET', '/plans?type=vhf', undefined, {});
      expect((vhf.json as { plans: Array<{ type: string }> }).plans.every((p) => p.type === 'vhf')).toBe(true);
    });

    it('answers unknown routes with a JSON 404 and a wrong method with 405', async () => {
      const missing = await call(base, 'GET', '/nothing-here');
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({ error: 'Not found.', status: 404 });
      const wrong = await call(base, 'PUT', '/instances');
      expect(wrong.status).toBe(405);
      expect(wrong.json).toMatchObject({ status: 405 });
    });

    it('rejects malformed JSON with a 400', async () => {
      const res = await call(base, 'POST', '/instances', '{"region":');
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: 'Invalid JSON body.', status: 400 });
    });
  });

  describe('create validation', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['unknown region', { ...CREATE, region: 'xyz' }, /^Invalid region\.$/],
      ['missing region', { plan: 'vc2-1c-1gb', os_id: 2284 }, /^Invalid region\.$/],
      ['unknown plan', { ...CREATE, plan: 'vc2-99c-1tb' }, /^Invalid plan\.$/],
      ['plan not sold in the region', { ...CREATE, region: 'hnl', plan: 'vc2-1c-0.5gb' }, /not available in region hnl/],
      ['no image source', { region: 'ewr', plan: 'vc2-1c-1gb' }, /image source is required/],
      ['two image sources', { ...CREATE, app_id: 5 }, /Only one image source/],
      ['unknown os_id', { ...CREATE, os_id: 999_999 }, /Invalid operating system/],
      ['non-numeric os_id', { ...CREATE, os_id: '22x' }, /Invalid operating system/],
      ['bad base64 user_data', { ...CREATE, user_data: 'not base64!' }, /user_data/],
      ['tags not strings', { ...CREATE, tags: ['a', 1] }, /tags/],
      ['backups as boolean', { ...CREATE, backups: true }, /backups/],
      ['enable_ipv6 as string', { ...CREATE, enable_ipv6: 'yes' }, /enable_ipv6/],
      ['body not an object', [1, 2] as unknown as Record<string, unknown>, /JSON object/],
    ];
    for (const [name, body, message] of cases) {
      it(`rejects ${name} with a 400`, async () => {
        const res = await call(base, 'POST', '/instances', body);
        expect(res.status).toBe(400);
        const error = res.json as { error: string; status: number };
        expect(error.status).toBe(400);
        expect(error.error).toMatch(message);
      });
    }

    it('accepts os_id as a numeric string and returns the full pending instance', async () => {
      const userData = Buffer.from('#cloud-config\n').toString('base64');
      const instance = await createInstance(base, {
        region: 'lax',
        plan: 'vc2-1c-2gb',
        os_id: '2284',
        label: 'bot-1',
        hostname: 'bot-1',
        tags: ['powernode', 'account:abc'],
        user_data: userData,
        backups: 'enabled',
        enable_ipv6: true,
      });
      expect(instance).toMatchObject({
        os: 'Ubuntu 24.04 LTS x64',
        os_id: 2284,
        app_id: 0,
        image_id: '',
        ram: 2048,
        disk: 0,
        vcpu_count: 1,
        region: 'lax',
        plan: 'vc2-1c-2gb',
        status: 'pending',
        power_status: 'running',
        server_status: 'none',
        main_ip: '0.0.0.0',
        netmask_v4: '',
        gateway_v4: '0.0.0.0',
        internal_ip: '',
        kvm: '',
        label: 'bot-1',
        hostname: 'bot-1',
        tag: '',
        tags: ['powernode', 'account:abc'],
        firewall_group_id: '',
        features: ['auto_backups', 'ipv6'],
        user_scheme: 'root',
      });
      expect(instance.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(instance.date_created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/);
      expect(instance.default_password).toEqual(expect.any(String));

      const fetched = await call(base, 'GET', `/instances/${instance.id}`);
      expect((fetched.json as { instance: Instance }).instance).not.toHaveProperty('default_password');
      const stored = await call(base, 'GET', `/instances/${instance.id}/user-data`);
      expect(stored.json).toEqual({ user_data: { data: userData } });
    });
  });

  describe('get, delete and power actions', () => {
    it('returns 404 "instance not found" for an unknown id on every instance route', async () => {
      const id = '00000000-0000-4000-8000-000000000000';
      for (const [method, path] of [['GET', `/instances/${id}`], ['DELETE', `/instances/${id}`], ['POST', `/instances/${id}/halt`]] as const) {
        const res = await call(base, method, path);
        expect(res.status).toBe(404);
        expect(res.text).toBe('{"error":"instance not found","status":404}');
      }
    });

    it('deletes with an empty 204, after which the instance is gone', async () => {
      const instance = await createInstance(base);
      const res = await call(base, 'DELETE', `/instances/${instance.id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect((await call(base, 'GET', `/instances/${instance.id}`)).status).toBe(404);
    });

    it('halts, starts and reboots with 204s that move power_status', async () => {
      const instance = await createInstance(base);
      expect((await call(base, 'POST', `/instances/${instance.id}/halt`)).status).toBe(204);
      expect(((await call(base, 'GET', `/instances/${instance.id}`)).json as { instance: Instance }).instance.power_status).toBe('stopped');
      expect((await call(base, 'POST', `/instances/${instance.id}/start`)).status).toBe(204);
      expect(((await call(base, 'GET', `/instances/${instance.id}`)).json as { instance: Instance }).instance.power_status).toBe('running');
      expect((await call(base, 'POST', '/instances/halt', { instance_ids: [instance.id] })).status).toBe(204);
      expect((await call(base, 'POST', `/instances/${instance.id}/reboot`)).status).toBe(204);
      expect(((await call(base, 'GET', `/instances/${instance.id}`)).json as { instance: Instance }).instance.power_status).toBe('running');
    });
  });

  describe('listing', () => {
    const label = `list-${Date.now()}`;
    const ids: string[] = [];

    beforeAll(async () => {
      for (let i = 0; i < 5; i += 1) {
        const region = i < 3 ? 'ewr' : 'lax';
        ids.push((await createInstance(base, { ...CREATE, region, label, tags: i % 2 === 0 ? ['even', label] : [label] })).id);
      }
    });

    it('walks the list with per_page and the next/prev cursors', async () => {
      const seen: string[] = [];
      let cursor = '';
      let pages = 0;
      do {
        const res = await call(base, 'GET', `/instances?label=${label}&per_page=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(res.status).toBe(200);
        const body = res.json as { instances: Instance[]; meta: Meta };
        expect(body.meta.total).toBe(5);
        if (pages === 0) expect(body.meta.links.prev).toBe('');
        else expect(body.meta.links.prev).not.toBe('');
        seen.push(...body.instances.map((i) => i.id));
        cursor = body.meta.links.next;
        pages += 1;
      } while (cursor !== '');
      expect(pages).toBe(3);
      expect(seen).toEqual(ids);
    });

    it('filters by label, tag and region', async () => {
      const byTag = (await call(base, 'GET', `/instances?tag=even&label=${label}`)).json as { instances: Instance[]; meta: Meta };
      expect(byTag.instances.map((i) => i.id)).toEqual([ids[0], ids[2], ids[4]]);
      const byRegion = (await call(base, 'GET', `/instances?region=lax&label=${label}`)).json as { instances: Instance[]; meta: Meta };
      expect(byRegion.instances.map((i) => i.id)).toEqual([ids[3], ids[4]]);
      expect(byRegion.meta).toEqual({ total: 2, links: { next: '', prev: '' } });
      const none = (await call(base, 'GET', '/instances?label=no-such-label')).json as { instances: Instance[]; meta: Meta };
      expect(none).toEqual({ instances: [], meta: { total: 0, links: { next: '', prev: '' } } });
    });

    it('rejects a bad per_page or cursor with a 400', async () => {
      for (const query of ['per_page=0', 'per_page=501', 'per_page=abc', 'cursor=garbage']) {
        const res = await call(base, 'GET', `/instances?${query}`);
        expect(res.status).toBe(400);
        expect(res.json).toMatchObject({ status: 400 });
      }
    });
  });

  describe('request journal', () => {
    beforeEach(async () => {
      expect((await call(origin, 'DELETE', '/__emulator/requests', undefined, {})).status).toBe(204);
    });

    it('records method, path with query, status and timing, and never the key', async () => {
      await call(base, 'GET', '/instances?label=journal');
      await call(base, 'GET', '/account', undefined, { authorization: 'Bearer wrong' });
      await call(base, 'POST', '/instances', { ...CREATE, label: 'journal' });

      const res = await call(origin, 'GET', '/__emulator/requests', undefined, {});
      expect(res.status).toBe(200);
      const { requests } = res.json as { requests: Array<Record<string, unknown>> };
      expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
        ['GET', '/v2/instances?label=journal', 200],
        ['GET', '/v2/account', 401],
        ['POST', '/v2/instances', 202],
      ]);
      for (const entry of requests) {
        const keys = entry.method === 'POST' ? ['account', 'duration_ms', 'method', 'path', 'status', 'tags', 'time'] : ['duration_ms', 'method', 'path', 'status', 'time'];
        expect(Object.keys(entry).sort()).toEqual(keys);
        expect(new Date(entry.time as string).toISOString()).toBe(entry.time);
        expect(entry.duration_ms).toEqual(expect.any(Number));
      }
      expect(res.text).not.toContain(KEY);
      expect(res.text).not.toContain('wrong');
      expect(res.text.toLowerCase()).not.toContain('bearer');
    });

    it('filters by method, path prefix and since', async () => {
      await call(base, 'GET', '/regions', undefined, {});
      // The journal keeps millisecond times, so step off the millisecond of the earlier request.
      await new Promise((r) => setTimeout(r, 5));
      const marker = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 5));
      await call(base, 'POST', '/instances', CREATE);
      await call(base, 'GET', '/plans', undefined, {});

      const posts = (await call(origin, 'GET', '/__emulator/requests?method=post&path_prefix=/v2/instances', undefined, {})).json as { requests: unknown[] };
      expect(posts.requests).toHaveLength(1);
      const since = (await call(origin, 'GET', `/__emulator/requests?since=${encodeURIComponent(marker)}`, undefined, {})).json as {
        requests: Array<{ path: string }>;
      };
      expect(since.requests.map((r) => r.path)).toEqual(['/v2/instances', '/v2/plans']);
      const bad = await call(origin, 'GET', '/__emulator/requests?since=yesterday', undefined, {});
      expect(bad.status).toBe(400);
    });

    it("keeps a creation's requested tags, even for a refused create, and filters by tag", async () => {
      await call(base, 'POST', '/instances', { ...CREATE, tags: ['account:a1', 'm1'] });
      await call(base, 'POST', '/instances', { ...CREATE, region: 'nowhere', tags: ['account:a2'] });
      await call(base, 'POST', '/instances', { ...CREATE, tags: undefined });
      await call(base, 'POST', '/instances', { ...CREATE, tags: ['account:a3'] }, { authorization: 'Bearer wrong' });

      const all = (await call(origin, 'GET', '/__emulator/requests?method=post', undefined, {})).json as { requests: Array<{ status: number; tags?: string[] }> };
      expect(all.requests.map((r) => [r.status, r.tags])).toEqual([
        [202, ['account:a1', 'm1']],
        [400, ['account:a2']],
        [202, []],
        [401, ['account:a3']],
      ]);
      const a2 = (await call(origin, 'GET', '/__emulator/requests?tag=account:a2', undefined, {})).json as { requests: Array<{ status: number }> };
      expect(a2.requests.map((r) => r.status)).toEqual([400]);
    });

    it('is emptied by DELETE and does not record its own calls', async () => {
      await call(base, 'GET', '/regions', undefined, {});
      await call(origin, 'DELETE', '/__emulator/requests', undefined, {});
      await call(origin, 'GET', '/__emulator/health', undefined, {});
      const after = (await call(origin, 'GET', '/__emulator/requests', undefined, {})).json as { requests: unknown[] };
      expect(after.requests).toEqual([]);
    });
  });
});

describe('vultr emulator accounts: one per key', () => {
  const OTHER = 'vk_test_other_account';
  const AS_OTHER = { authorization: `Bearer ${OTHER}` };
  let emulator: VultrEmulator;
  let base: string;

  beforeAll(async () => {
    emulator = await start({ apiKeys: [KEY, OTHER] });
    base = emulator.url;
  });
  afterAll(() => emulator.close());

  it('answers GET /account with each key\'s own account, in Vultr\'s shape', async () => {
    const first = await call(base, 'GET', '/account');
    const second = await call(base, 'GET', '/account', undefined, AS_OTHER);
    expect(first.json).toMatchObject({ account: { name: 'Powernode Reference', email: 'platform@powernode.test' } });
    expect(second.json).toMatchObject({ account: { name: 'Powernode Reference account 2', email: 'account-2@powernode.test', acls: expect.any(Array), balance: expect.any(Number) } });
    expect(Object.keys((second.json as { account: object }).account).sort()).toEqual(Object.keys((first.json as { account: object }).account).sort());
  });

  it("hides an account's instance from another key: 404 on GET, DELETE, power actions and user-data, absent from listings", async () => {
    const theirs = await createInstance(base, { ...CREATE, label: 'other-account', tags: ['account:iso'] });
    const mine = (await call(base, 'POST', '/instances', { ...CREATE, label: 'second-account', tags: ['account:iso'] }, AS_OTHER)).json as { instance: Instance };

    for (const [method, path] of [
      ['GET', `/instances/${theirs.id}`],
      ['DELETE', `/instances/${theirs.id}`],
      ['POST', `/instances/${theirs.id}/halt`],
      ['GET', `/instances/${theirs.id}/user-data`],
    ] as const) {
      const answer = await call(base, method, path, undefined, AS_OTHER);
      expect({ method, path, status: answer.status, body: answer.json }).toEqual({ method, path, status: 404, body: { error: 'instance not found', status: 404 } });
    }
    expect((await call(base, 'POST', '/instances/halt', { instance_ids: [mine.instance.id, theirs.id] }, AS_OTHER)).status).toBe(404);

    const listed = async (headers: Record<string, string>, query = '') =>
      ((await call(base, 'GET', `/instances${query}`, undefined, headers)).json as { instances: Instance[]; meta: Meta });
    expect((await listed(AS_OTHER, '?tag=account:iso')).instances.map((i) => i.id)).toEqual([mine.instance.id]);
    expect((await listed(AUTH, '?tag=account:iso')).instances.map((i) => i.id)).toEqual([theirs.id]);
    expect((await listed(AS_OTHER)).meta.total).toBe(1);

    // Still there for its own key, untouched by the other's refused calls; and deletable by it.
    expect(((await call(base, 'GET', `/instances/${theirs.id}`)).json as { instance: Instance }).instance.power_status).toBe('running');
    expect((await call(base, 'DELETE', `/instances/${mine.instance.id}`, undefined, AS_OTHER)).status).toBe(204);
    expect((await call(base, 'DELETE', `/instances/${theirs.id}`)).status).toBe(204);
  });

  it('journals which account a create acted for (its e-mail), never the key', async () => {
    const origin = new URL(base).origin;
    await call(origin, 'DELETE', '/__emulator/requests', undefined, {});
    await call(base, 'POST', '/instances', { ...CREATE, tags: ['account:j'] }, AS_OTHER);
    await call(base, 'POST', '/instances', { ...CREATE, tags: ['account:j'] }, { authorization: 'Bearer wrong' });
    const res = await call(origin, 'GET', '/__emulator/requests?method=post', undefined, {});
    expect((res.json as { requests: Array<{ status: number; account?: string }> }).requests.map((r) => [r.status, r.account])).toEqual([
      [202, 'account-2@powernode.test'],
      [401, undefined],
    ]);
    expect(res.text).not.toContain(OTHER);
  });
});

describe('vultr emulator lifecycle', () => {
  it('goes pending → active/installingbooting with a main_ip → ok', async () => {
    const emulator = await start({ bootDelayMs: 50, okDelayMs: 100 });
    try {
      const created = await createInstance(emulator.url);
      expect(created).toMatchObject({ status: 'pending', server_status: 'none', main_ip: '0.0.0.0' });
      const booting = await pollInstance(emulator.url, created.id, (i) => i.status === 'active');
      expect(booting).toMatchObject({ power_status: 'running', server_status: 'installingbooting', netmask_v4: '255.255.255.0', disk: 25 });
      expect(booting.main_ip).toMatch(/^(203\.0\.113|198\.51\.100|192\.0\.2)\.\d+$/);
      const ok = await pollInstance(emulator.url, created.id, (i) => i.server_status === 'ok');
      expect(ok.main_ip).toBe(booting.main_ip);
      expect(ok.status).toBe('active');
    } finally {
      await emulator.close();
    }
  });

  it('keeps instances pending forever under the neverRunning fault', async () => {
    const emulator = await start({ bootDelayMs: 0, faults: { neverRunning: true } });
    try {
      const created = await createInstance(emulator.url);
      await new Promise((r) => setTimeout(r, 20));
      const res = await call(emulator.url, 'GET', `/instances/${created.id}`);
      expect((res.json as { instance: Instance }).instance).toMatchObject({ status: 'pending', server_status: 'none', main_ip: '0.0.0.0' });
    } finally {
      await emulator.close();
    }
  });
});

describe('vultr emulator rate limit', () => {
  it('answers the 31st request within a second with a 429', async () => {
    const emulator = await start({ rateLimitPerSecond: 30 });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 31; i += 1) statuses.push((await call(emulator.url, 'GET', '/regions', undefined, {})).status);
      expect(statuses.slice(0, 30).every((s) => s === 200)).toBe(true);
      const last = await call(emulator.url, 'GET', '/regions', undefined, {});
      expect(statuses[30]).toBe(429);
      expect(last.text).toBe('{"error":"Rate limit exceeded.","status":429}');
      // The journal is outside /v2 and stays reachable while the API is throttled.
      const journal = await call(new URL(emulator.url).origin, 'GET', '/__emulator/requests?method=GET', undefined, {});
      expect(journal.status).toBe(200);
      expect((journal.json as { requests: Array<{ status: number }> }).requests.filter((r) => r.status === 429)).toHaveLength(2);
    } finally {
      await emulator.close();
    }
  });
});

describe('vultr emulator rate_limited fault', () => {
  it('answers every /v2 request with 429, keyed or not, while the journal stays readable', async () => {
    const emulator = await start({ faults: { rateLimited: true } });
    try {
      for (const [method, path, headers] of [
        ['GET', '/account', AUTH],
        ['GET', '/regions', {}],
        ['POST', '/instances', AUTH],
      ] as const) {
        const answer = await call(emulator.url, method, path, method === 'POST' ? CREATE : undefined, headers);
        expect({ path, status: answer.status, body: answer.json }).toEqual({ path, status: 429, body: { error: 'Rate limit exceeded.', status: 429 } });
      }
      const journal = await call(new URL(emulator.url).origin, 'GET', '/__emulator/requests', undefined, {});
      expect((journal.json as { requests: Array<{ status: number }> }).requests.map((r) => r.status)).toEqual([429, 429, 429]);
    } finally {
      await emulator.close();
    }
  });
});

describe('vultr emulator persistence', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vultr-emulator-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('knows the same instances after close and restart with the same state file', async () => {
    const stateFile = join(dir, 'nested', 'vultr-state.json');
    const first = await start({ stateFile, bootDelayMs: 0 });
    const kept = await createInstance(first.url, { ...CREATE, label: 'kept', tags: ['powernode'] });
    const removed = await createInstance(first.url, { ...CREATE, label: 'removed' });
    expect((await call(first.url, 'DELETE', `/instances/${removed.id}`)).status).toBe(204);
    expect((await call(first.url, 'POST', `/instances/${kept.id}/halt`)).status).toBe(204);
    const before = ((await call(first.url, 'GET', `/instances/${kept.id}`)).json as { instance: Instance }).instance;
    await first.close();

    const second = await start({ stateFile, bootDelayMs: 0 });
    try {
      const after = ((await call(second.url, 'GET', `/instances/${kept.id}`)).json as { instance: Instance }).instance;
      expect(after).toEqual({ ...before, server_status: after.server_status });
      expect(after.power_status).toBe('stopped');
      expect((await call(second.url, 'GET', `/instances/${removed.id}`)).status).toBe(404);
      // A new instance never reuses an address handed out before the restart.
      const next = await pollInstance(second.url, (await createInstance(second.url)).id, (i) => i.status === 'active');
      expect(next.main_ip).not.toBe(after.main_ip);
      expect(await readdir(join(dir, 'nested'))).toEqual(['vultr-state.json']);
    } finally {
      await second.close();
    }
  });

  it("keeps each instance's account across a restart, and reads a state file from before accounts as the first key's", async () => {
    const stateFile = join(dir, 'owned.json');
    const other = { authorization: 'Bearer vk_test_second' };
    const first = await start({ stateFile, apiKeys: [KEY, 'vk_test_second'] });
    const created = (await call(first.url, 'POST', '/instances', CREATE, other)).json as { instance: Instance };
    await first.close();
    expect(await readFile(stateFile, 'utf8')).not.toContain('vk_test_second');

    const second = await start({ stateFile, apiKeys: [KEY, 'vk_test_second'] });
    try {
      expect((await call(second.url, 'GET', `/instances/${created.instance.id}`, undefined, other)).status).toBe(200);
      expect((await call(second.url, 'GET', `/instances/${created.instance.id}`)).status).toBe(404);
    } finally {
      await second.close();
    }

    const old = join(dir, 'version-1.json');
    const record = { id: 'old-instance', created_ms: 0, ip_index: 0, power: 'running', spec: { region: 'ewr', plan: 'vc2-1c-1gb', image: { kind: 'os', os_id: 2284 }, tags: [] } };
    await writeFile(old, JSON.stringify({ version: 1, next_ip_index: 1, instances: [record] }));
    const third = await start({ stateFile: old, apiKeys: [KEY, 'vk_test_second'] });
    try {
      expect((await call(third.url, 'GET', '/instances/old-instance')).status).toBe(200);
      expect((await call(third.url, 'GET', '/instances/old-instance', undefined, other)).status).toBe(404);
    } finally {
      await third.close();
    }
  });

  it('refuses to start from a state file that is not JSON', async () => {
    const stateFile = join(dir, 'broken.json');
    await writeFile(stateFile, '{not json');
    await expect(start({ stateFile })).rejects.toThrow(/not valid JSON/);
  });
});
