/**
 * Runbook: Pre-flight 1-5 and Prerequisites. Each check is its own setup test so one run reports
 * every problem at once; each failure says what to do. The funnel and negative paths run only when
 * all of them pass.
 *
 * Pre-flight also marks the start of the run (verification bounds "no 5xx since the run started"
 * with it) and records its failures, so the teardown knows when there is nothing to verify.
 */
import { backendPoll, config, expect, test as setup } from '../fixtures';
import { runId } from '../helpers/config';
import { recordPreflightFailure, recordRunStart } from '../helpers/run/state';
import { RUNBOOK_PLAN_LIMITS } from '../helpers/runbook';
import { backendUpStatus, missingSchema, stalePlans, workerHealth } from '../helpers/preflight/health';

setup.beforeAll(() => {
  const startedAt = recordRunStart(runId());
  setup.info().annotations.push({ type: 'run', description: `${runId()} started ${startedAt.toISOString()}` });
});

setup.afterEach(() => {
  const info = setup.info();
  if (info.status !== info.expectedStatus) recordPreflightFailure(runId(), info.title);
});

setup('Backend answers /up', async ({ dispatcher }) => {
  const status = await backendUpStatus(dispatcher, config.BASE_URL).catch(() => 0);
  expect(status, `GET ${config.BASE_URL}/up must answer 200: start the backend (npm run stack) or fix BASE_URL`).toBe(200);
});

setup('1. Dev DB up to date (no pending migrations)', async ({ queries }) => {
  const missing = await missingSchema(queries, config.NODE_INSTANCE_PROVIDER_ID_SQL);
  expect(missing, `pending migrations: ${missing.join(', ')} — run the migrations (cd server && bundle exec rails db:migrate)`).toEqual([]);
});

setup('2. Plan limits fresh (free and pro_cloud)', async ({ queries }) => {
  const slugs = Object.keys(RUNBOOK_PLAN_LIMITS);
  let stale = stalePlans(await queries.plans(slugs));
  if (stale.length > 0 && config.PREFLIGHT_FIX) {
    await setup.step('PREFLIGHT_FIX=1: apply the runbook fix (UPDATE saas_plans SET limits)', async () => {
      for (const [slug, limits] of Object.entries(RUNBOOK_PLAN_LIMITS)) await queries.mergePlanLimits(slug, limits);
      const fixed = `refreshed stale plan limits: ${stale.join('; ')}`;
      setup.info().annotations.push({ type: 'preflight-fix', description: fixed });
      console.log(`pre-flight: ${fixed}`);
    });
    stale = stalePlans(await queries.plans(slugs));
  }
  expect(
    stale,
    `stale plan limits: ${stale.join('; ')} — QuotaGuard treats accounts as unlimited; run the runbook's pre-flight item 2 fix, or re-run with PREFLIGHT_FIX=1`,
  ).toEqual([]);
});

setup('3. Vultr credential registered on the platform pool, and VULTR_API_KEY valid', async ({ queries, vultr }) => {
  await setup.step('An active platform-pool credential exists', async () => {
    const active = (await queries.platformPoolCredentials()).filter((c) => c.is_active);
    expect(
      active.length,
      'no active platform-pool Vultr credential — register a Vultr API key on the canonical Pro Cloud provider via Settings → Cloud Credentials (a run interrupted during the disabled-pool test can leave it off: re-enable it there)',
    ).toBeGreaterThan(0);
  });
  await setup.step('GET /account accepts VULTR_API_KEY', async () => {
    const answer = await vultr.account().then(
      () => 'accepted',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    expect(
      answer,
      `GET ${config.VULTR_API_URL}/account must accept VULTR_API_KEY: a rejected key (401/403) needs the platform pool's valid key in .env; no answer or a 429 means Vultr is unreachable or rate limiting (see the diagnosis)`,
    ).toBe('accepted');
  });
});

setup('4. Stripe test mode available (sk_test_ key answers)', async ({ payments }) => {
  expect(config.STRIPE_SECRET_KEY.startsWith('sk_test_'), 'STRIPE_SECRET_KEY must be a Stripe test secret key (sk_test_...)').toBe(true);
  const answer = await payments.probe().then(
    () => 'answered',
    (error: unknown) => (error instanceof Error ? error.message : String(error)),
  );
  expect(answer, `Stripe at ${config.STRIPE_API_BASE} must accept STRIPE_SECRET_KEY: check the key and STRIPE_API_BASE`).toBe('answered');
});

setup('Worker service running (health ok)', async ({ dispatcher }) => {
  await expect
    .poll(
      () => workerHealth(dispatcher, config.WORKER_HEALTH_URL).then((h) => h.status, () => 'unreachable'),
      backendPoll(`worker health at ${config.WORKER_HEALTH_URL} must be "ok": start the worker (sudo systemctl status powernode-worker@default)`),
    )
    .toBe('ok');
});

setup('business and system extensions enabled (M1 funnel is extension-gated)', async ({ anonymousApi }) => {
  const answer = await anonymousApi.appConfig();
  expect(answer.ok, `GET /api/v1/config must answer the features: ${answer.ok ? '' : `${answer.status} ${answer.error.code}`}`).toBe(true);
  const features = answer.ok ? answer.data.features : null;
  expect(features, 'enable the business and system extensions (GET /api/v1/config features.business and features.system must be true)').toEqual(
    expect.objectContaining({ business: true, system: true }),
  );
});
