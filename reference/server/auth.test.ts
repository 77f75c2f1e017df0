import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapCounts } from '../rules/bootstrap';
import { WEB_NOT_BUILT } from './http/web';
import { body, discordMission, login, registerUser, startHarness, TEST_PASSWORD, uniqueEmail, type Harness } from './test-support';

describe('auth, config, health, logging and the web UI', () => {
  let h: Harness;
  let app: FastifyInstance;
  beforeAll(async () => {
    h = await startHarness();
    app = await h.app();
  }, 60_000);
  afterAll(async () => {
    await h?.stop();
  });

  describe('register', () => {
    it('creates account + owner, bootstraps 1/2/3/7 and returns a working token', async () => {
      const email = uniqueEmail('reg');
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: `  ${email.toUpperCase()} `, password: 'password123', name: 'Ada' },
      });
      expect(response.statusCode).toBe(201);
      const data = body(response).data;
      expect(data.user).toEqual({ id: expect.any(String), email, name: 'Ada', account_id: data.account.id });
      expect(data.account.name).toBe("Ada's account");
      expect(data.access_token).toMatch(/^m1at_/);
      expect(await bootstrapCounts(h.db.pool, data.account.id)).toEqual({ providers: 1, regions: 2, instance_types: 3, templates: 7 });

      const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${data.access_token}` } });
      expect(body(me).data).toEqual({ user: data.user, account: data.account });

      const stored = await h.db.pool.query('SELECT password_digest FROM users WHERE id = $1', [data.user.id]);
      expect(stored.rows[0].password_digest).toMatch(/^scrypt\$/);
      const token = await h.db.pool.query('SELECT token_digest, expires_at FROM access_tokens WHERE user_id = $1', [data.user.id]);
      expect(token.rows[0].token_digest).not.toContain(data.access_token);
      const days = (token.rows[0].expires_at.getTime() - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(29.9);
    });

    it('uses the given account name', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: uniqueEmail(), password: 'password123', name: 'Ada', account_name: 'Analytical Engines' },
      });
      expect(body(response).data.account.name).toBe('Analytical Engines');
    });

    it('answers 409 email_taken for a duplicate, whatever its case', async () => {
      const email = uniqueEmail('dup');
      await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email, password: 'password123', name: 'A' } });
      const again = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: email.toUpperCase(), password: 'password123', name: 'B' },
      });
      expect(again.statusCode).toBe(409);
      expect(body(again)).toEqual({ success: false, error: { code: 'email_taken', message: 'An account with this email already exists' } });
      const accounts = await h.db.pool.query(`SELECT count(*)::int AS n FROM users WHERE email = $1`, [email]);
      expect(accounts.rows[0].n).toBe(1);
    });

    it('answers 422 validation_failed with one message per field', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/register',
        payload: { email: 'not-an-email', password: 'short', name: '   ' },
      });
      expect(response.statusCode).toBe(422);
      const error = body(response).error;
      expect(error.code).toBe('validation_failed');
      expect(error.details).toEqual({
        email: 'Email must be a valid email address.',
        password: 'Password must be at least 8 characters.',
        name: 'Name must be 1 to 100 characters.',
      });
    });

    it('reports missing fields and wrong types from the schema', async () => {
      const response = await app.inject({ method: 'POST', url: '/api/v1/auth/register', payload: { email: 42 } });
      expect(response.statusCode).toBe(422);
      expect(body(response).error.details).toEqual({
        email: 'Email must be a string.',
        password: 'Password is required.',
        name: 'Name is required.',
      });
    });

    it('skips the bootstrap under bootstrap_skipped and seeds 6 templates under bootstrap_six_templates', async () => {
      const skipped = await h.app({ faults: ['bootstrap_skipped'] });
      const a = await registerUser(skipped, 'skip');
      expect(await bootstrapCounts(h.db.pool, a.accountId)).toEqual({ providers: 0, regions: 0, instance_types: 0, templates: 0 });
      const six = await h.app({ faults: ['bootstrap_six_templates'] });
      const b = await registerUser(six, 'six');
      expect((await bootstrapCounts(h.db.pool, b.accountId)).templates).toBe(6);
    });
  });

  describe('login', () => {
    it('logs in with the right password, case-insensitively on the email', async () => {
      const who = await registerUser(app, 'login');
      const response = await login(app, who.email.toUpperCase());
      expect(response.statusCode).toBe(200);
      expect(body(response).data.user.id).toBe(who.userId);
      expect(body(response).data.access_token).not.toBe(who.token);
    });

    it('gives the same 401 for a wrong password and an unknown email', async () => {
      const who = await registerUser(app, 'login2');
      const wrong = await login(app, who.email, 'nope nope nope');
      const unknown = await login(app, uniqueEmail('ghost'), 'whatever1');
      expect(wrong.statusCode).toBe(401);
      expect(unknown.statusCode).toBe(401);
      expect(body(wrong)).toEqual(body(unknown));
      expect(body(wrong).error.code).toBe('invalid_credentials');
    });
  });

  describe('tokens', () => {
    it('rejects missing, malformed, unknown and expired tokens with 401 unauthorized', async () => {
      const who = await registerUser(app, 'tokens');
      await h.db.pool.query(`UPDATE access_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1`, [who.userId]);
      for (const authorization of [undefined, 'Bearer', 'Basic abc', 'Bearer m1at_unknown', who.auth.authorization]) {
        const response = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authorization ? { authorization } : {} });
        expect(response.statusCode).toBe(401);
        expect(body(response).error.code).toBe('unauthorized');
      }
    });

    it('does not accept ?access_token=', async () => {
      const who = await registerUser(app, 'query');
      const response = await app.inject({ method: 'GET', url: `/api/v1/auth/me?access_token=${who.token}` });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('config and health', () => {
    it('serves the feature flags, plans and Stripe.js location', async () => {
      const response = await app.inject({ method: 'GET', url: '/api/v1/config' });
      expect(body(response)).toEqual({
        success: true,
        data: {
          features: { business: true, system: true },
          plans: [
            { slug: 'free', name: 'Free', price_cents: 0 },
            { slug: 'pro_cloud', name: 'Pro Cloud', price_cents: 4900 },
          ],
          stripe: { publishable_key: 'pk_test_m1_server_tests', js_url: `${h.config.stripeApiBase}/v3` },
        },
      });
    });

    it('answers /up and /api/v1/health with ok while the database answers', async () => {
      expect(body(await app.inject({ method: 'GET', url: '/up' }))).toEqual({ status: 'ok' });
      expect(body(await app.inject({ method: 'GET', url: '/api/v1/health' }))).toEqual({ success: true, data: { status: 'ok' } });
    });

    it('says on /up which checkout started the stack and where its backend log is', async () => {
      const up = await app.inject({ method: 'GET', url: '/up' });
      expect(up.headers['x-m1-backend-log']).toBe('none');
      const log = `${h.stackDir}/logs/backend.log`;
      const own = await h.app({ config: { ...h.config, checkout: '/home/qa/m1' }, logFile: log });
      const answer = await own.inject({ method: 'GET', url: '/up' });
      expect(answer.headers['x-m1-stack-checkout']).toBe('/home/qa/m1');
      expect(answer.headers['x-m1-backend-log']).toBe(log);
    });

    it('answers 503 when the database does not', async () => {
      const { createPool } = await import('../db/pool');
      const deadPool = createPool('postgres://m1:m1@127.0.0.1:9/none', 1);
      const down = await h.app({ pool: deadPool });
      expect((await down.inject({ method: 'GET', url: '/up' })).statusCode).toBe(503);
      const health = await down.inject({ method: 'GET', url: '/api/v1/health' });
      expect(health.statusCode).toBe(503);
      expect(body(health).error.code).toBe('database_unavailable');
      const config = await down.inject({ method: 'GET', url: '/api/v1/config' });
      expect(config.statusCode).toBe(503);
      await deadPool.end();
    });
  });

  describe('request log', () => {
    it('writes one JSON line per request, without bodies, auth headers or query tokens', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'm1-log-'));
      const file = join(dir, 'logs', 'backend.log');
      const logged = await h.app({ logFile: file });
      const who = await registerUser(logged, 'log');
      const missionId = await discordMission(logged, who);
      const issued = await logged.inject({ method: 'POST', url: `/api/v1/ai/missions/${missionId}/events/ticket`, headers: who.auth });
      const ticket = body(issued).data.ticket as string;
      const elsewhere = '00000000-0000-4000-8000-000000000000';
      await logged.inject({ method: 'GET', url: `/api/v1/ai/missions/${elsewhere}/events?access_token=${who.token}&ticket=${ticket}&x=1` });
      await logged.inject({ method: 'GET', url: '/api/v1/nope' });
      await logged.close();
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines).toHaveLength(6);
      expect(lines[0]).toEqual({
        time: expect.any(Number),
        level: 'info',
        method: 'POST',
        url: '/api/v1/auth/register',
        statusCode: 201,
        responseTime: expect.any(Number),
        reqId: expect.any(String),
      });
      // Register, the concierge conversation and its message, the ticket, then the stream: a ticket
      // burned on another mission (a 401, not a stream, so the request completes).
      expect(lines[3]).toMatchObject({ url: `/api/v1/ai/missions/${missionId}/events/ticket`, statusCode: 201 });
      expect(lines[4].url).toBe(`/api/v1/ai/missions/${elsewhere}/events?access_token=[REDACTED]&ticket=[REDACTED]&x=1`);
      expect(lines[4].statusCode).toBe(401);
      expect(lines[5]).toMatchObject({ level: 'warn', statusCode: 404 });
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain(who.token);
      expect(text).not.toContain(ticket);
      expect(text).not.toContain(TEST_PASSWORD);
      rmSync(dir, { recursive: true, force: true });
    });

    it('logs a genuine bug as a 500 with its stack in the log only', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'm1-log-'));
      const file = join(dir, 'backend.log');
      const faulty = await h.app({ logFile: file, faults: ['billing_page_500'] });
      const who = await registerUser(faulty, 'bug');
      const response = await faulty.inject({ method: 'GET', url: '/api/v1/billing/spend', headers: who.auth });
      expect(response.statusCode).toBe(500);
      expect(body(response)).toEqual({
        success: false,
        error: { code: 'internal_error', message: 'Something went wrong on our side; the error was logged' },
      });
      expect(response.body).not.toContain('at ');
      await faulty.close();
      const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.some((l) => l.msg === 'unhandled error' && /billing_page_500/.test(l.err.message))).toBe(true);
      expect(lines.some((l) => l.statusCode === 500 && l.level === 'error')).toBe(true);
      rmSync(dir, { recursive: true, force: true });
    });
  });

  describe('web UI', () => {
    it('answers 503 with the build hint when the UI is not built, 404 envelope under /api', async () => {
      const page = await app.inject({ method: 'GET', url: '/new' });
      expect(page.statusCode).toBe(503);
      expect(page.body).toBe(WEB_NOT_BUILT);
      const api = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
      expect(api.statusCode).toBe(404);
      expect(body(api)).toEqual({ success: false, error: { code: 'not_found', message: 'No route for GET /api/v1/nothing-here' } });
    });

    it('serves the built UI with SPA fallback and cache headers', async () => {
      const dist = mkdtempSync(join(tmpdir(), 'm1-dist-'));
      mkdirSync(join(dist, 'assets'));
      writeFileSync(join(dist, 'index.html'), '<!doctype html><div id="root"></div>');
      writeFileSync(join(dist, 'assets', 'app-abc123.js'), 'console.log(1)');
      const web = await h.app({ webDistDir: dist });

      const root = await web.inject({ method: 'GET', url: '/' });
      expect(root.statusCode).toBe(200);
      expect(root.body).toContain('id="root"');
      expect(root.headers['cache-control']).toBe('no-cache');

      const deep = await web.inject({ method: 'GET', url: '/settings/billing?x=1' });
      expect(deep.statusCode).toBe(200);
      expect(deep.headers['content-type']).toMatch(/text\/html/);
      expect(deep.headers['cache-control']).toBe('no-cache');

      const asset = await web.inject({ method: 'GET', url: '/assets/app-abc123.js' });
      expect(asset.statusCode).toBe(200);
      expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');

      expect((await web.inject({ method: 'GET', url: '/assets/missing.js' })).statusCode).toBe(404);
      expect((await web.inject({ method: 'GET', url: '/api/v1/unknown' })).statusCode).toBe(404);
      expect((await web.inject({ method: 'GET', url: '/up' })).statusCode).toBe(200);
      rmSync(dist, { recursive: true, force: true });
    });
  });
});
