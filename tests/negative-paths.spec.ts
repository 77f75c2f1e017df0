/**
 * RUNBOOK Negative-path coverage, plus the sign-up and isolation edges around it. Each test has
 * its own fresh identity, registered through the API and logged in through the /login UI; its
 * cloud resources and rows are rolled back by the fixtures when it ends.
 *
 * The tests run in parallel. One holds Playwright's built-in `-exclusive-` lock, so no other test
 * runs beside it: it switches off the shared platform-pool credential. The quota test's "Vultr was
 * never called" counts only creations for its own account (the emulator journal keeps the tags a
 * create asked for), so it needs no lock.
 *
 * Every "no instance" and "no cloud call" first proves that the stack tags what it creates (a count
 * by the account tag could see it), then holds until the mission settles plus a margin. The
 * account-isolation test's "not in the platform pool's account" likewise first proves the pool's
 * key could see the instance there.
 */
import { config, expect, holdAbsence, pollFor, test } from '../fixtures';
import { unwrap } from '../helpers/clients/api';
import { footprintProblem } from '../helpers/system/cloud';
import { ERROR_CODES, MISSION_FAILED, PROMPTS, TEST_CARDS, UI_TEXTS, plausibleInvalidVultrKey } from '../helpers/runbook';
import { CheckoutPage } from './pages/checkout-page';
import { NEGATIVE } from './steps';

type Fixtures = Parameters<Parameters<typeof test>[2]>[0];

/**
 * After an approve that must create nothing: first prove the count could see an instance (its
 * tagging), then hold "no instance, no create call for the account" until the mission settles.
 */
async function nothingCreatedSince(
  approval: { missionId: string; requestedAt: Date; answeredAt: Date },
  accountId: string,
  { backend, cloud, run }: Pick<Fixtures, 'backend' | 'cloud' | 'run'>,
  absence: string,
) {
  const tagging = await test.step(NEGATIVE.taggingProof, async () => {
    const proof = await cloud.taggingProof(await backend.cloudNodeInstancesOfRun(run.id));
    expect(proof.problem, `tagging, proven through ${proof.how}`).toBeNull();
    return proof;
  });
  const held = await holdAbsence(
    () => cloud.footprint(accountId, approval.requestedAt),
    (footprint) => footprintProblem(footprint, 0),
    () => backend.missionSettled(approval.missionId),
    approval.answeredAt,
  );
  expect(held.problem, absence).toBeNull();
  return { tagging, held };
}

