/**
 * The reference stack's settings, from the environment (and `.env` in the project root, loaded by
 * the stack entry point). Defaults are CONTRACT 1. Validation is hand-written so the
 * stack has no dependency on the suite's helpers.
 */
export type StackConfig = {
  baseUrl: string;
  vultrApiUrl: string;
  stripeApiBase: string;
  workerHealthUrl: string;
  /** Set when the operator points the stack at an existing Postgres; unset means embedded. */
  databaseUrl: string;
  embeddedDatabase: boolean;
  vultrApiKey: string;
  /** The second Vultr account's key, which the emulator accepts beside the platform pool's (ISOLATION_ACCOUNT_KEY). */
  vultrIsolationKey: string;
  stripeSecretKey: string;
  stripePublishableKey: string;
  stripeWebhookSecret: string;
  internalApiToken: string;
  credentialsEncryptionKey: string;
  provisionTimeoutMs: number;
  vultrBootDelayMs: number;
  stackDir: string;
  /** The checkout that started the stack (STACK_CHECKOUT, set by the stack): /up tells it, so a suite can tell its own stack from another's. */
  checkout: string;
  faults: string;
  /** STACK_VARIANTS, a comma list (lib/variants.ts). */
  variants: string;
};

export const DEFAULT_DATABASE_URL = 'postgres://m1:m1@127.0.0.1:54329/m1_reference';

/**
 * The reference's second Vultr account: its key is its own, not the platform pool's. The Vultr
 * emulator keeps one account per key, so an instance created with this key is invisible to the
 * pool's key: what the suite's account-isolation test registers under its test account (RUNBOOK
 * pre-flight 3: "register a separate cred under the test account").
 */
export const ISOLATION_ACCOUNT_KEY = 'vk_test_isolation_account';

function url(env: Record<string, string | undefined>, name: string, fallback: string, problems: string[]): string {
  const value = env[name] || fallback;
  try {
    const u = new URL(value);
    if (!['http:', 'https:', 'postgres:', 'postgresql:'].includes(u.protocol)) throw new Error('protocol');
  } catch {
    problems.push(`${name}: expects a URL, e.g. ${fallback}`);
  }
  return value.replace(/\/+$/, '');
}

function int(env: Record<string, string | undefined>, name: string, fallback: number, problems: string[]): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value)) {
    problems.push(`${name}: expects a whole number of milliseconds`);
    return fallback;
  }
  return Number(value);
}

export function readStackConfig(env: Record<string, string | undefined> = process.env): StackConfig {
  const problems: string[] = [];
  const config: StackConfig = {
    baseUrl: url(env, 'BASE_URL', 'http://127.0.0.1:3100', problems),
    vultrApiUrl: url(env, 'VULTR_API_URL', 'http://127.0.0.1:3101/v2', problems),
    stripeApiBase: url(env, 'STRIPE_API_BASE', 'http://127.0.0.1:3102', problems),
    workerHealthUrl: url(env, 'WORKER_HEALTH_URL', 'http://127.0.0.1:3103/health', problems),
    databaseUrl: url(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, problems),
    embeddedDatabase: !env.DATABASE_URL,
    vultrApiKey: env.VULTR_API_KEY || 'vk_test_platform_pool',
    vultrIsolationKey: env.VULTR_ISOLATION_API_KEY || ISOLATION_ACCOUNT_KEY,
    stripeSecretKey: env.STRIPE_SECRET_KEY || 'sk_test_m1_reference',
    stripePublishableKey: env.STRIPE_PUBLISHABLE_KEY || 'pk_test_m1_reference',
    stripeWebhookSecret: env.STRIPE_WEBHOOK_SECRET || 'whsec_m1_reference',
    internalApiToken: env.INTERNAL_API_TOKEN || 'm1_internal_reference_token',
    credentialsEncryptionKey: env.CREDENTIALS_ENCRYPTION_KEY || 'm1-reference-dev-only-credentials-key',
    provisionTimeoutMs: int(env, 'PROVISION_TIMEOUT_MS', 90_000, problems),
    vultrBootDelayMs: int(env, 'VULTR_BOOT_DELAY_MS', 2_000, problems),
    stackDir: env.STACK_DIR || '.stack',
    checkout: env.STACK_CHECKOUT || '',
    faults: env.STACK_FAULTS || '',
    variants: env.STACK_VARIANTS || '',
  };
  if (config.stripeSecretKey.startsWith('sk_live_')) {
    problems.push('STRIPE_SECRET_KEY: the reference stack only runs with a test key (sk_test_...)');
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return config;
}

/** Port of an http URL (the stack binds 127.0.0.1:<port> for each of its addresses). */
export function portOf(address: string): number {
  const u = new URL(address);
  return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
}

/**
 * Where the stack itself asks whether its worker is up: a path on the worker's port that the suite
 * is never told about, so that it keeps answering when the `worker_command` variant takes the
 * public health URL away.
 */
export const WORKER_PROBE_PATH = '/__stack/health';

export function workerProbeUrl(workerHealthUrl: string): string {
  return new URL(WORKER_PROBE_PATH, workerHealthUrl).href;
}
