/**
 * What the runbook (docs/RUNBOOK.md) says, in one place: the prompts the operator
 * pastes, the test cards, the texts the UI must show and the values it must reach. Deployment-specific
 * expectations (routes, the $5.04 figure, counts) live in helpers/config.ts instead; this module holds
 * what the runbook fixes for every deployment.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from './config';

export const PROMPTS = {
  discordBot:
    "I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.",
  secondInstance: 'Spin up another bot host alongside the first one.',
  computeDatabaseNetwork: 'I need a web app with a Postgres database and a private network between them.',
} as const;

export type TestCard = { number: string; expiry: string; cvc: string; postalCode: string };

export const TEST_CARDS = {
  success: { number: '4242 4242 4242 4242', expiry: '12 / 34', cvc: '123', postalCode: '10001' },
  declined: { number: '4000 0000 0000 0002', expiry: '12 / 34', cvc: '123', postalCode: '10001' },
} as const satisfies Record<string, TestCard>;

/**
 * A key shaped like a Vultr API key (36 upper-case letters and digits) that no Vultr account holds:
 * the "invalid account-scoped key" negative path. Random per call, so it never matches a real key.
 */
export function plausibleInvalidVultrKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return Array.from(randomBytes(36), (b) => alphabet[b % alphabet.length]).join('');
}

/** RUNBOOK pre-flight 2: the limits the runbook's fix writes into each plan row. */
export const RUNBOOK_PLAN_LIMITS = {
  free: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
  pro_cloud: { max_node_instances: 50, max_monthly_provisioning_usd: 500 },
} as const;

export const UI_TEXTS = {
  duplicateEmail: 'An account with this email already exists',
  cardDeclined: 'Your card was declined.',
  credentialsToast: /credentials missing or invalid/i,
  collapseNote: /merged 3 redundant steps into 1/i,
  freePlan: /free plan/i,
  spendSource: /usage records/i,
} as const;

export const ERROR_CODES = {
  upgradeRequired: 'upgrade_required',
  credentialsMissing: 'credentials_missing',
  credentialsInvalid: 'credentials_invalid',
  emailTaken: 'email_taken',
} as const;

export const MISSION_FAILED = 'failed';

/** Step-collapse pass on the Discord brief (CONTRACT 6.5): three redundant steps become one. */
export const DISCORD_STEP_COLLAPSE = { original_step_count: 3, collapsed_step_count: 1 } as const;

export const USAGE_EVENT_RUNNING = { event: 'running', status: 'pending' } as const;

/** NodeInstance statuses from which provisioning will never reach `running`. */
export const NODE_INSTANCE_FAILURES = ['error', 'terminated'] as const;

/** The free plan's paywall copy names the limit, e.g. "Free plan limit reached: 1 instance". */
export function instanceLimitText(limit: number): RegExp {
  return new RegExp(`\\b${limit} instances?\\b`);
}

/** "$5.04/mo": how the plan modal, the spend tracker and the title of RUNBOOK step 3 print a monthly figure. */
export function formatMonthlyUsd(usd: number): string {
  return `$${usd.toFixed(2)}/mo`;
}

/**
 * The cost line of one instance type in one region, e.g. "us-east-1 vc2-1c-1gb" (CONTRACT 6.6), or
 * EXPECTED_COST_LINE where the target names it otherwise (public Powernode: the type's display name).
 */
export function costLineName(config: Pick<Config, 'EXPECTED_REGION' | 'EXPECTED_INSTANCE_TYPE' | 'EXPECTED_COST_LINE'>): string {
  return config.EXPECTED_COST_LINE || `${config.EXPECTED_REGION} ${config.EXPECTED_INSTANCE_TYPE}`;
}

/**
 * The execution pill's count a person reads (CONTRACT 3: "Provisioning… X of Y steps"), whatever
 * words go before it ("Provisioning…", "Provisioned ·").
 */
export function stepsDoneText(done: number, total: number): RegExp {
  return new RegExp(`\\b${done} of ${total} steps?\\b`);
}

/** The pro-rated daily share of a monthly run-rate: run-rate ÷ 30 (CONTRACT 6.8). */
export function dailyShare(monthlyUsd: number): number {
  return monthlyUsd / 30;
}

/** The brief as the suite sees it, from the API or read back from the Brief Card. */
export type BriefView = {
  intent?: unknown;
  use_case?: unknown;
  scale?: unknown;
  regions?: unknown;
  budget_cap_usd_monthly?: unknown;
};

/**
 * "About a Discord bot", as a model may say it: "Discord bot", "Discord moderation bot", "a bot for
 * Discord". Both words must be there, in either order; "a Discord server" or "a web bot" is not.
 */
export const DISCORD_BOT = /discord[\s\S]*\bbots?\b|\bbots?\b[\s\S]*discord/i;
/** "24/7", as a model may say it. */
export const ALWAYS_ON = /24\s*[/x]\s*7|always[- ]on|around the clock|non-?stop|continuously/i;

/** The Brief Card's budget row (CONTRACT 3: "$10/mo"): whole dollars bare, anything else to the cent. */
export function budgetText(capUsd: unknown): string {
  const usd = Number(capUsd);
  return `$${Number.isInteger(usd) ? usd : usd.toFixed(2)}/mo`;
}

/** The brief's keys the runbook reads (RUNBOOK step 2); a brief without all of them is not settled. */
export const BRIEF_KEYS = ['intent', 'use_case', 'scale', 'regions', 'budget_cap_usd_monthly'] as const;

export function isCompleteBrief(brief: BriefView | null | undefined): brief is BriefView {
  return !!brief && BRIEF_KEYS.every((key) => brief[key] !== undefined && brief[key] !== null && brief[key] !== '');
}

