/**
 * The suite's configuration: `.env` (via dotenv), then one zod schema.
 *
 * Every address, expected value and switch the suite uses is read here once, with the reference
 * stack's default, so pointing the suite at a real Powernode (CONTRACT 9) is a change
 * of environment, not of code. A bad value stops the run before any browser starts, with one line
 * per problem naming the variable and what it expects. Secret values are never echoed.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import dotenv from 'dotenv';
import { z } from 'zod';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The reference stack's second Vultr account (CONTRACT 1): the key its Vultr emulator accepts
 * beside the platform pool's. The default of VULTR_ISOLATION_API_KEY on a local target only: a
 * real target's second account is the operator's to name.
 */
export const REFERENCE_ISOLATION_API_KEY = 'vk_test_isolation_account';

export function isLoopbackUrl(value: string): boolean {
  try {
    const host = new URL(value).hostname;
    return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

const httpUrl = (what: string) =>
  z.string().refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, `expects an http(s) URL for ${what}, e.g. http://127.0.0.1:3100`);

const positiveInt = (what: string) =>
  z
    .string()
    .regex(/^\d+$/, `expects a whole number of ${what}`)
    .transform(Number)
    .refine((n) => n > 0, `expects a positive number of ${what}`);

const nonNegativeNumber = (what: string) =>
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, `expects a non-negative number (${what})`)
    .transform(Number);

const flag = z
  .enum(['0', '1', 'true', 'false', ''], { message: 'expects 1 or 0' })
  .transform((v) => v === '1' || v === 'true');

const route = z.string().regex(/^\/[^\s]*$/, 'expects a path starting with "/", e.g. /new');

/**
 * Words split on blanks, where a '…' or "…" span keeps its blanks (a Chromium flag's value may
 * hold some: --host-resolver-rules="MAP a.test 127.0.0.1"). No shell: nothing is expanded or run.
 * A string is the problem when the text cannot be split.
 */
export function splitArgs(text: string): string[] | string {
  const args: string[] = [];
  let current: string | undefined;
  let quote: string | undefined;
  for (const char of text) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else current += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      current ??= '';
    } else if (/\s/.test(char)) {
      if (current !== undefined) args.push(current);
      current = undefined;
    } else current = (current ?? '') + char;
  }
  if (quote !== undefined) return `has an unclosed ${quote} quote`;
  if (current !== undefined) args.push(current);
  return args;
}

const chromiumArgs = z.string().transform((value, ctx) => {
  const args = splitArgs(value);
  const bad = typeof args === 'string' ? [] : args.filter((a) => !/^--[a-z0-9]/i.test(a));
  if (typeof args === 'string' || bad.length > 0) {
    const problem = typeof args === 'string' ? args : `has ${bad.map((a) => `"${a}"`).join(', ')}`;
    ctx.addIssue({ code: 'custom', message: `expects Chromium flags separated by spaces, each starting with -- (quote a value with spaces); ${problem}` });
    return z.NEVER;
  }
  return args;
});

/** Marks a value in a profile file that the operator must fill in before a run; the suite refuses to run while one is left. */
export const PLACEHOLDER = '<FILL IN';

