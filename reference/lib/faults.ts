/**
 * Fault switches for the self-test: realistic defects a change to the four M1 slices could
 * introduce. Every one is inert unless named in `--faults=` (passed to each process of the stack
 * as STACK_FAULTS). This list is the only place fault names are defined.
 */
export const FAULTS = {
  bootstrap_six_templates: 'account bootstrap creates 6 node templates instead of 7',
  bootstrap_skipped: 'account bootstrap never runs for new accounts',
  stale_plan_limits: 'the plan seed writes plan rows whose limits lack the Slice C keys',
  brief_region_wrong: 'brief capture puts the Discord bot in us-west-1',
  collapse_disabled: 'the step-collapse pass is skipped (3 steps shown)',
  collapse_over_merge: 'the step-collapse pass also merges the compute + database + network plan',
  cost_730h: 'the cost estimator uses 730 h per month ($5.11)',
  risk_wrong: 'risk severity is computed as med for a low-risk plan',
  checkout_redirect_wrong: 'the checkout return page redirects to /settings/billing instead of the chat',
  webhook_signature_unverified: 'the Stripe webhook handler accepts events without checking the signature',
  quota_guard_disabled: 'QuotaGuard is not consulted on approve',
  paywall_generic_error: 'a 402 from approve is shown as a generic error instead of UpgradeRequiredCard',
  quota_after_vultr: 'QuotaGuard runs in the worker after the Vultr instance was created',
  credentials_fail_open: 'a Vultr 401 still marks the instance running and writes a usage record',
  region_unmapped: 'the region is sent to Vultr unmapped (us-east-1 instead of ewr)',
  instance_never_running: 'the Vultr instance never leaves pending',
  usage_record_missing: 'no usage record is written when the instance starts running',
  usage_record_rolled_up: 'the usage record is written as rolled_up instead of pending',
  live_spend_730h: 'live spend aggregates at 730 h per month',
  meter_job_failing: 'the billing.provisioning_meter job fails',
  meter_job_unlisted: "the worker's health does not list the billing.provisioning_meter job at all",
  worker_not_started: 'the stack does not start the worker',
  billing_page_500: 'the billing spend endpoint answers 500',
  brief_budget_text_wrong: "the Brief Card's budget row reads twice the cap its data-value holds",
  paywall_cta_text_wrong: 'the UpgradeRequiredCard\'s CTA reads "Upgrade" (its test id and link are right)',
  paywall_pill_for_refused_mission: 'a refused (402) approve still shows an execution pill for that mission, beside the card',
  backend_log_unreadable: 'the backend log gets a plain-text line among its JSON lines, one no scan can date',
  pending_migration: 'the last migration (usage records) is not applied',
  platform_credential_missing: 'the seed registers no platform-pool Vultr credential',
  ai_quota_exhausted: 'the AI provider pro_cloud is seeded with its quota used up (current_quota_usage = quota_limit)',
  vultr_rate_limited: 'another client behind the same source IP spends its Vultr budget: every Vultr API call answers 429',
  vultr_unreachable: 'the Vultr API cannot be reached (the stack does not start its Vultr emulator)',
  stripe_unreachable: 'the Stripe API cannot be reached (the stack does not start its Stripe emulator)',
  stripe_webhook_not_delivered: 'the Stripe webhook endpoint is registered with a mistyped path: every delivery gets a 404',
  stripe_webhook_wrong_url: 'the Stripe webhook endpoint is registered with a URL elsewhere that accepts the deliveries: they succeed there and never reach this stack',
  billing_today_shows_month_to_date: "the Billing page's Today figure shows the month-to-date spend in its text (its data-usd stays right)",
  spend_today_31_days: "live spend's today figure is the run-rate ÷ 31 instead of ÷ 30",
  cost_cap_max_wrong: "the Brief Card cost-cap bar's aria-valuemax is 100 (a percent scale) instead of the brief's budget cap",
  usage_record_price_wrong: 'the usage record is written with the hourly price of the next instance type up',
  usage_record_unmetered: 'the usage record is written with metered_at at the epoch instead of now',
  slow_provisioning: 'the worker waits 5 s before it starts a provisioning job',
  risk_badge_text_wrong: 'the risk badge reads "High risk" for a plan whose severity is low',
  cost_lines_do_not_add_up: "the plan's cost line amounts are priced at 730 h while the total uses 720 h",
  vultr_tag_missing: 'the worker creates Vultr instances without the account:<id> tag',
  brief_reworded_on_read: "GET /ai/missions/:id asks the model again on every read: the brief's intent is worded anew each time, never settling",
  brief_use_case_not_bot: 'brief capture records the Discord bot\'s use case as a Discord server ("Discord server for moderation"), not a bot',
  brief_regions_text_wrong: "the Brief Card's regions row reads us-west-1 while its data-value holds us-east-1",
  brief_scale_text_wrong: 'the Brief Card\'s scale row reads "1→3 · linear" while its data-value holds 1→1 flat',
  cost_cap_text_wrong: "the cost-cap bar's text names the free plan's $20/mo provisioning limit instead of the brief's cap (its aria values are right)",
  paywall_headline_generic: 'the UpgradeRequiredCard\'s copy reads "You have reached a limit." instead of naming the Free plan and its limit (data-reason right)',
  rollup_token_mismatch: "the rollup endpoint checks a rotated internal token that neither the worker nor INTERNAL_API_TOKEN holds: every rollup is a 401",
  quota_checked_after_commit: 'QuotaGuard answers its 402 only after the approval it refuses has committed: the worker still provisions the refused mission',
  pill_count_stale: 'the execution pill keeps reading "0 of 1 steps" after its steps complete (their data-status is right)',
  credential_unhealthy: 'the seed registers the platform-pool credential with 5 consecutive failures and a last error',
  credential_scope_ignored: "the worker checks the account-scoped key but creates the instance with the platform pool's key",
} as const;

export type FaultName = keyof typeof FAULTS;

/** Faults that live in the browser: the server names the active ones in the page's HTML shell. */
export const PAGE_FAULTS = [
  'billing_today_shows_month_to_date',
  'cost_cap_max_wrong',
  'risk_badge_text_wrong',
  'paywall_cta_text_wrong',
  'paywall_pill_for_refused_mission',
  'brief_budget_text_wrong',
  'pill_count_stale',
  'brief_regions_text_wrong',
  'brief_scale_text_wrong',
  'cost_cap_text_wrong',
  'paywall_headline_generic',
] as const satisfies readonly FaultName[];

/** How long the `slow_provisioning` fault holds a provisioning job before it starts. */
export const SLOW_PROVISIONING_DELAY_MS = 5_000;

export function isFaultName(name: string): name is FaultName {
  return Object.prototype.hasOwnProperty.call(FAULTS, name);
}

/** Parses a comma list, rejecting unknown names with one message listing them. */
export function parseFaults(list: string | undefined): FaultName[] {
  const names = (list ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !isFaultName(n));
  if (unknown.length > 0) {
    throw new Error(`unknown fault(s): ${unknown.join(', ')}; known: ${Object.keys(FAULTS).join(', ')}`);
  }
  return names as FaultName[];
}

let active: Set<FaultName> | undefined;

/** True when the running process was started with this fault (STACK_FAULTS). */
export function hasFault(name: FaultName): boolean {
  active ??= new Set(parseFaults(process.env.STACK_FAULTS));
  return active.has(name);
}
