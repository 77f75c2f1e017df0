import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { createStripe } from '../clients/stripe';
import { Payments } from '../system/payments';
import type { Queries } from '../clients/queries';
import type { NodeInstanceRow } from '../schemas';
import {
  probeSystem,
  serverErrorsSince,
  stripeReachability,
  stuckInstances,
  undeliveredWebhooks,
  vultrReachability,
  WEBHOOK_GRACE_SECONDS,
  type StuckInstanceDeps,
} from './probes';
import { VultrClient } from '../clients/vultr';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('vultrReachability', () => {
  const ORIGIN = 'http://vultr.test';
  const client = (agent: MockAgent) =>
    new VultrClient({ baseUrl: `${ORIGIN}/v2`, apiKey: 'vk_test_key', dispatcher: agent, backoff: { attempts: 3, baseMs: 1, capMs: 1 }, sleep: async () => undefined });
  const answering = (status: number, body: object, times = 1) => {
    const agent = new MockAgent();
    agent.disableNetConnect();
    agent.get(ORIGIN).intercept({ path: '/v2/account', method: 'GET' }).reply(status, body).times(times);
    return agent;
  };

  it('accepted, rejected (401/403) and rate limited (429 through every retry)', async () => {
    expect(await vultrReachability(client(answering(200, { account: { name: 'x' } })))).toMatchObject({ outcome: 'accepted' });
    expect(await vultrReachability(client(answering(401, { error: 'Invalid API token.', status: 401 })))).toEqual({
      outcome: 'rejected',
      detail: 'GET /v2/account answered 401: Invalid API token.',
    });
    expect(await vultrReachability(client(answering(429, { error: 'Rate limit exceeded.', status: 429 }, 3)))).toEqual({
      outcome: 'rate_limited',
      detail: "GET /v2/account kept answering 429 through the client's backoff: Rate limit exceeded.",
    });
  });

  it('unreachable when nothing listens at VULTR_API_URL', async () => {
    const agent = new Agent();
    try {
      const vultr = new VultrClient({ baseUrl: `http://127.0.0.1:${await closedPort()}/v2`, apiKey: 'k', dispatcher: agent });
      const result = await vultrReachability(vultr);
      expect(result.outcome).toBe('unreachable');
      expect(result.detail).toMatch(/^GET \/account got no answer: .*ECONNREFUSED/);
    } finally {
      await agent.close();
    }
  });

  it('throws what it cannot classify (a 500), for the caller to report as a failed probe', async () => {
    await expect(vultrReachability(client(answering(500, { error: 'boom', status: 500 })))).rejects.toThrow(/answered 500/);
  });
});

describe('stripeReachability', () => {
  it('reachable when the probe answers; unreachable on the SDK connection error (a real one, nothing listening)', async () => {
    expect(await stripeReachability({ probe: async () => undefined }, 'http://s')).toEqual({ reachable: true, detail: 'http://s answered' });
    const base = `http://127.0.0.1:${await closedPort()}`;
    const agent = new Agent();
    try {
      const payments = new Payments(createStripe({ STRIPE_SECRET_KEY: 'sk_test_x', STRIPE_API_BASE: base }), parseConfig({ STRIPE_API_BASE: base }), agent);
      const result = await stripeReachability(payments, base);
      expect(result.reachable).toBe(false);
      expect(result.detail).toMatch(new RegExp(`^${base} gave no answer`));
    } finally {
      await agent.close();
    }
  }, 20_000);

  it('throws an answer that is an error (a rejected key is not "unreachable")', async () => {
    const rejected = Object.assign(new Error('Invalid API Key provided'), { type: 'StripeAuthenticationError', statusCode: 401 });
    await expect(
      stripeReachability(
        {
          probe: async () => {
            throw rejected;
          },
        },
        'http://s',
      ),
    ).rejects.toBe(rejected);
  });
});

describe('undeliveredWebhooks', () => {
  it('leaves out events young enough to be in flight', async () => {
    const now = new Date('2026-01-01T10:00:30Z');
    const at = (s: number) => Math.floor(now.getTime() / 1000) - s;
    const payments = {
      undeliveredEvents: async () => [
        { id: 'evt_old', type: 'checkout.session.completed', created: at(20) },
        { id: 'evt_edge', type: 'customer.subscription.created', created: at(WEBHOOK_GRACE_SECONDS) },
        { id: 'evt_new', type: 'customer.subscription.updated', created: at(1) },
      ],
    };
    expect(await undeliveredWebhooks(payments, new Date('2026-01-01T10:00:00Z'), now)).toEqual([
      { id: 'evt_old', type: 'checkout.session.completed' },
      { id: 'evt_edge', type: 'customer.subscription.created' },
    ]);
  });
});