test.describe(NEGATIVE.credentials, () => {
  test(NEGATIVE.invalidKey.test, async ({
    user,
    credentialsPage,
    provisioning,
    provisioningFlow,
    backend,
    cloud,
    run,
    evidence,
  }) => {
    const accountId = await user.account();
    const api = await user.api();

    await test.step(NEGATIVE.invalidKey.register, async () => {
      const key = plausibleInvalidVultrKey();
      evidence.addSecret(key);
      const registered = await api.registerProviderCredential(key);
      expect(registered.ok, `${registered.call} answered ${registered.status}`).toBe(true);
      await credentialsPage.goto();
      await expect(credentialsPage.rowsOfScope('account')).toHaveAttribute('data-active', 'true');
      await expect(credentialsPage.rowsOfScope('account')).toContainText(key.slice(-4));
      await expect(credentialsPage.page.getByText(key), 'the key is never rendered back').toHaveCount(0);
    });

    const approval = await test.step(NEGATIVE.invalidKey.approve, async () => {
      const approval = await provisioningFlow.approvePlanFor(PROMPTS.discordBot);
      expect(approval.accepted, `approve answered ${approval.status} ${approval.errorCode ?? ''}`).toBe(true);
      return approval;
    });

    await test.step(NEGATIVE.invalidKey.failsClosed, async () => {
      const settled = await pollFor(() => backend.settledMission(approval.missionId), 'the mission settles', config.PROVISION_TIMEOUT_MS);
      expect(settled, 'mission outcome').toEqual({ status: MISSION_FAILED, error_code: ERROR_CODES.credentialsInvalid });
      await expect(provisioning.toast(UI_TEXTS.credentialsToast)).toBeVisible();
      expect((await backend.nodeInstances(accountId)).map((n) => n.status), 'the NodeInstance is in error').toEqual(['error']);
      expect(await backend.usageRecords(accountId), 'no usage record (nothing half-billed)').toEqual([]);
      // The refused create call proves the tagging itself, where the emulator journal keeps it.
      const tagging = await test.step(NEGATIVE.taggingProof, async () => {
        const proof = await cloud.taggingProof(await backend.cloudNodeInstancesOfRun(run.id), { accountId, since: approval.requestedAt });
        expect(proof.problem, `tagging, proven through ${proof.how}`).toBeNull();
        return proof;
      });
      const held = await holdAbsence(
        () => cloud.footprint(accountId, approval.requestedAt, { acceptedOnly: true }),
        (footprint) => footprintProblem(footprint, 0),
        () => backend.missionSettled(approval.missionId),
      );
      expect(held.problem, 'no Vultr instance and no accepted create call for the account').toBeNull();
      const [credential] = await backend.accountCredentials(accountId);
      expect(credential?.consecutive_failures, 'the rejected credential counts its failure').toBeGreaterThanOrEqual(1);
      await evidence.attach('fail-closed evidence', {
        mission: settled,
        nodeInstances: await backend.nodeInstances(accountId),
        credential,
        tagging,
        footprint: held.last,
      });
    });
  });

  test(
    NEGATIVE.poolDisabled.test,
    { tag: '@exclusive', lock: '-exclusive-' },
    async ({ user, platformPool, provisioning, provisioningFlow, backend, cloud, run, evidence }) => {
      const accountId = await user.account();

      await test.step(NEGATIVE.poolDisabled.disable, async () => {
        expect(await platformPool.disable(), 'platform-pool credentials switched off').toBeGreaterThan(0);
      });

      const approval = await test.step(NEGATIVE.poolDisabled.approve, async () => {
        const approval = await provisioningFlow.approvePlanFor(PROMPTS.discordBot);
        expect({ status: approval.status, code: approval.errorCode }).toEqual({ status: 422, code: ERROR_CODES.credentialsMissing });
        return approval;
      });

      await test.step(NEGATIVE.poolDisabled.failsClosed, async () => {
        await expect(provisioning.toast(UI_TEXTS.credentialsToast)).toBeVisible();
        expect(await backend.usageRecords(accountId), 'no usage record').toEqual([]);
        expect(await backend.nodeInstances(accountId), 'no NodeInstance').toEqual([]);
        const { tagging, held } = await nothingCreatedSince(approval, accountId, { backend, cloud, run }, 'no Vultr instance and no create call for the account');
        await evidence.attach('fail-closed evidence', { mission: await backend.newMission(accountId), tagging, footprint: held.last });
      });
    },
  );
});

/*
 * RUNBOOK pre-flight 3: "For account-isolation testing, register a separate cred under the test
 * account." CONTRACT 6.7 (b) says the account's own key wins over the platform pool; the VM must
 * then be in that key's Vultr account, where the pool's key cannot see it. Its rollback sweeps
 * both accounts (helpers/run/rollback.ts).
 */
