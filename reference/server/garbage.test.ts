/**
 * Garbage in, 4xx out: every route gets malformed JSON, wrong types, huge and odd strings,
 * missing fields, arrays for objects, wrong content types and bad ids. None may answer 5xx, and
 * every error must be the JSON envelope without a stack trace.
 */
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { discordMission, registerUser, startHarness, TEST_KEYS, type Harness, type Identity } from './test-support';

type Route = { method: 'GET' | 'POST' | 'PATCH'; path: (id: string) => string; auth: 'user' | 'internal' | 'none' };

const ROUTES: Route[] = [
  { method: 'GET', path: () => '/up', auth: 'none' },
  { method: 'GET', path: () => '/api/v1/health', auth: 'none' },
  { method: 'GET', path: () => '/api/v1/config', auth: 'none' },
  { method: 'POST', path: () => '/api/v1/auth/register', auth: 'none' },
  { method: 'POST', path: () => '/api/v1/auth/login', auth: 'none' },
  { method: 'GET', path: () => '/api/v1/auth/me', auth: 'user' },
  { method: 'POST', path: () => '/api/v1/billing/checkout_sessions', auth: 'user' },
  { method: 'GET', path: (id) => `/api/v1/billing/checkout_sessions/${id}`, auth: 'user' },
  { method: 'POST', path: () => '/api/v1/billing/stripe/webhook', auth: 'none' },
  { method: 'GET', path: () => '/api/v1/billing/subscription', auth: 'user' },
  { method: 'GET', path: () => '/api/v1/billing/spend', auth: 'user' },
  { method: 'POST', path: () => '/api/v1/internal/billing/provisioning/meter/rollup', auth: 'internal' },
  { method: 'POST', path: () => '/api/v1/ai/conversations/concierge', auth: 'user' },
  { method: 'GET', path: (id) => `/api/v1/ai/conversations/${id}/messages`, auth: 'user' },
  { method: 'POST', path: (id) => `/api/v1/ai/conversations/${id}/messages`, auth: 'user' },
  { method: 'GET', path: (id) => `/api/v1/ai/missions/${id}`, auth: 'user' },
  { method: 'POST', path: (id) => `/api/v1/ai/missions/${id}/compose_plan`, auth: 'user' },
  { method: 'POST', path: (id) => `/api/v1/ai/missions/${id}/approve`, auth: 'user' },
  { method: 'GET', path: (id) => `/api/v1/ai/missions/${id}/events`, auth: 'user' },
  { method: 'POST', path: (id) => `/api/v1/ai/missions/${id}/events/ticket`, auth: 'user' },
  { method: 'GET', path: () => '/api/v1/system/provider_credentials', auth: 'user' },
  { method: 'POST', path: () => '/api/v1/system/provider_credentials', auth: 'user' },
  { method: 'PATCH', path: (id) => `/api/v1/system/provider_credentials/${id}`, auth: 'user' },
];

const BAD_IDS = [
  'not-a-uuid',
  '123',
  "1' OR '1'='1",
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-4fff-bfff-ffffffffffff',
  '%00',
  '..%2F..%2Fetc%2Fpasswd',
  'x'.repeat(300),
  '%F0%9F%A4%96',
  'cs_test_' + 'a'.repeat(40),
  'cs_',
];