export const PROFILE_NAMES = ['runbook', 'powernode-core'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

/**
 * What TARGET_PROFILE sets at once: the defaults of the variables that answer CONTRACT 9's
 * differences. `runbook` is the schema's own defaults; `powernode-core` is public Powernode where
 * its behaviour is known. A variable set in the environment still wins over its profile's value.
 * The worker's command and the log command are per deployment, so no profile can hold them
 * (profiles/powernode-core.env has them, to fill in).
 */
export const PROFILES: Record<ProfileName, Readonly<Record<string, string>>> = {
  runbook: {},
  'powernode-core': {
    PROVISIONING_ROUTE: '/app/system/provision',
    EXPECTED_MONTHLY_COST_USD: '5.11',
    EXPECTED_COST_LINE: 'us-east-1 tiny',
    NODE_INSTANCE_PROVIDER_ID_SQL: "config->>'cloud_instance_id'",
    NODE_INSTANCE_INSERT: 'core',
    STEP_RUNNING_STATUS: 'executing',
    MISSION_API: 'core',
    ERROR_ENVELOPE: 'flat',
    PAYWALL_SOURCE: 'chat',
    UPGRADE_REASON_INSTANCES: 'max_active_instances_exceeded',
    LOGIN_IDS: 'core',
    STEP_STATUS_SOURCE: 'stream',
    BRIEF_CARD_FORMAT: 'core',
    METER_JOB_NAME: 'BillingProvisioningMeterJob',
    BACKEND_LOG_FORMAT: 'journald',
  },
};

/** Every variable a profile sets, plus the profile itself: what a harness clears to run with the defaults. */
export const DIALECT_VARIABLES: readonly string[] = [
  'TARGET_PROFILE',
  ...new Set([...Object.values(PROFILES).flatMap((p) => Object.keys(p)), 'WORKER_STATE_COMMAND', 'BACKEND_LOG_COMMAND']),
];

/** Env var name → schema. Defaults are the reference stack's values (CONTRACT 1). */
const schema = z.object({
  // --- where the system under test lives (CONTRACT 1)
  BASE_URL: httpUrl('the web UI + API origin').prefault('http://127.0.0.1:3100'),
  VULTR_API_URL: httpUrl('the Vultr v2 API base').prefault('http://127.0.0.1:3101/v2'),
  STRIPE_API_BASE: httpUrl('the Stripe API base').prefault('http://127.0.0.1:3102'),
  WORKER_HEALTH_URL: httpUrl('the worker health endpoint').prefault('http://127.0.0.1:3103/health'),
  DATABASE_URL: z
    .string()
    .refine((v) => {
      try {
        const p = new URL(v).protocol;
        return p === 'postgres:' || p === 'postgresql:';
      } catch {
        return false;
      }
    }, 'expects a postgres:// or postgresql:// connection URL')
    .prefault('postgres://m1:m1@127.0.0.1:54329/m1_reference'),
  VULTR_API_KEY: z.string().min(1, 'expects the Vultr API key of the platform pool').prefault('vk_test_platform_pool'),
  // Unset: the reference's second account on a local target, none elsewhere (see parseConfig).
  VULTR_ISOLATION_API_KEY: z.string().optional(),
  STRIPE_SECRET_KEY: z
    .string()
    .refine((v) => !/^(sk|rk)_live_/.test(v), 'is a live key (sk_live_/rk_live_); this suite only runs with a test key (sk_test_...)')
    .refine((v) => /^(sk|rk)_test_/.test(v) || /^(sk|rk)_live_/.test(v), 'expects a Stripe test secret key starting with sk_test_')
    .prefault('sk_test_m1_reference'),
  STRIPE_WEBHOOK_SECRET: z.string().regex(/^whsec_/, 'expects a webhook signing secret starting with whsec_').prefault('whsec_m1_reference'),
  // Unset: BASE_URL + /api/v1/billing/stripe/webhook (see parseConfig).
  STRIPE_WEBHOOK_URL: httpUrl('the webhook endpoint registered at Stripe').optional(),
  INTERNAL_API_TOKEN: z.string().min(8, 'expects the internal API token (8+ characters)').prefault('m1_internal_reference_token'),
  BACKEND_LOG_COMMAND: z.string().prefault(''),
  BACKEND_LOG_FILE: z.string().prefault('.stack/logs/backend.log'),
  WORKER_STATE_COMMAND: z.string().prefault(''),

  // --- safety switches
  ALLOW_REMOTE_TARGET: flag.prefault('0'),
  ALLOW_REAL_CLOUD: flag.prefault('0'),
  ALLOW_SHARED_STATE_CHANGES: flag.prefault('0'),
  ALLOW_EMAIL_DOMAIN: flag.prefault('0'),
  ALLOW_STACK_ON_DATABASE: flag.prefault('0'),
  // The suite's own approvals need 4: when the quota test approves, the run may already hold the
  // funnel's VM (kept for verification), the account-isolation test's VM on the other worker and
  // the quota test's given instance, and the cap counts before the click.
  MAX_INSTANCES_PER_RUN: positiveInt('instances').prefault('4'),
  PREFLIGHT_FIX: flag.prefault('0'),
  START_STACK: z.enum(['auto', 'never'], { message: 'expects auto or never' }).prefault('auto'),

  // --- browser
  CHROMIUM_PATH: z.string().prefault(''),
  CHROMIUM_ARGS: chromiumArgs.prefault(''),
  HEADED: flag.prefault('0'),

  // --- identities
  E2E_EMAIL_DOMAIN: z
    .string()
    .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'expects a bare e-mail domain, e.g. e2e.powernode.test')
    .prefault('e2e.powernode.test'),
  E2E_RUN_ID: z
    .string()
    .regex(/^[a-z0-9]{4,24}$/, 'expects 4-24 lower-case letters or digits')
    .optional(),

  // --- routes and API shapes a real Powernode may spell differently (CONTRACT 9); TARGET_PROFILE sets them all
  TARGET_PROFILE: z.enum(PROFILE_NAMES, { message: `expects ${PROFILE_NAMES.join(' or ')}` }).prefault('runbook'),
  MISSION_API: z.enum(['runbook', 'core'], { message: 'expects runbook or core' }).prefault('runbook'),
  ERROR_ENVELOPE: z.enum(['nested', 'flat'], { message: 'expects nested or flat' }).prefault('nested'),
  PAYWALL_SOURCE: z.enum(['approve_402', 'chat'], { message: 'expects approve_402 or chat' }).prefault('approve_402'),
  LOGIN_IDS: z.enum(['runbook', 'core'], { message: 'expects runbook or core' }).prefault('runbook'),
  STEP_STATUS_SOURCE: z.enum(['pill', 'stream'], { message: 'expects pill or stream' }).prefault('pill'),
  BRIEF_CARD_FORMAT: z.enum(['runbook', 'core'], { message: 'expects runbook or core' }).prefault('runbook'),
  NODE_INSTANCE_INSERT: z.enum(['runbook', 'core'], { message: 'expects runbook or core' }).prefault('runbook'),
  BACKEND_LOG_FORMAT: z.enum(['json', 'journald'], { message: 'expects json or journald' }).prefault('json'),
  METER_JOB_NAME: z.string().regex(/^[A-Za-z_][\w.:]*$/, 'expects a job name, e.g. billing.provisioning_meter').prefault('billing.provisioning_meter'),
  PROVISIONING_ROUTE: route.prefault('/new'),
  REGISTER_ROUTE: route.prefault('/auth/register'),
  BILLING_ROUTE: route.prefault('/settings/billing'),
  CREDENTIALS_ROUTE: route.prefault('/settings/cloud-credentials'),
  CHECKOUT_PLAN: z.string().min(1).prefault('free'),
  UPGRADE_PLAN: z.string().min(1).prefault('pro_cloud'),
  NODE_INSTANCE_PROVIDER_ID_SQL: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*(->>'[a-z_]+')?$/, "expects a column name or column->>'key' expression")
    .prefault('provider_instance_id'),
  STEP_RUNNING_STATUS: z.string().min(1).prefault('running'),
  IN_FLIGHT_MISSION_STATUSES: z
    .string()
    .regex(/^[a-z_]+(,[a-z_]+)*$/, 'expects a comma list of mission statuses, e.g. approved,running')
    .transform((v) => v.split(','))
    .prefault('approved,running'),
  UPGRADE_REASON_INSTANCES: z.string().min(1).prefault('max_node_instances'),

  // --- what the runbook expects (exact where the runbook is exact)
  EXPECTED_BOOTSTRAP_COUNTS: z
    .string()
    .regex(/^\d+\/\d+\/\d+\/\d+$/, 'expects providers/regions/types/templates, e.g. 1/2/3/7')
    .prefault('1/2/3/7'),
  EXPECTED_MONTHLY_COST_USD: nonNegativeNumber('US dollars').prefault('5.04'),
  EXPECTED_INSTANCE_TYPE: z.string().min(1).prefault('vc2-1c-1gb'),
  EXPECTED_COST_LINE: z.string().prefault(''),
  EXPECTED_REGION: z.string().min(1).prefault('us-east-1'),
  EXPECTED_VULTR_REGION: z.string().min(1).prefault('ewr'),
  EXPECTED_STEP_SKILL: z.string().min(1).prefault('provision_full_stack'),
  EXPECTED_RISK_SEVERITY: z.enum(['low', 'med', 'high'], { message: 'expects low, med or high' }).prefault('low'),
  EXPECTED_BUDGET_CAP_USD: nonNegativeNumber('US dollars').prefault('10'),
  BUDGET_TOLERANCE_USD: nonNegativeNumber('US dollars').prefault('2'),
  SPEND_TOLERANCE_USD: nonNegativeNumber('US dollars').prefault('0.01'),
  FREE_INSTANCE_LIMIT: positiveInt('instances').prefault('1'),
  FREE_MONTHLY_PROVISIONING_USD: nonNegativeNumber('US dollars').prefault('20'),
  PRO_CLOUD_INSTANCE_LIMIT: positiveInt('instances').prefault('50'),
  PRO_CLOUD_MONTHLY_PROVISIONING_USD: nonNegativeNumber('US dollars').prefault('500'),
  REQUIRED_MIGRATIONS: z
    .string()
    .regex(/^[\w.-]+(,[\w.-]+)*$/, 'expects a comma list of schema_migrations versions, e.g. 0001,0002')
    .transform((v) => v.split(','))
    .prefault('0001,0002,0003,0004'),

  // --- time: how long the suite waits, apart from the runbook's own bound, which a slow stack never loosens
  PROVISION_TIMEOUT_MS: positiveInt('milliseconds').prefault('90000'),
  RUNBOOK_PROVISION_BOUND_MS: positiveInt('milliseconds').prefault('90000'),
  AI_REPLY_TIMEOUT_MS: positiveInt('milliseconds').prefault('30000'),
  TEST_TIMEOUT_MS: positiveInt('milliseconds').prefault('150000'),
  BACKEND_POLL_INTERVAL_MS: positiveInt('milliseconds').prefault('100'),
});