/**
 * A probe that answers a value only once it is complete and two reads in a row agree: an AI's
 * reply may still be written when its mission row first appears.
 */
export function settledReads<T>(read: () => Promise<T | null>, complete: (value: T | null) => boolean): () => Promise<T | null> {
  let previous: string | undefined;
  return async () => {
    const value = await read();
    if (!complete(value)) {
      previous = undefined;
      return null;
    }
    const seen = JSON.stringify(value);
    const agreed = seen === previous;
    previous = seen;
    return agreed ? value : null;
  };
}

/**
 * RUNBOOK step 2, checked semantically: a real LLM words the intent differently from the reference
 * stack, so text fields are matched by pattern and the budget within a band, while counts and
 * regions are exact. Returns every mismatch so one failure shows them all.
 */
export function discordBriefProblems(
  brief: BriefView,
  config: Pick<Config, 'EXPECTED_REGION' | 'EXPECTED_BUDGET_CAP_USD' | 'BUDGET_TOLERANCE_USD'>,
): string[] {
  const problems: string[] = [];
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  if (!DISCORD_BOT.test(text(brief.intent)) || !ALWAYS_ON.test(text(brief.intent))) {
    problems.push(`intent should be about a Discord bot running 24/7, got ${JSON.stringify(brief.intent)}`);
  }
  if (!DISCORD_BOT.test(text(brief.use_case))) {
    problems.push(`use_case should be about a Discord bot, got ${JSON.stringify(brief.use_case)}`);
  }
  const scale = brief.scale as { initial?: unknown } | undefined;
  if (!scale || typeof scale !== 'object' || Number(scale.initial) !== 1) {
    problems.push(`scale.initial should be 1, got ${JSON.stringify(brief.scale)}`);
  }
  const regions = brief.regions;
  if (!Array.isArray(regions) || regions.length !== 1 || regions[0] !== config.EXPECTED_REGION) {
    problems.push(`regions should be ["${config.EXPECTED_REGION}"], got ${JSON.stringify(regions)}`);
  }
  const budget = Number(brief.budget_cap_usd_monthly);
  if (!Number.isFinite(budget) || Math.abs(budget - config.EXPECTED_BUDGET_CAP_USD) > config.BUDGET_TOLERANCE_USD) {
    problems.push(
      `budget_cap_usd_monthly should be ${config.EXPECTED_BUDGET_CAP_USD} ± ${config.BUDGET_TOLERANCE_USD}, got ${JSON.stringify(brief.budget_cap_usd_monthly)}`,
    );
  }
  return problems;
}

/**
 * RUNBOOK step 4: each execution step must be seen moving pending → running → completed.
 * A fast worker may pass `pending` before the pill renders, so pending is optional, but `running`
 * must be seen before `completed` and nothing may fail or go backwards.
 */
export function stepProgressionProblems(sequences: Record<string, string[]>, statuses: { running: string }): string[] {
  const order = ['pending', statuses.running, 'completed'];
  const problems: string[] = [];
  const steps = Object.entries(sequences);
  if (steps.length === 0) return ['no execution step was seen on the page'];
  for (const [step, seen] of steps) {
    const shown = `${step}: ${seen.join(' → ')}`;
    const unknown = seen.filter((s) => !order.includes(s));
    if (unknown.length > 0) problems.push(`${shown} (unexpected ${unknown.join(', ')})`);
    else if (seen[seen.length - 1] !== 'completed') problems.push(`${shown} (never completed)`);
    else if (!seen.includes(statuses.running)) problems.push(`${shown} (never shown as ${statuses.running})`);
    else if (seen.some((s, i) => i > 0 && order.indexOf(s) < order.indexOf(seen[i - 1]!))) problems.push(`${shown} (went backwards)`);
  }
  return problems;
}

const SEVERITY_LABELS = { low: 'Low', med: 'Med', high: 'High' } as const;

/** The plan modal's risk badge as CONTRACT 3 writes it: "Low risk · 12". */
export function riskBadgeText(severity: keyof typeof SEVERITY_LABELS, score: number): string {
  return `${SEVERITY_LABELS[severity]} risk · ${score}`;
}

export type PlanLimitsConfig = Pick<
  Config,
  'CHECKOUT_PLAN' | 'UPGRADE_PLAN' | 'FREE_INSTANCE_LIMIT' | 'FREE_MONTHLY_PROVISIONING_USD' | 'PRO_CLOUD_INSTANCE_LIMIT' | 'PRO_CLOUD_MONTHLY_PROVISIONING_USD'
>;

/** RUNBOOK pre-flight 2 with this target's figures: the limits each plan row must carry (and the fix writes). */
export function planLimits(config: PlanLimitsConfig): Record<string, Record<string, number>> {
  return {
    [config.CHECKOUT_PLAN]: { max_node_instances: config.FREE_INSTANCE_LIMIT, max_monthly_provisioning_usd: config.FREE_MONTHLY_PROVISIONING_USD },
    [config.UPGRADE_PLAN]: { max_node_instances: config.PRO_CLOUD_INSTANCE_LIMIT, max_monthly_provisioning_usd: config.PRO_CLOUD_MONTHLY_PROVISIONING_USD },
  };
}

/**
 * RUNBOOK pre-flight 3, the platform-pool credential's own health: Vultr refusing it this many
 * times in a row means provisioning will fail, however active the row says it is. A failure or
 * two is shown but passes: the worker resets the count on its next success.
 */
export const CREDENTIAL_FAILURES_UNHEALTHY = 3;
