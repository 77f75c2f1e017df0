/**
 * The titles of the suite's tests and steps, in the runbook's own words: the specs name their tests
 * and steps with these, and the self-test (scripts/selftest-faults.ts) builds from them where each
 * fault must make the run fail. A title with a figure the target configures (a route, a price)
 * is a function of that figure.
 *
 * Plain strings only, no imports: the self-test imports this module outside Playwright.
 */
/** Runbook: Pre-flight 1-5 and Prerequisites (tests/preflight.setup.ts). */
export const PREFLIGHT = {
  backendUp: 'Backend answers /up',
  consent: 'Consent: this run may create billed VMs at this target',
  ownStack: "The stack at BASE_URL is this checkout's own (its log is the one this run reads)",
  schema: '1. Dev DB up to date (no pending migrations)',
  planLimits: '2. Plan limits fresh (free and pro_cloud)',
  planLimitsFix: 'PREFLIGHT_FIX=1: apply the runbook fix (UPDATE saas_plans SET limits)',
  vultr: '3. Vultr credential registered on the platform pool, and VULTR_API_KEY valid',
  vultrCredential: 'An active platform-pool credential exists',
  vultrCredentialHealth: 'The platform-pool credential is healthy: no run of consecutive failures (its last error shown)',
  vultrKey: 'GET /account accepts VULTR_API_KEY',
  stripe: '4. Stripe test mode available (sk_test_ key answers)',
  rollup: '5. Worker rollup endpoint answers INTERNAL_API_TOKEN (absent: a known follow-up, flagged)',
  worker: 'Worker service running (health ok)',
  extensions: 'business and system extensions enabled (M1 funnel is extension-gated)',
} as const;

/** Runbook: Procedure, happy path steps 1-6 (tests/activation-funnel.spec.ts). */
export const FUNNEL = {
  test: 'M1 activation funnel: sign-up to a running Vultr instance, paywall and live spend',
  signUp: (provisioningRoute: string) => `1. Sign up → checkout → land on ${provisioningRoute}`,
  brief: '2. Type Discord-bot brief → Brief Card populates',
  plan: (monthlyCost: string) => `3. Approve → 1-step plan with ${monthlyCost} cost estimate`,
  execute: '4. Execute → instance running on Vultr within ~90s',
  secondInstance: '5. Try a second instance → UpgradeRequiredCard renders',
  spend: "6. Subscription's daily spend reflects usage",
} as const;

/** The checks inside the funnel's steps that issue 15 added, each its own inner step so a failure names it. */
export const FUNNEL_CHECKS = {
  /** Step 1. */
  webhookDelivered: "Stripe delivered the customer's events to an endpoint with the target's webhook URL",
  /** Step 2. */
  briefSettled: "The AI's reply, read once settled: every key there, and two reads in a row agreeing",
  briefAboutDiscordBot: 'The brief is about a Discord bot running 24/7, however the model words it',
  /** Step 3. */
  riskBadge: 'The risk badge reads "<severity> risk · <score>" with the API\'s score',
  costLinesAddUp: "The cost lines' amounts add up to the total",
  /** Step 4. */
  provisionBound: "NodeInstance running within the runbook's ~90 s of the Approve click (RUNBOOK_PROVISION_BOUND_MS)",
  pillText: 'The execution pill reads the steps done, "1 of 1 steps", as its steps show them',
  usageRecord: 'The usage record as the runbook reads it: event, status, metered_at within the run, the type\'s hourly_price',
  /** Step 5. */
  canSeeInstances: "Presence first: the funnel's instance carries the account tag the instance count relies on",
  noSecondInstance: 'No second instance (NodeInstance or Vultr) and no create call, held until the second mission settles',
  /** Step 6. */
  costCapBar: 'The cost-cap bar: aria-valuemax the budget cap, aria-valuenow the run-rate, text "$5.04 of $10/mo"',
  spendSources: 'Spend agrees at every source: /billing/spend, the Billing page (text and data-usd), Σ usage records',
} as const;

