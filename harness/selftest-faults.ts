/**
 * What the self-test expects of the suite for each fault of the reference stack
 * (reference/lib/faults.ts, the one list of fault names): which tests to run, where the run must
 * fail, and what the failure diagnosis must say. Where to fail is built from the specs' own titles
 * (tests/steps.ts), what to say from the troubleshooting table (RUNBOOK Troubleshooting) behind helpers/diagnosis/.
 *
 * `step` is matched against "<failing test title> › <failing step> › <inner failing step>", so a
 * fault caught by an unrelated test (a flaky browser, a broken suite) does not count as caught.
 */
import type { FaultName } from '@m1/reference/faults';
import { AFTER_RUN, FUNNEL, FUNNEL_CHECKS, NEGATIVE, PREFLIGHT } from '../tests/steps';

export type Expectation = {
  /** Tests to run (Playwright --grep). Pre-flight and the teardown projects always run with them. */
  grep: RegExp;
  /** Where the run must fail. */
  step: RegExp;
  /** What the diagnosis attached to that failure must say. */
  diagnosis: RegExp;
  /** Shown under the results table: how the fault is caught, or what it takes to catch it. */
  note?: string;
  /** Variables the suite runs with for this fault, on top of the self-test's own (e.g. a tighter bound). */
  env?: Record<string, string>;
};

/**
 * The runbook's troubleshooting table has a row for only a few causes. For every other defect the
 * diagnosis must not send the reader after one of those rows.
 */
export const NO_ROW = /No row of the runbook troubleshooting table matches/;

/** A title, matched literally. */
export const literal = (title: string) => title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The words of a title before the figure the target configures (a route, a price). */
export const before = (title: (figure: string) => string) => title('\u0000').split('\u0000')[0] ?? '';

/** Tests to run (--grep): the test with this title. */
export const theTest = (title: string) => new RegExp(literal(title));

/** A failure in the test with this title (or at one of its steps), e.g. a pre-flight check. */
export const inTest = (title: string) => new RegExp(`^${literal(title)}`);

/** A failure at a step of that test. */
export const atStep = (test: string, step: string) => new RegExp(`^${literal(test)} › ${literal(step)}`);

/** A failure at a step with this title (or these first words), whichever test it is in. */
export const anyStep = (step: string) => new RegExp(`› ${literal(step)}`);

/** A failure at an inner step of the step with this title (or these first words). */
const innerStep = (step: string, inner: string) => new RegExp(`› ${literal(step)}[^›]* › ${literal(inner)}`);

export const FUNNEL_TEST = theTest(FUNNEL.test);
export const STEP_1 = anyStep(before(FUNNEL.signUp));
export const STEP_2 = anyStep(FUNNEL.brief);
export const STEP_3 = anyStep(before(FUNNEL.plan));
export const STEP_4 = anyStep(FUNNEL.execute);
export const STEP_5 = anyStep(FUNNEL.secondInstance);
export const STEP_6 = anyStep(FUNNEL.spend);
const PREFLIGHT_VULTR_KEY = atStep(PREFLIGHT.vultr, PREFLIGHT.vultrKey);
const PREFLIGHT_STRIPE = inTest(PREFLIGHT.stripe);

