/**
 * RUNBOOK Pre-flight 1-5 and Prerequisites. Each check is its own setup test so one run reports
 * every problem at once; each failure says what to do. The funnel and negative paths run only when
 * all of them pass.
 *
 * Pre-flight also marks the start of the run (verification bounds "no 5xx since the run started"
 * with it) and records its failures, so the teardown knows when there is nothing to verify.
 */
import { backendPoll, config, expect, test as setup } from '../fixtures';
import { realCloudRefusal } from '../helpers/run/guards';
import { PREFLIGHT } from './steps';

setup.beforeAll(({ run }) => {
  const startedAt = run.recordStart();
  setup.info().annotations.push({ type: 'run', description: `${run.id} started ${startedAt.toISOString()}` });
});

setup.afterEach(({ run }) => {
  const info = setup.info();
  if (info.status !== info.expectedStatus) run.recordPreflightFailure(info.title);
});

setup(PREFLIGHT.backendUp, async ({ backend }) => {
  const status = await backend.upStatus().catch(() => 0);
  expect(status, `GET ${config.BASE_URL}/up must answer 200: start the backend (npm run stack) or fix BASE_URL`).toBe(200);
});

setup(PREFLIGHT.consent, () => {
  // Before any signup: a run refused at its first Approve would already have made accounts.
  expect(realCloudRefusal(config), 'the funnel approves a VM; without consent nothing may be created at this target').toBeNull();
});

setup(PREFLIGHT.ownStack, async ({ backend }) => {
  // A reference stack on this machine must be this checkout's, whoever started it; with
  // START_STACK=auto one that does not say whose it is may not be reused either.
  setup.skip(!config.isLocalTarget, 'the target is not on this machine: the run neither starts nor reuses a stack');
  expect(await backend.stackOwnershipProblem(), 'a stack already running must be this checkout\'s').toBeNull();
});

setup(PREFLIGHT.schema, async ({ backend }) => {
  const missing = await backend.missingSchema();
  expect(
    missing,
    `pending migrations: ${missing.join(', ')} — run the migrations (cd server && bundle exec rails db:migrate); REQUIRED_MIGRATIONS lists the versions required`,
  ).toEqual([]);
});

setup(PREFLIGHT.planLimits, async ({ backend }) => {
  let stale = await backend.stalePlanLimits();
  if (stale.length > 0 && config.PREFLIGHT_FIX) {
    await setup.step(PREFLIGHT.planLimitsFix, async () => {
      await backend.refreshPlanLimits();
      const fixed = `refreshed stale plan limits: ${stale.join('; ')}`;
      setup.info().annotations.push({ type: 'preflight-fix', description: fixed });
      console.log(`pre-flight: ${fixed}`);
    });
    stale = await backend.stalePlanLimits();
  }
  expect(
    stale,
    `stale plan limits: ${stale.join('; ')} — QuotaGuard treats accounts as unlimited; run the runbook's pre-flight item 2 fix, or re-run with PREFLIGHT_FIX=1`,
  ).toEqual([]);
});

setup(PREFLIGHT.vultr, async ({ backend, cloud }) => {
  await setup.step(PREFLIGHT.vultrCredential, async () => {
    expect(
      await backend.activePlatformPoolCredentials(),
      'no active platform-pool Vultr credential — register a Vultr API key on the canonical Pro Cloud provider via Settings → Cloud Credentials (a run interrupted during the disabled-pool test can leave it off: re-enable it there)',
    ).toBeGreaterThan(0);
  });
  await setup.step(PREFLIGHT.vultrCredentialHealth, async () => {
    const health = await backend.platformPoolCredentialHealth();
    for (const note of health.notes) setup.info().annotations.push({ type: 'note', description: note });
    expect(
      health.problems,
      `unhealthy platform-pool credential: ${health.problems.join('; ')} — Vultr keeps refusing it; re-register a valid Vultr API key per pre-flight item 3`,
    ).toEqual([]);
  });
  await setup.step(PREFLIGHT.vultrKey, async () => {
    const answer = await cloud.probe().then(
      () => 'accepted',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(
      answer,
      `GET ${config.VULTR_API_URL}/account must accept VULTR_API_KEY: a rejected key (401/403) needs the platform pool's valid key in .env; no answer or a 429 means Vultr is unreachable or rate limiting (see the diagnosis)`,
    ).toBe('accepted');
  });
});

setup(PREFLIGHT.stripe, async ({ payments }) => {
  expect(config.STRIPE_SECRET_KEY.startsWith('sk_test_'), 'STRIPE_SECRET_KEY must be a Stripe test secret key (sk_test_...)').toBe(true);
  const answer = await payments.probe().then(
    () => 'answered',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  expect(answer, `Stripe at ${config.STRIPE_API_BASE} must accept STRIPE_SECRET_KEY: check the key and STRIPE_API_BASE`).toBe('answered');
});

setup(PREFLIGHT.rollup, async ({ backend }) => {
  const { status, call } = await backend.rollupEndpoint();
  if (status === 404) {
    // RUNBOOK pre-flight 5: a known follow-up, not a reason to stop the run; but nobody should miss it.
    const warning = `${call} answered 404: the worker's daily rollup endpoint does not exist, so billing.provisioning_meter fails silently (RUNBOOK pre-flight 5, a known follow-up); live spend does not depend on it`;
    setup.info().annotations.push({ type: 'warning', description: warning });
    console.warn(`pre-flight: WARNING: ${warning}`);
    return;
  }
  expect(`answered ${status}`, `${call} with INTERNAL_API_TOKEN must answer 2xx (401/403: the token is wrong, so the meter job would fail too)`).toMatch(/^answered 2\d\d$/);
});

setup(PREFLIGHT.worker, async ({ backend }) => {
  const source = config.WORKER_STATE_COMMAND ? 'WORKER_STATE_COMMAND' : `worker health at ${config.WORKER_HEALTH_URL}`;
  await expect
    .poll(
      () => backend.workerState().then((s) => (s.running ? 'running' : 'not running'), (error: Error) => `unreadable: ${error.message}`),
      backendPoll(`${source} must say the worker is running: start the worker (sudo systemctl status powernode-worker@default)`),
    )
    .toBe('running');
});

setup(PREFLIGHT.extensions, async ({ anonymousApi }) => {
  const answer = await anonymousApi.appConfig();
  expect(answer.ok, `GET /api/v1/config must answer the features: ${answer.ok ? '' : `${answer.status} ${answer.error.code}`}`).toBe(true);
  const features = answer.ok ? answer.data.features : null;
  expect(features, 'enable the business and system extensions (GET /api/v1/config features.business and features.system must be true)').toEqual(
    expect.objectContaining({ business: true, system: true }),
  );
});