type Raw = z.output<typeof schema>;

export type Config = Omit<Raw, 'EXPECTED_BOOTSTRAP_COUNTS' | 'E2E_RUN_ID' | 'STRIPE_WEBHOOK_URL' | 'VULTR_ISOLATION_API_KEY'> & {
  EXPECTED_BOOTSTRAP_COUNTS: { providers: number; regions: number; types: number; templates: number };
  /**
   * A Vultr key of another account than the platform pool's, for the account-isolation test
   * (RUNBOOK pre-flight 3); empty: no such key, and the test is skipped.
   */
  VULTR_ISOLATION_API_KEY: string;
  /** The endpoint Stripe must deliver to: as set, else the backend's own webhook route (CONTRACT 4). */
  STRIPE_WEBHOOK_URL: string;
  /** True when every service address is on this machine (the reference stack or a local dev stack). */
  isLocalTarget: boolean;
};

export const CONFIG_KEYS = Object.keys(schema.shape) as (keyof typeof schema.shape)[];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Validates an environment. Pure: no dotenv, no process access, so the unit tests can feed it
 * any environment. Empty strings count as unset so `FOO=` in `.env` falls back to the default.
 */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const input: Record<string, string> = { ...profileDefaults(env.TARGET_PROFILE) };
  const unfilled: string[] = [];
  for (const key of CONFIG_KEYS) {
    const value = env[key];
    if (value?.includes(PLACEHOLDER)) unfilled.push(`${key}: still holds the profile file's ${PLACEHOLDER} …> placeholder: replace it (see profiles/powernode-core.env)`);
    else if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success || unfilled.length > 0) {
    const issues = result.success ? [] : result.error.issues.map((issue) => `${String(issue.path[0] ?? '?')}: ${issue.message}`);
    throw new ConfigError([...unfilled, ...issues]);
  }
  const raw = result.data;
  const problems = [...consentProblems(raw), ...isolationKeyProblems(raw)];
  if (raw.CHROMIUM_PATH && !existsSync(raw.CHROMIUM_PATH)) {
    problems.push('CHROMIUM_PATH: expects the path of an existing Chromium executable');
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const [providers, regions, types, templates] = raw.EXPECTED_BOOTSTRAP_COUNTS.split('/').map(Number) as [
    number,
    number,
    number,
    number,
  ];
  const { E2E_RUN_ID: _runId, ...rest } = raw;
  const isLocalTarget = localTarget(raw);
  return {
    ...rest,
    EXPECTED_BOOTSTRAP_COUNTS: { providers, regions, types, templates },
    STRIPE_WEBHOOK_URL: raw.STRIPE_WEBHOOK_URL ?? `${raw.BASE_URL.replace(/\/+$/, '')}/api/v1/billing/stripe/webhook`,
    VULTR_ISOLATION_API_KEY: isolationKey(raw),
    isLocalTarget,
  };
}