test.describe(() => {
  test.skip(
    !config.VULTR_ISOLATION_API_KEY,
    "VULTR_ISOLATION_API_KEY is empty: set it to a key of another Vultr account than VULTR_API_KEY's to run the account-isolation test (RUNBOOK pre-flight 3)",
  );

  test(NEGATIVE.accountKey.test, async ({ user, credentialsPage, provisioningFlow, backend, cloud, evidence }) => {
    const accountId = await user.account();
    const pool = cloud.under('VULTR_API_KEY');
    const own = cloud.under('VULTR_ISOLATION_API_KEY');

    const accounts = await test.step(NEGATIVE.accountKey.twoAccounts, async () => {
      const accounts = { pool: await pool.profile(), own: await own.profile() };
      expect(accounts.own.email, `VULTR_ISOLATION_API_KEY opens ${accounts.own.email}, VULTR_API_KEY ${accounts.pool.email}: they must be two Vultr accounts`).not.toBe(
        accounts.pool.email,
      );
      return accounts;
    });

    await test.step(NEGATIVE.accountKey.register, async () => {
      const key = config.VULTR_ISOLATION_API_KEY;
      const registered = await (await user.api()).registerProviderCredential(key);
      expect(registered.ok, `${registered.call} answered ${registered.status}`).toBe(true);
      await credentialsPage.goto();
      await expect(credentialsPage.rowsOfScope('account')).toHaveAttribute('data-active', 'true');
      await expect(credentialsPage.rowsOfScope('account')).toContainText(key.slice(-4));
      expect((await credentialsPage.shownText()).includes(key), 'the key is never rendered back').toBe(false);
    });

    const approval = await test.step(NEGATIVE.accountKey.approve, async () => {
      const approval = await provisioningFlow.approvePlanFor(PROMPTS.discordBot);
      expect(approval.accepted, `approve answered ${approval.status} ${approval.errorCode ?? ''}`).toBe(true);
      return approval;
    });

    const provisioned = await test.step(NEGATIVE.accountKey.running, async () => {
      const nodes = await pollFor(() => backend.runningNodeInstances(accountId), 'the NodeInstance is running', config.PROVISION_TIMEOUT_MS);
      expect(nodes, 'one NodeInstance').toHaveLength(1);
      const vultrId = nodes[0]?.provider_instance_id;
      if (!vultrId) throw new Error('the running NodeInstance has no provider_instance_id (the Vultr id)');
      return { node: nodes[0], vultrId };
    });

    const instance = await test.step(NEGATIVE.accountKey.inOwnAccount, async () => {
      const instance = await own.instance(provisioned.vultrId);
      if (!instance) {
        throw new Error(
          `GET /instances/${provisioned.vultrId} with VULTR_ISOLATION_API_KEY answered 404: the account's VM is not in its own key's Vultr account (${accounts.own.email}); the stack made it with another key`,
        );
      }
      const tagged = await own.tagged(accountId);
      expect(tagged.map((i) => i.id), `the account-tag listing with VULTR_ISOLATION_API_KEY (${accounts.own.email})`).toEqual([provisioned.vultrId]);
      return instance;
    });

    await test.step(NEGATIVE.accountKey.notInPool, async () => {
      const sight = await test.step(NEGATIVE.accountKey.poolCanSee, async () => {
        const proof = await pool.sightProof(instance, accountId, accounts.own);
        expect(proof.problem, `presence, proven through: ${proof.how}`).toBeNull();
        return proof;
      });
      const inPool = { get: await pool.instance(provisioned.vultrId), tagged: await pool.tagged(accountId) };
      expect(inPool.get, `GET /instances/${provisioned.vultrId} with VULTR_API_KEY (${accounts.pool.email})`).toBeNull();
      expect(inPool.tagged.map((i) => i.id), `the platform pool's listing of the account's tag`).toEqual([]);
      await evidence.attach('account isolation evidence', {
        vultrAccounts: accounts,
        missionId: approval.missionId,
        nodeInstance: provisioned.node,
        instanceInOwnAccount: instance,
        poolSight: sight,
        inPoolAccount: inPool,
        credentials: await backend.accountCredentials(accountId),
      });
    });
  });
});

test(NEGATIVE.quotaGuard.test, async ({ user, provisioning, provisioningFlow, backend, cloud, run, evidence }) => {
  const accountId = await user.account();

  await test.step(NEGATIVE.quotaGuard.giveInstance, async () => {
    await backend.giveActiveInstance(accountId);
  });

  const approval = await test.step(NEGATIVE.quotaGuard.approve, async () => {
    const approval = await provisioningFlow.approvePlanFor(PROMPTS.discordBot);
    const refusal = await pollFor(() => backend.paywallRefusal(approval), 'the paywall refuses the approve', config.PROVISION_TIMEOUT_MS);
    expect(refusal, refusal.seen).toMatchObject({ refused: true, code: ERROR_CODES.upgradeRequired });
    return { ...approval, refusal };
  });

  await test.step(NEGATIVE.quotaGuard.upgradeCard, async () => {
    await expect(provisioning.upgradeCard).toBeVisible();
    await expect(provisioning.upgradeCard).toHaveAttribute('data-reason', config.UPGRADE_REASON_INSTANCES);
    await expect(provisioning.upgradeCta).toHaveAttribute('href', CheckoutPage.urlFor(config.UPGRADE_PLAN));
    await expect(provisioning.upgradeCta, 'the CTA a person reads').toHaveText(provisioning.upgradeCtaText);
    await expect(provisioning.executionPillOf(approval.missionId), 'no execution pill for the refused mission').toHaveCount(0);
    const { tagging, held } = await nothingCreatedSince(
      approval,
      accountId,
      { backend, cloud, run },
      'no create call and no instance at Vultr for the account since the approve',
    );
    expect((await backend.nodeInstances(accountId)).length, 'no NodeInstance besides the existing one').toBe(1);
    await evidence.attach('quota evidence', { approval, tagging, footprint: held.last, heldForMs: held.heldForMs });
  });
});