describe('serverErrorsSince', () => {
  it('counts the 5xx since the test started and keeps the first five lines, clipped', async () => {
    const since = new Date('2026-01-01T10:00:00Z');
    const line = (second: number, status: number, extra = '') => JSON.stringify({ time: since.getTime() + second * 1000, url: `/api/v1/x${extra}`, statusCode: status });
    const text = [line(-1, 500), line(1, 200), ...[2, 3, 4, 5, 6, 7].map((s) => line(s, 500)), line(8, 502, 'y'.repeat(400))].join('\n');
    const result = await serverErrorsSince(async () => ({ source: 'backend.log', text }), since);
    expect(result.count).toBe(7);
    expect(result.source).toBe('backend.log');
    expect(result.lines).toEqual([2, 3, 4, 5, 6].map((s) => line(s, 500)));
    const long = await serverErrorsSince(async () => ({ source: 'b', text: line(8, 502, 'y'.repeat(400)) }), since);
    expect(long.lines[0]).toHaveLength(300);
    expect(long.lines[0]!.endsWith('…')).toBe(true);
  });

  it('lets an unreadable log throw (a probe error, not "no 5xx")', async () => {
    await expect(
      serverErrorsSince(async () => {
        throw new Error('no backend log at /x');
      }, new Date()),
    ).rejects.toThrow('no backend log at /x');
  });
});

describe('stuckInstances', () => {
  const NOW = Date.parse('2026-01-01T10:01:00Z');
  const TIMEOUT = 15_000;
  const ACCOUNT = '00000000-0000-4000-8000-000000000001';
  const row = (name: string, status: NodeInstanceRow['status'], ageMs: number, vultrId: string | null): NodeInstanceRow => ({
    id: `00000000-0000-4000-8000-${String(name.length).padStart(12, '0')}`,
    account_id: ACCOUNT,
    mission_id: null,
    name,
    status,
    provider_instance_id: vultrId,
    public_ip_address: null,
    created_at: new Date(NOW - ageMs),
  });
  const vultrInstance = (id: string, status: string, power = 'running') => ({ id, status, power_status: power, server_status: 'none', region: 'ewr', plan: 'vc2-1c-1gb', tags: [] });

  function deps(reads: NodeInstanceRow[][], vultr: Record<string, ReturnType<typeof vultrInstance> | null | Error>): StuckInstanceDeps & { slept: number[]; emailsAsked: string[][] } {
    const slept: number[] = [];
    const emailsAsked: string[][] = [];
    let read = 0;
    return {
      slept,
      emailsAsked,
      timeoutMs: TIMEOUT,
      now: () => NOW + slept.reduce((a, b) => a + b, 0),
      sleep: async (ms) => {
        slept.push(ms);
      },
      queries: {
        accountsByEmails: async (emails: string[]) => {
          emailsAsked.push(emails);
          return [{ account_id: ACCOUNT, email: emails[0]!, created_at: new Date(NOW) }];
        },
        nodeInstances: async () => reads[Math.min(read++, reads.length - 1)]!,
      },
      vultr: {
        instance: async (id: string) => {
          const answer = vultr[id];
          if (answer instanceof Error) throw answer;
          return answer ?? null;
        },
      },
    };
  }

  it('reports past-deadline instances with the last Vultr status; leaves out ones within their time or failed before Vultr', async () => {
    const rows = [
      row('never-active', 'error', 16_000, 'v-pending'),
      row('quota-after-vultr', 'error', 2_000, 'v-young'),
      row('failed-but-active', 'error', 60_000, 'v-active'),
      row('bad-credentials', 'error', 60_000, null),
      row('just-approved', 'starting', 1_000, 'v-young'),
      row('running', 'running', 60_000, 'v-active'),
      row('stuck-creating', 'provisioning', 20_000, null),
      row('stuck-gone', 'starting', 20_000, 'v-gone'),
    ];
    const d = deps([rows], { 'v-pending': vultrInstance('v-pending', 'pending'), 'v-young': vultrInstance('v-young', 'pending'), 'v-active': vultrInstance('v-active', 'active') });
    expect(await stuckInstances(d, ['e2e+a@example.test'])).toEqual([
      { name: 'never-active', status: 'error', ageSeconds: 16, vultr: { kind: 'found', id: 'v-pending', status: 'pending', power_status: 'running', server_status: 'none' } },
      { name: 'stuck-creating', status: 'provisioning', ageSeconds: 20, vultr: { kind: 'not_created' } },
      { name: 'stuck-gone', status: 'starting', ageSeconds: 20, vultr: { kind: 'gone', id: 'v-gone' } },
    ]);
    expect(d.slept).toEqual([]);
    expect(d.emailsAsked).toEqual([['e2e+a@example.test']]);
  });

  it('waits for an in-flight instance due within the settle window, then judges it on a fresh read', async () => {
    const due = row('due-soon', 'starting', TIMEOUT - 2_000, 'v-pending');
    const d = deps([[due], [{ ...due, status: 'error' }]], { 'v-pending': vultrInstance('v-pending', 'pending') });
    const stuck = await stuckInstances(d, ['e2e+a@example.test']);
    expect(d.slept).toEqual([2_500]);
    expect(stuck.map(({ vultr: _vultr, ...instance }) => instance)).toEqual([{ name: 'due-soon', status: 'error', ageSeconds: 16 }]);
    expect(stuck[0]?.vultr).toMatchObject({ kind: 'found', status: 'pending' });

    const settled = deps([[due], [{ ...due, status: 'running' }]], {});
    expect(await stuckInstances(settled, ['e2e+a@example.test'])).toEqual([]);
  });

  it('costs nothing without identities, and throws when Vultr cannot say whether a failed instance was ready', async () => {
    const none = deps([[]], {});
    expect(await stuckInstances(none, [])).toEqual([]);
    expect(none.emailsAsked).toEqual([]);
    const failing = deps([[row('failed', 'error', 20_000, 'v-x')]], { 'v-x': new Error('Vultr GET /v2/instances/v-x answered 500: boom') });
    await expect(stuckInstances(failing, ['e2e+a@example.test'])).rejects.toThrow(/Vultr instance v-x of NodeInstance failed: .*500/);
    const inFlight = deps([[row('stuck', 'starting', 20_000, 'v-x')]], { 'v-x': new Error('answered 500') });
    expect(await stuckInstances(inFlight, ['e2e+a@example.test'])).toEqual([
      { name: 'stuck', status: 'starting', ageSeconds: 20, vultr: { kind: 'unreadable', id: 'v-x', error: 'answered 500' } },
    ]);
  });
});