/** Every service address is on this machine (the reference stack or a local dev stack). */
function localTarget(raw: Raw): boolean {
  const dbHost = new URL(raw.DATABASE_URL).hostname;
  return (
    isLoopbackUrl(raw.BASE_URL) &&
    isLoopbackUrl(raw.VULTR_API_URL) &&
    isLoopbackUrl(raw.STRIPE_API_BASE) &&
    (LOOPBACK_HOSTS.has(dbHost) || /^127\./.test(dbHost))
  );
}

/** As set; unset, the reference's second account on a local target, and none (the test skipped) elsewhere. */
function isolationKey(raw: Raw): string {
  return raw.VULTR_ISOLATION_API_KEY ?? (localTarget(raw) ? REFERENCE_ISOLATION_API_KEY : '');
}

/**
 * The isolation test proves that an account-scoped key keeps its VMs out of the platform pool's
 * Vultr account; with the pool's own key there is one account and nothing to prove. The values
 * are never echoed.
 */
function isolationKeyProblems(raw: Raw): string[] {
  return isolationKey(raw) === raw.VULTR_API_KEY
    ? ['VULTR_ISOLATION_API_KEY: equals VULTR_API_KEY; the isolation key must belong to another Vultr account than the platform pool']
    : [];
}

/** The profile's values, first: the explicit variables are laid over them. An unknown name is the schema's to report. */
function profileDefaults(name: string | undefined): Readonly<Record<string, string>> {
  return (PROFILE_NAMES as readonly string[]).includes(name ?? '') ? PROFILES[name as ProfileName] : {};
}