/** The step four negative paths share: the provisioning flow up to the Approve click. */
const BRIEF_TO_APPROVAL = 'Type the Discord-bot brief → Open Plan → Approve';
const FAILS_CLOSED = 'Provisioning fails closed with a "credentials missing or invalid" toast';

/** Runbook: Negative-path coverage, plus the sign-up and isolation edges (tests/negative-paths.spec.ts). */
export const NEGATIVE = {
  credentials: 'Missing / invalid credential',
  invalidKey: {
    test: 'an invalid account-scoped Vultr key fails closed: toast, failed mission, no usage record, no instance',
    register: 'Register a plausible but invalid Vultr key for the account (Settings → Cloud Credentials)',
    approve: BRIEF_TO_APPROVAL,
    failsClosed: FAILS_CLOSED,
  },
  poolDisabled: {
    test: 'the platform pool disabled fails closed: 422 credentials_missing, toast, no usage record, no instance',
    disable: 'Disable the platform-pool Vultr credential',
    approve: BRIEF_TO_APPROVAL,
    failsClosed: FAILS_CLOSED,
  },
  quotaGuard: {
    test: 'Quota guard: a free account over its instance limit gets the UpgradeRequiredCard at once, without a cloud call',
    giveInstance: 'Give the free account one active instance (node_instance_count = 1)',
    approve: BRIEF_TO_APPROVAL,
    upgradeCard: 'UpgradeRequiredCard renders instead of the execution view; Vultr was never called',
  },
  /** Before a negative path counts zero, it proves a count by the account tag could see an instance. */
  taggingProof: 'Presence first: the stack tags what it creates with account:<id>',
  stepCollapse: {
    test: 'Step-collapse boundary: compute + database + network stays 3 separate steps',
    openPlan: 'Type the compute + database + network brief → Open Plan',
    review: 'The review modal shows 3 separate steps with 3 different skills, no collapse note',
    api: 'The API agrees: dag.step_count 3, three skills, no step_collapse',
  },
  declinedCard: {
    test: 'Declined card: "Your card was declined." in the checkout, no subscription, the user stays on checkout',
    pay: 'Pay with the declined test card 4000 0000 0000 0002',
    noSubscription: 'Stripe shows the decline and no subscription exists, in the DB or at Stripe',
  },
  duplicateEmail: {
    test: 'Duplicate e-mail: signing up with a taken address says "An account with this email already exists"',
    ui: 'Sign up again with the same e-mail in the UI',
    api: 'The API refuses it too: 409 email_taken',
  },
  /** RUNBOOK pre-flight 3: "For account-isolation testing, register a separate cred under the test account." */
  accountKey: {
    test: 'Account isolation: an account-scoped Vultr key is used instead of the platform pool',
    twoAccounts: 'The separate key opens another Vultr account than the platform pool (GET /account with each key)',
    register: 'Register a separate Vultr key under the test account (Settings → Cloud Credentials)',
    approve: BRIEF_TO_APPROVAL,
    running: 'Provisioning completes: the NodeInstance is running, with its Vultr id',
    inOwnAccount: "The instance is in the account key's Vultr account: GET and the account-tag listing with that key find it",
    poolCanSee: "Presence first: the platform pool's key opens another Vultr account, its listing answers, and the instance carries the account tag",
    notInPool: "The platform pool's Vultr account does not hold it: GET answers 404 and its account-tag listing is empty",
  },
  forgedWebhook: { test: 'A Stripe webhook with a forged signature is refused (400) and activates nothing' },
  isolation: { test: "Account isolation: one account cannot read another account's mission" },
} as const;

/** Runbook: Verification, then Rollback (tests/after-run.teardown.ts). */
export const AFTER_RUN = {
  finalState: "Final state: one running NodeInstance and one 'running' usage record per funnel identity",
  noServerErrors: 'No 500s in the backend log since the run started',
  noFailedMeterJobs: (meterJob: string) => `No failed ${meterJob} jobs`,
  rollback: "Rollback: destroy the run's Vultr instances, delete its NodeInstances and usage records",
  rollbackTwice: 'Safe to run twice: a second rollback finds nothing left',
  rollbackSawTags: "Presence first: the first pass found every instance through its account tag, not only through its row",
} as const;