export const EXPECTATIONS: Record<FaultName, Expectation> = {
  bootstrap_six_templates: { grep: FUNNEL_TEST, step: STEP_1, diagnosis: NO_ROW },
  bootstrap_skipped: { grep: FUNNEL_TEST, step: STEP_1, diagnosis: NO_ROW },
  stale_plan_limits: {
    grep: FUNNEL_TEST,
    step: inTest(PREFLIGHT.planLimits),
    diagnosis: /likely cause: Stale plan limits/,
    note: 'acts on a new database only; every self-test stack starts with --fresh',
  },
  brief_region_wrong: { grep: FUNNEL_TEST, step: STEP_2, diagnosis: NO_ROW },
  collapse_disabled: { grep: FUNNEL_TEST, step: STEP_3, diagnosis: NO_ROW },
  collapse_over_merge: {
    grep: theTest(NEGATIVE.stepCollapse.test),
    step: atStep(NEGATIVE.stepCollapse.test, NEGATIVE.stepCollapse.review),
    diagnosis: NO_ROW,
  },
  cost_730h: { grep: FUNNEL_TEST, step: STEP_3, diagnosis: NO_ROW },
  risk_wrong: { grep: FUNNEL_TEST, step: STEP_3, diagnosis: NO_ROW },
  checkout_redirect_wrong: { grep: FUNNEL_TEST, step: STEP_1, diagnosis: NO_ROW },
  webhook_signature_unverified: {
    grep: theTest(NEGATIVE.forgedWebhook.test),
    step: inTest(NEGATIVE.forgedWebhook.test),
    diagnosis: NO_ROW,
  },
  quota_guard_disabled: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW },
  paywall_generic_error: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW },
  quota_after_vultr: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW },
  credentials_fail_open: {
    grep: theTest(NEGATIVE.invalidKey.test),
    step: anyStep(NEGATIVE.invalidKey.failsClosed),
    diagnosis: NO_ROW,
  },
  region_unmapped: { grep: FUNNEL_TEST, step: STEP_4, diagnosis: NO_ROW },
  instance_never_running: {
    grep: FUNNEL_TEST,
    step: STEP_4,
    diagnosis: /likely cause: Provisioning timed out\n {2}seen: .*last Vultr status of \S+: status pending/,
    note: 'caught when PROVISION_TIMEOUT_MS runs out: the self-test lowers it for the stack and the suite alike',
  },
  usage_record_missing: { grep: FUNNEL_TEST, step: STEP_4, diagnosis: NO_ROW },
  usage_record_rolled_up: { grep: FUNNEL_TEST, step: STEP_4, diagnosis: NO_ROW },
  live_spend_730h: { grep: FUNNEL_TEST, step: STEP_6, diagnosis: NO_ROW },
  meter_job_failing: {
    grep: FUNNEL_TEST,
    step: inTest(before(AFTER_RUN.noFailedMeterJobs)),
    diagnosis: NO_ROW,
    note:
      'the meter job runs daily and the suite never starts one; the self-test stands in for the schedule with one run ' +
      '(POST /jobs/meter?wait=1 on the worker) before every suite run, and the verification teardown must then see it failed',
  },
  meter_job_unlisted: {
    grep: FUNNEL_TEST,
    step: inTest(before(AFTER_RUN.noFailedMeterJobs)),
    diagnosis: NO_ROW,
    note: 'a worker state that does not list the meter job must not read as "0 failed"',
  },
  worker_not_started: { grep: FUNNEL_TEST, step: inTest(PREFLIGHT.worker), diagnosis: /likely cause: Worker not running/ },
  billing_page_500: {
    grep: FUNNEL_TEST,
    step: STEP_6,
    diagnosis: /likely cause: Backend answered 5xx\n {2}seen: .*\n {4}\{.*"url":"\/api\/v1\/billing\/spend".*"statusCode":500/,
  },
  brief_reworded_on_read: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.brief, FUNNEL_CHECKS.briefSettled),
    diagnosis: NO_ROW,
    env: { AI_REPLY_TIMEOUT_MS: '8000' },
    note: 'every wording is about a Discord bot running 24/7, so one read passes; no two reads agree, so the brief never settles',
  },
  brief_use_case_not_bot: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.brief, FUNNEL_CHECKS.briefAboutDiscordBot),
    diagnosis: NO_ROW,
    note: 'the matching that tolerates how a model words a Discord bot still rejects a Discord server',
  },
  brief_budget_text_wrong: { grep: FUNNEL_TEST, step: STEP_2, diagnosis: NO_ROW, note: "the budget row's text, not only its data-value" },
  brief_regions_text_wrong: { grep: FUNNEL_TEST, step: STEP_2, diagnosis: NO_ROW, note: "the regions row's text, not only its data-value" },
  brief_scale_text_wrong: { grep: FUNNEL_TEST, step: STEP_2, diagnosis: NO_ROW, note: "the scale row's text, not only its data-value" },
  paywall_headline_generic: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW, note: "the card's copy a person reads (the Free plan and its limit), not only its data-reason" },
  cost_cap_text_wrong: { grep: FUNNEL_TEST, step: innerStep(FUNNEL.spend, FUNNEL_CHECKS.costCapBar), diagnosis: NO_ROW, note: "the bar's text, not only its aria values" },
  paywall_cta_text_wrong: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW, note: 'the CTA a person reads, not only its test id and link' },
  paywall_pill_for_refused_mission: { grep: FUNNEL_TEST, step: STEP_5, diagnosis: NO_ROW, note: "the refused mission's own pill, whatever the page does with the first one's" },
  backend_log_unreadable: {
    grep: FUNNEL_TEST,
    step: inTest(AFTER_RUN.noServerErrors),
    diagnosis: NO_ROW,
    note: 'a line the 5xx scan cannot read or date fails the check, naming the line, instead of being skipped',
  },
  pending_migration: {
    grep: FUNNEL_TEST,
    step: inTest(PREFLIGHT.schema),
    diagnosis: /likely cause: Pending migrations/,
    note: 'acts on a new database only; every self-test stack starts with --fresh',
  },
  ai_quota_exhausted: {
    grep: FUNNEL_TEST,
    step: STEP_2,
    diagnosis: /likely cause: AI provider quota exhausted/,
    note: 'acts on a new database only (the seed is find-or-create); every self-test stack starts with --fresh',
  },
  platform_credential_missing: {
    grep: FUNNEL_TEST,
    step: atStep(PREFLIGHT.vultr, PREFLIGHT.vultrCredential),
    diagnosis: /likely cause: Provider credentials missing\n {2}seen: no active platform-pool credential/,
    note: 'acts on a new database only (the seed is find-or-create); every self-test stack starts with --fresh',
  },
  vultr_rate_limited: { grep: FUNNEL_TEST, step: PREFLIGHT_VULTR_KEY, diagnosis: /likely cause: Vultr API rate limited/ },
  vultr_unreachable: { grep: FUNNEL_TEST, step: PREFLIGHT_VULTR_KEY, diagnosis: /likely cause: Vultr API unreachable/ },
  stripe_unreachable: { grep: FUNNEL_TEST, step: PREFLIGHT_STRIPE, diagnosis: /likely cause: Stripe API unreachable/ },
  stripe_webhook_not_delivered: {
    grep: FUNNEL_TEST,
    step: STEP_1,
    diagnosis: /likely cause: Stripe webhook not delivered\n {2}seen: not delivered: .*checkout\.session\.completed evt_/,
  },
  stripe_webhook_wrong_url: {
    grep: FUNNEL_TEST,
    step: innerStep(before(FUNNEL.signUp), FUNNEL_CHECKS.webhookDelivered),
    diagnosis: NO_ROW,
    note: "every delivery succeeds, to the wrong URL: only the registered endpoint's URL shows it",
  },
  risk_badge_text_wrong: { grep: FUNNEL_TEST, step: innerStep(before(FUNNEL.plan), FUNNEL_CHECKS.riskBadge), diagnosis: NO_ROW },
  cost_lines_do_not_add_up: { grep: FUNNEL_TEST, step: innerStep(before(FUNNEL.plan), FUNNEL_CHECKS.costLinesAddUp), diagnosis: NO_ROW },
  slow_provisioning: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.execute, FUNNEL_CHECKS.provisionBound),
    diagnosis: NO_ROW,
    env: { RUNBOOK_PROVISION_BOUND_MS: '4000' },
    note:
      'the worker starts 5 s late: the self-test tightens the runbook bound to 4 s (a clean provision takes about 2.5 s), ' +
      'below the 15 s the suite still waits, so the bound and not the wait catches it',
  },
  rollup_token_mismatch: {
    grep: FUNNEL_TEST,
    step: inTest(PREFLIGHT.rollup),
    diagnosis: NO_ROW,
    note: 'the meter job would fail on it too, on its next daily run; pre-flight 5 sees it before the run creates anything',
  },
  quota_checked_after_commit: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.secondInstance, FUNNEL_CHECKS.noSecondInstance),
    diagnosis: NO_ROW,
    note:
      'the 402 and the card are right, and a look taken at once may come before the worker acts; the refused mission is in flight, ' +
      'so the held absence waits for it to settle and sees the second instance',
  },
  pill_count_stale: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.execute, FUNNEL_CHECKS.pillText),
    diagnosis: NO_ROW,
    note: "the pill's count a person reads, not only its steps' data-status",
  },
  usage_record_price_wrong: { grep: FUNNEL_TEST, step: innerStep(FUNNEL.execute, FUNNEL_CHECKS.usageRecord), diagnosis: NO_ROW },
  usage_record_unmetered: { grep: FUNNEL_TEST, step: innerStep(FUNNEL.execute, FUNNEL_CHECKS.usageRecord), diagnosis: NO_ROW },
  vultr_tag_missing: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.secondInstance, FUNNEL_CHECKS.canSeeInstances),
    diagnosis: NO_ROW,
    note: 'a count by the account tag would see no second instance whether or not one exists: the presence proof fails first',
  },
  cost_cap_max_wrong: { grep: FUNNEL_TEST, step: innerStep(FUNNEL.spend, FUNNEL_CHECKS.costCapBar), diagnosis: NO_ROW },
  billing_today_shows_month_to_date: { grep: FUNNEL_TEST, step: innerStep(FUNNEL.spend, FUNNEL_CHECKS.spendSources), diagnosis: NO_ROW },
  spend_today_31_days: {
    grep: FUNNEL_TEST,
    step: innerStep(FUNNEL.spend, FUNNEL_CHECKS.spendSources),
    diagnosis: NO_ROW,
    note: '$0.1626 is inside SPEND_TOLERANCE_USD of $0.168: only the usage records, at the API\'s own precision, tell it apart',
  },
  credential_unhealthy: {
    grep: FUNNEL_TEST,
    step: atStep(PREFLIGHT.vultr, PREFLIGHT.vultrCredentialHealth),
    diagnosis: /likely cause: Provider credentials missing\n {2}seen: platform-pool credential \S+: 5 consecutive failures \(last error: /,
    note: 'acts on a new database only (the seed is find-or-create); every self-test stack starts with --fresh',
  },
  credential_scope_ignored: {
    grep: theTest(NEGATIVE.accountKey.test),
    step: atStep(NEGATIVE.accountKey.test, NEGATIVE.accountKey.inOwnAccount),
    diagnosis: NO_ROW,
    note:
      "the VM runs and is billed as it should, only in the platform pool's Vultr account: just the isolation test's own-key GET sees it is missing; " +
      'the invalid-key path still fails closed, since the account key is checked first',
  },
};

