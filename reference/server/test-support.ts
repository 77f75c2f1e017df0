/**
 * Shared by the server's tests: a real throwaway Postgres, the Stripe emulator, pg-boss on the
 * test database, and apps built on them with a chosen set of fault switches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type PgBoss from 'pg-boss';
import { readStackConfig, type StackConfig } from '../lib/config';
import type { FaultName } from '../lib/faults';
import { variantsOf, type VariantName } from '../lib/variants';
import { createBoss, ensureQueues } from '../lib/queue';
import { startTestDatabase, type TestDatabase } from '../db/test-database';
import { startStripeEmulator, type StripeEmulator } from '../emulators/stripe/server';
import { buildApp, type AppDeps } from './app';
import { createStripeClient } from './stripe';

export const TEST_KEYS = {
  secret: 'sk_test_m1_server_tests',
  publishable: 'pk_test_m1_server_tests',
  webhook: 'whsec_m1_server_tests',
  internal: 'internal_server_tests_token',
} as const;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export type Harness = {
  db: TestDatabase;
  config: StackConfig;
  stripe: StripeEmulator | null;
  boss: PgBoss;
  stackDir: string;
  /** An app on the shared database with these faults and variants on (and the worker up unless told otherwise). */
  app(options?: { faults?: FaultName[]; variants?: VariantName[]; workerUp?: () => boolean } & Omit<Partial<AppDeps>, 'faults' | 'variants'>): Promise<FastifyInstance>;
  stop(): Promise<void>;
};

export async function startHarness(options: { stripe?: boolean; appPort?: number; variants?: VariantName[] } = {}): Promise<Harness> {
  // Variants with a schema change (cloud_id_in_config) shape the test database when it is created.
  const db = await startTestDatabase({ variants: options.variants });
  const stackDir = mkdtempSync(join(tmpdir(), 'm1-server-test-'));
  const appPort = options.appPort ?? (await freePort());
  const stripe = options.stripe
    ? await startStripeEmulator({
        port: 0,
        secretKeys: [TEST_KEYS.secret],
        publishableKey: TEST_KEYS.publishable,
        webhookSecret: TEST_KEYS.webhook,
        webhookUrl: `http://127.0.0.1:${appPort}/api/v1/billing/stripe/webhook`,
        webhookRetryDelaysMs: [],
      })
    : null;
  const config = readStackConfig({
    BASE_URL: `http://127.0.0.1:${appPort}`,
    STRIPE_API_BASE: stripe?.url ?? 'http://127.0.0.1:9',
    WORKER_HEALTH_URL: 'http://127.0.0.1:9/health',
    DATABASE_URL: db.url,
    STRIPE_SECRET_KEY: TEST_KEYS.secret,
    STRIPE_PUBLISHABLE_KEY: TEST_KEYS.publishable,
    STRIPE_WEBHOOK_SECRET: TEST_KEYS.webhook,
    INTERNAL_API_TOKEN: TEST_KEYS.internal,
    CREDENTIALS_ENCRYPTION_KEY: 'test-key',
    STACK_DIR: stackDir,
  });
  const boss = createBoss(db.url);
  await boss.start();
  await ensureQueues(boss);
  const apps: FastifyInstance[] = [];

  return {
    db,
    config,
    stripe,
    boss,
    stackDir,
    async app({ faults = [], variants = [], workerUp = () => true, ...overrides } = {}) {
      const on = new Set<FaultName>(faults);
      const app = await buildApp({
        config,
        pool: db.pool,
        queue: boss,
        stripe: createStripeClient(config),
        workerHealthy: async () => workerUp(),
        webDistDir: null,
        logFile: null,
        faults: (name) => on.has(name),
        variants: variantsOf(variants),
        ...overrides,
      });
      apps.push(app);
      return app;
    },
    async stop() {
      for (const app of apps) await app.close().catch(() => undefined);
      await boss.stop({ graceful: false, wait: true, timeout: 2_000 }).catch(() => undefined);
      await stripe?.close().catch(() => undefined);
      await db.stop();
      rmSync(stackDir, { recursive: true, force: true });
    },
  };
}

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function body(response: LightMyRequestResponse): Json {
  return response.json() as Json;
}

let counter = 0;
export function uniqueEmail(slug = 'user'): string {
  counter += 1;
  return `e2e+${Date.now().toString(36)}${counter}-${slug}@example.com`;
}

export type Identity = { token: string; userId: string; accountId: string; email: string; auth: { authorization: string } };

/** Every registerUser identity's password. */
export const TEST_PASSWORD = 'correct horse battery';

export async function registerUser(app: FastifyInstance, slug = 'user'): Promise<Identity> {
  const email = uniqueEmail(slug);
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/register',
    payload: { email, password: TEST_PASSWORD, name: 'Test User' },
  });
  if (response.statusCode !== 201) throw new Error(`register failed: ${response.statusCode} ${response.body}`);
  const data = body(response).data as Json;
  return {
    token: data.access_token as string,
    userId: data.user.id as string,
    accountId: data.account.id as string,
    email,
    auth: { authorization: `Bearer ${data.access_token as string}` },
  };
}

/** `POST /auth/login`, answered as is: the login tests assert on failures too. */
export function login(app: FastifyInstance, email: string, password = TEST_PASSWORD): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { email, password } });
}

/** Posts a chat message in the account's concierge conversation and returns the answer's data. */
export async function chat(app: FastifyInstance, who: Identity, content: string): Promise<Json> {
  const conversation = await app.inject({ method: 'POST', url: '/api/v1/ai/conversations/concierge', headers: who.auth });
  const id = (body(conversation).data as Json).conversation.id as string;
  const response = await app.inject({
    method: 'POST',
    url: `/api/v1/ai/conversations/${id}/messages`,
    headers: who.auth,
    payload: { message: { content } },
  });
  if (response.statusCode !== 201) throw new Error(`chat failed: ${response.statusCode} ${response.body}`);
  return { conversationId: id, ...(body(response).data as Json) };
}

export const DISCORD_PROMPT =
  "I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.";

/** A mission with a ready plan from the Discord prompt. */
export async function discordMission(app: FastifyInstance, who: Identity): Promise<string> {
  const answer = await chat(app, who, DISCORD_PROMPT);
  return answer.assistant_message.metadata.plan_ready.mission_id as string;
}

/** Puts a running instance (and its usage record) on the account, as the worker would. */
export async function seedRunningInstance(db: TestDatabase, accountId: string, hourlyPrice = 0.007): Promise<string> {
  const instance = await db.pool.query<{ id: string }>(
    `INSERT INTO system_node_instances (account_id, name, status, provider_instance_id) VALUES ($1, 'bot-1', 'running', 'vultr-1') RETURNING id`,
    [accountId],
  );
  const id = instance.rows[0]!.id;
  await db.pool.query(
    `INSERT INTO billing_provisioning_usage_records (account_id, node_instance_id, event, status, hourly_price) VALUES ($1, $2, 'running', 'pending', $3)`,
    [accountId, id, hourlyPrice],
  );
  return id;
}