/** Domains reserved for tests and examples (RFC 2606, RFC 6761): no real inbox, no real customer. */
export function isReservedEmailDomain(domain: string): boolean {
  const d = domain.toLowerCase();
  return /\.(test|example|invalid)$/.test(d) || /(^|\.)example\.(com|net|org)$/.test(d);
}

/**
 * What the target's locality asks consent for. A remote backend creates VMs with its own Vultr key
 * whatever VULTR_API_URL says, so a local VULTR_API_URL beside it means the suite would look at
 * another cloud than the one it pays for. The suite writes to DATABASE_URL (set-up rows, rollback).
 */
function consentProblems(raw: Raw): string[] {
  const problems: string[] = [];
  const remoteBase = !isLoopbackUrl(raw.BASE_URL);
  if (remoteBase && !raw.ALLOW_REMOTE_TARGET) {
    problems.push('BASE_URL: points at a non-loopback host; set ALLOW_REMOTE_TARGET=1 to run against a remote stack');
  }
  if (remoteBase && isLoopbackUrl(raw.VULTR_API_URL)) {
    problems.push(
      `VULTR_API_URL: is on this machine while BASE_URL (${new URL(raw.BASE_URL).host}) is not; that backend creates VMs in its own Vultr account, so point VULTR_API_URL at it (https://api.vultr.com/v2)`,
    );
  }
  if (!isLoopbackUrl(raw.DATABASE_URL.replace(/^postgres(ql)?:/, 'http:')) && !raw.ALLOW_REMOTE_TARGET) {
    problems.push('DATABASE_URL: points at a non-loopback host, and the suite writes to it (set-up rows, rollback); set ALLOW_REMOTE_TARGET=1 to allow it');
  }
  if (!isReservedEmailDomain(raw.E2E_EMAIL_DOMAIN) && !raw.ALLOW_EMAIL_DOMAIN) {
    problems.push(
      `E2E_EMAIL_DOMAIN: ${raw.E2E_EMAIL_DOMAIN} is not a reserved test domain (.test, .example, .invalid, example.com/.net/.org), so mail could reach a real inbox; use one, or set ALLOW_EMAIL_DOMAIN=1`,
    );
  }
  return problems;
}

let cached: Config | undefined;

/** dotenv (`.env` in the project root, never overriding the real environment), then parseConfig. */
export function loadConfig(): Config {
  if (cached) return cached;
  const envFile = resolve(process.cwd(), '.env');
  if (existsSync(envFile)) dotenv.config({ path: envFile, quiet: true });
  cached = parseConfig(process.env);
  return cached;
}

/** The run id shared by every worker of one run (set once by playwright.config.ts). */
export function runId(): string {
  const id = process.env.E2E_RUN_ID;
  if (!id) throw new Error('E2E_RUN_ID is not set: the suite must be started through playwright.config.ts');
  return id;
}