describe('probeSystem', () => {
  let server: Server;
  let base: string;
  const agent = new Agent();

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/up') res.writeHead(200).end('ok');
      else if (req.url === '/health') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', failed: {} }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await agent.close();
  });

  const queries = (overrides: Partial<Record<keyof Queries, unknown>> = {}) =>
    ({
      schemaColumns: async () => [],
      aiProvider: async () => ({ name: 'pro_cloud', current_quota_usage: 3, quota_limit: 100 }),
      platformPoolCredentials: async () => [{ is_active: true }],
      plans: async () => [],
      accountsByEmails: async () => [],
      nodeInstances: async () => [],
      ...overrides,
    }) as unknown as Queries;

  it('reports a probe that throws as a probe error and still runs the others', async () => {
    const config = parseConfig({ BASE_URL: base, WORKER_HEALTH_URL: `${base}/health`, NODE_INSTANCE_PROVIDER_ID_SQL: 'provider_instance_id' });
    const probes = await probeSystem({
      config,
      dispatcher: agent,
      queries: queries({
        schemaColumns: async () => {
          throw new Error('permission denied for schema public');
        },
      }),
      vultr: { account: async () => ({}) } as unknown as VultrClient,
      payments: { probe: async () => undefined, undeliveredEvents: async () => [] },
      test: { startedAt: new Date(), emails: [] },
      readLog: async () => {
        throw new Error('no backend log at /nowhere');
      },
    });
    expect(probes.probeErrors).toEqual(['backend log: no backend log at /nowhere', 'schema: permission denied for schema public']);
    expect(probes).toMatchObject({
      backendUp: true,
      aiQuota: { current: 3, limit: 100 },
      workerStatus: 'ok',
      activePlatformCredentials: 1,
      unhealthyPlatformCredentials: [],
      vultrApi: { outcome: 'accepted' },
      stripeApi: { reachable: true },
      undeliveredWebhooks: [],
      stuckInstances: [],
    });
    expect(probes.serverErrors).toBeUndefined();
    expect(probes.missingSchema).toBeUndefined();
  });

  it('says which probes did not run because the API they need did not answer', async () => {
    const config = parseConfig({ BASE_URL: base, WORKER_HEALTH_URL: `${base}/health` });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const probes = await probeSystem({
      config,
      dispatcher: agent,
      queries: queries(),
      vultr: {
        account: async () => {
          throw refused;
        },
      } as unknown as VultrClient,
      payments: {
        probe: async () => {
          throw Object.assign(new Error('An error occurred with our connection to Stripe.'), { type: 'StripeConnectionError' });
        },
        undeliveredEvents: async () => {
          throw new Error('must not be asked');
        },
      },
      test: { startedAt: new Date(), emails: ['e2e+a@example.test'] },
      readLog: async () => ({ source: 'backend.log', text: '' }),
    });
    expect(probes.vultrApi?.outcome).toBe('unreachable');
    expect(probes.stripeApi?.reachable).toBe(false);
    expect(probes.probeErrors).toEqual([
      'Stripe webhook deliveries: not checked, the Stripe API did not answer',
      'provisioning: not checked, Vultr GET /account was unreachable',
    ]);
  });
});