test(NEGATIVE.stepCollapse.test, async ({ user, provisioning, provisioningFlow, backend, evidence }) => {
  const accountId = await user.account();

  await test.step(NEGATIVE.stepCollapse.openPlan, async () => {
    await provisioningFlow.openPlanFor(PROMPTS.computeDatabaseNetwork);
  });

  await test.step(NEGATIVE.stepCollapse.review, async () => {
    await expect(provisioning.plan.stepItems).toHaveCount(3);
    await expect(provisioning.plan.stepCount).toHaveText('3');
    expect(new Set(await provisioning.plan.stepSkills()).size, 'distinct skills').toBe(3);
    await expect(provisioning.plan.collapseNote).toHaveCount(0);
  });

  await test.step(NEGATIVE.stepCollapse.api, async () => {
    const { id } = await backend.latestMission(accountId);
    const { plan } = unwrap(await (await user.api()).mission(id));
    expect(plan?.dag.step_count, 'plan.dag.step_count').toBe(3);
    expect(new Set(plan?.dag.nodes.map((n) => n.skill)).size, 'distinct skills in plan.dag.nodes').toBe(3);
    expect(plan?.step_collapse ?? null, 'plan.step_collapse').toBeNull();
    await evidence.attach('plan', plan);
  });
});

test(NEGATIVE.declinedCard.test, async ({
  page,
  user,
  checkoutPage,
  backend,
  payments,
  evidence,
}) => {
  const accountId = await user.account();

  await test.step(NEGATIVE.declinedCard.pay, async () => {
    await checkoutPage.goto(config.CHECKOUT_PLAN);
    await checkoutPage.stripe.pay(TEST_CARDS.declined, user);
  });

  await test.step(NEGATIVE.declinedCard.noSubscription, async () => {
    await expect(checkoutPage.stripe.text(UI_TEXTS.cardDeclined)).toBeVisible();
    await expect(page).toHaveURL(CheckoutPage.urlFor(config.CHECKOUT_PLAN));
    expect(await backend.activeSubscriptionCount(accountId), 'active subscriptions in the DB').toBe(0);
    const atStripe = await payments.subscriptionsOfEmail(user.email);
    expect(atStripe.filter((s) => s.status === 'active'), 'active subscriptions at Stripe').toEqual([]);
    await evidence.attach('subscriptions', { db: await backend.subscriptions(accountId), stripe: atStripe });
  });
});

test(NEGATIVE.duplicateEmail.test, async ({
  identities,
  registerPage,
  anonymousApi,
}) => {
  const existing = await identities.register('existing');

  await test.step(NEGATIVE.duplicateEmail.ui, async () => {
    await registerPage.goto();
    await registerPage.signUp({ ...existing.credentials, password: `${existing.password}x` });
    await expect(registerPage.error).toContainText(UI_TEXTS.duplicateEmail);
  });

  await test.step(NEGATIVE.duplicateEmail.api, async () => {
    const again = await anonymousApi.register({ email: existing.email, password: `${existing.password}x`, name: existing.name });
    expect({ status: again.status, code: again.ok ? null : again.error.code }).toEqual({ status: 409, code: ERROR_CODES.emailTaken });
  });
});

test(NEGATIVE.forgedWebhook.test, async ({ identities, anonymousApi, payments, backend }) => {
  const forger = await identities.register('forger');
  const accountId = await forger.account();
  const { session_id } = unwrap(await (await forger.api()).createCheckoutSession(config.CHECKOUT_PLAN));

  const forged = payments.forgedCheckoutCompleted({ id: session_id, accountId });
  const answer = await anonymousApi.deliverStripeEvent(forged.payload, forged.signature);
  expect(answer.status, 'the webhook answers a bad signature with 400').toBe(400);
  expect(await backend.activeSubscriptionCount(accountId), 'no subscription was activated').toBe(0);
});

test(NEGATIVE.isolation.test, async ({ identities }) => {
  const owner = await identities.register('owner');
  const intruder = await identities.register('intruder');
  const missionId = await (await owner.api()).startMission(PROMPTS.discordBot);

  expect((await (await owner.api()).mission(missionId)).status, 'the owner reads its mission').toBe(200);
  expect((await (await intruder.api()).mission(missionId)).status, "another account gets 404 for it").toBe(404);
});