const JSON_BODIES: string[] = [
  '{',
  '{"email":',
  'nul',
  '[1,2',
  '"unterminated',
  '{"a":1,}',
  "{'single':'quotes'}",
  'null',
  '42',
  '"just a string"',
  'true',
  '[]',
  '[{"email":"a@b.co"}]',
  '{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  JSON.stringify({ email: 1, password: 2, name: 3, account_name: 4 }),
  JSON.stringify({ email: ['a@b.co'], password: { x: 1 }, name: null }),
  JSON.stringify({ plan_slug: 42 }),
  JSON.stringify({ plan_slug: 'x'.repeat(10_000) }),
  JSON.stringify({ message: 'not an object' }),
  JSON.stringify({ message: { content: 123 } }),
  JSON.stringify({ message: { content: 'x'.repeat(4_001) } }),
  JSON.stringify({ message: { content: '\u0000\u202e🤖'.repeat(100) } }),
  JSON.stringify({ provider_type: 'pro_cloud', api_key: 12345678 }),
  JSON.stringify({ provider_type: 'pro_cloud', api_key: 'has spaces inside it' }),
  JSON.stringify({ is_active: 'yes' }),
  JSON.stringify({ is_active: null }),
  JSON.stringify({ now: 'not a date' }),
  JSON.stringify({ now: 12345 }),
  JSON.stringify({ id: 'evt_x', type: 'checkout.session.completed', data: { object: { id: 'cs_test_x' } } }),
  JSON.stringify({ email: 'x'.repeat(100_000), password: 'y'.repeat(100_000), name: 'z'.repeat(100_000) }),
  '['.repeat(50_000) + ']'.repeat(50_000),
];