/**
 * `--subset=ci`: a fixed third of the faults, one per place the suite can catch a defect
 * (pre-flight with its diagnosis, funnel steps 1, 3, 4, 5 and 6, two negative paths), plus two
 * pre-flight faults that cost a stack start and seconds: a runbook troubleshooting row (stale plan
 * limits) and an unreachable cloud API, whose probe tells no answer from a refused key. Issue 15's
 * checks add four: the credential's health (pre-flight), the webhook endpoint's URL (step 1), the
 * usage record as the runbook reads it (step 4) and the presence proof before an absence (step 5),
 * and the text a person reads where a data attribute stays right (the pill's count, step 4; the
 * paywall's copy, step 5), and the brief matching that tolerates a model's words (step 2). The
 * account-isolation negative path (RUNBOOK pre-flight 3) adds the one defect only it catches.
 */
export const CI_SUBSET: readonly FaultName[] = [
  'pending_migration',
  'stale_plan_limits',
  'vultr_unreachable',
  'bootstrap_six_templates',
  'cost_730h',
  'usage_record_missing',
  'quota_guard_disabled',
  'live_spend_730h',
  'credentials_fail_open',
  'webhook_signature_unverified',
  'credential_unhealthy',
  'stripe_webhook_wrong_url',
  'usage_record_unmetered',
  'vultr_tag_missing',
  'backend_log_unreadable',
  'pill_count_stale',
  'paywall_headline_generic',
  'brief_use_case_not_bot',
  'credential_scope_ignored',
];

/**
 * PROVISION_TIMEOUT_MS for every self-test run, stack and suite alike. The default 90 s is how long
 * a fault that keeps the instance from running would hold its run; a clean provision here takes a
 * few seconds, and the clean runs prove the lower bound still passes.
 */
export const SELFTEST_PROVISION_TIMEOUT_MS = 15_000;