const OTHER_CONTENT: { type: string | undefined; payload: string }[] = [
  { type: 'text/plain', payload: 'hello' },
  { type: 'application/x-www-form-urlencoded', payload: 'email=a%40b.co&password=12345678' },
  { type: 'multipart/form-data; boundary=x', payload: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--' },
  { type: 'application/xml', payload: '<a>1</a>' },
  { type: 'application/json; charset=latin1', payload: '{"a":1}' },
  { type: 'application/json', payload: '' },
  { type: 'application/json', payload: '   ' },
  { type: 'application/json', payload: 'x'.repeat(2 * 1024 * 1024) },
];

describe('garbage on every route', () => {
  let h: Harness;
  let app: FastifyInstance;
  let who: Identity;
  let realIds: string[];

  beforeAll(async () => {
    h = await startHarness();
    app = await h.app();
    who = await registerUser(app, 'garbage');
    const missionId = await discordMission(app, who);
    const conversation = await h.db.pool.query<{ id: string }>('SELECT id FROM ai_conversations WHERE account_id = $1', [who.accountId]);
    realIds = [missionId, conversation.rows[0]!.id];
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  function headersFor(route: Route, extra: Record<string, string> = {}): Record<string, string> {
    if (route.auth === 'user') return { authorization: `Bearer ${who.token}`, ...extra };
    if (route.auth === 'internal') return { authorization: `Bearer ${TEST_KEYS.internal}`, ...extra };
    return extra;
  }

  async function expectClean(request: InjectOptions, label: string): Promise<void> {
    const response = await app.inject(request);
    expect(response.statusCode, `${label} → ${response.statusCode} ${response.body.slice(0, 200)}`).toBeLessThan(500);
    if (request.url === '/up') return;
    const isStream = String(response.headers['content-type'] ?? '').startsWith('text/event-stream');
    expect(isStream, `${label} opened an event stream`).toBe(false);
    const payload = response.json() as { success?: boolean; error?: { code?: unknown; message?: unknown } };
    if (response.statusCode >= 400) {
      expect(payload.success, label).toBe(false);
      expect(typeof payload.error?.code, label).toBe('string');
      expect(typeof payload.error?.message, label).toBe('string');
      expect(response.body, label).not.toMatch(/\bat .+\.(ts|js):\d+/);
    } else {
      expect(payload.success, label).toBe(true);
    }
  }

  it('never answers 5xx to malformed or mistyped JSON bodies', async () => {
    for (const route of ROUTES) {
      if (route.method === 'GET') continue;
      const url = route.path(BAD_IDS[4]!);
      for (const payload of JSON_BODIES) {
        await expectClean(
          { method: route.method, url, headers: headersFor(route, { 'content-type': 'application/json' }), payload },
          `${route.method} ${url} ${payload.slice(0, 40)}`,
        );
      }
    }
  });

  it('never answers 5xx to other content types, empty and oversized bodies', async () => {
    for (const route of ROUTES) {
      if (route.method === 'GET') continue;
      const url = route.path(BAD_IDS[4]!);
      for (const { type, payload } of OTHER_CONTENT) {
        await expectClean(
          { method: route.method, url, headers: headersFor(route, type ? { 'content-type': type } : {}), payload },
          `${route.method} ${url} as ${type}`,
        );
      }
      await expectClean({ method: route.method, url, headers: headersFor(route), payload: 'raw bytes, no content type' }, `${route.method} ${url} untyped`);
    }
  });

  it('answers 404, not 500, for bad ids in every path', async () => {
    for (const route of ROUTES) {
      for (const id of BAD_IDS) {
        const url = route.path(id);
        if (url === route.path('')) continue;
        const request: InjectOptions = { method: route.method, url, headers: headersFor(route) };
        if (route.method !== 'GET') request.payload = route.method === 'PATCH' ? { is_active: true } : { message: { content: 'hi' } };
        await expectClean(request, `${route.method} ${url}`);
        const response = await app.inject(request);
        expect(response.statusCode, `${route.method} ${url}`).toBe(404);
      }
    }
  });

  it('answers 404 for real ids of the wrong kind', async () => {
    for (const route of ROUTES) {
      for (const id of realIds) {
        const url = route.path(id);
        if (url === route.path('') || url.endsWith('/events')) continue;
        const request: InjectOptions = { method: route.method, url, headers: headersFor(route) };
        if (route.method === 'PATCH') request.payload = { is_active: true };
        await expectClean(request, `${route.method} ${url}`);
      }
    }
  });

  it('answers 401, not 500, to garbage tokens on protected routes', async () => {
    const tokens = ['Bearer', 'Bearer ', 'bearer x y', 'Basic Zm9vOmJhcg==', `Bearer ${'x'.repeat(5_000)}`, 'Bearer \u00ff\u00fe', 'Bearer m1at_🤖'];
    for (const route of ROUTES.filter((r) => r.auth !== 'none')) {
      for (const authorization of tokens) {
        const url = route.path('ffffffff-ffff-4fff-bfff-ffffffffffff');
        const response = await app.inject({ method: route.method, url, headers: { authorization }, payload: route.method === 'GET' ? undefined : {} });
        expect(response.statusCode, `${route.method} ${url} ${authorization.slice(0, 20)}`).toBe(401);
      }
    }
    for (const query of [
      `access_token=${'%FF'.repeat(10)}`,
      `access_token=${who.token}`,
      `ticket=${'%FF'.repeat(10)}`,
      `ticket=${'x'.repeat(5_000)}`,
      'ticket=',
      'ticket',
      'ticket=a&ticket=b',
      'ticket[a]=1',
      `ticket=m1st_${'%00'.repeat(43)}`,
    ]) {
      const response = await app.inject({ method: 'GET', url: `/api/v1/ai/missions/${realIds[0]}/events?${query}` });
      expect(response.statusCode, query.slice(0, 40)).toBe(401);
      expect(response.json(), query.slice(0, 40)).toMatchObject({ success: false, error: { code: expect.any(String), message: expect.any(String) } });
    }
  });

  it('answers 400 to garbage Stripe signatures and 404/405-style envelopes to unknown routes and methods', async () => {
    for (const signature of ['', 't=,v1=', 'v1=abc', `t=${Date.now()},v1=${'0'.repeat(64)}`, 'x'.repeat(5_000)]) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/billing/stripe/webhook',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload: '{"id":"evt_1","type":"checkout.session.completed"}',
      });
      expect(response.statusCode).toBe(400);
    }
    for (const request of [
      { method: 'DELETE' as const, url: '/api/v1/auth/register' },
      { method: 'PUT' as const, url: '/api/v1/system/provider_credentials' },
      { method: 'GET' as const, url: '/api/v2/anything' },
      { method: 'POST' as const, url: '/api/v1/auth/register/extra' },
      { method: 'GET' as const, url: '/api/v1/ai/missions' },
    ]) {
      await expectClean(request, `${request.method} ${request.url}`);
    }
  });
});
