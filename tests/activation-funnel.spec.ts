/**
 * RUNBOOK Procedure — happy path, steps 1-6, for one fresh identity through the real UI.
 * The identity's instance and usage record are left running for the verification teardown.
 */
import { backendPoll, config, expect, holdAbsence, pollFor, test } from '../fixtures';
import { unwrap } from '../helpers/clients/api';
import { spendDisagreements, usageRecordProblems } from '../helpers/metering';
import { costCapText, costLinesProblem } from '../helpers/money';
import { footprintProblem } from '../helpers/system/cloud';
import {
  DISCORD_STEP_COLLAPSE,
  DISCORD_BOT,
  ERROR_CODES,
  PROMPTS,
  TEST_CARDS,
  UI_TEXTS,
  USAGE_EVENT_RUNNING,
  budgetText,
  costLineName,
  dailyShare,
  discordBriefProblems,
  formatMonthlyUsd,
  instanceLimitText,
  isCompleteBrief,
  riskBadgeText,
  settledReads,
  stepProgressionProblems,
  stepsDoneText,
} from '../helpers/runbook';
import { CheckoutPage } from './pages/checkout-page';
import { FUNNEL, FUNNEL_CHECKS } from './steps';

const monthlyCost = formatMonthlyUsd(config.EXPECTED_MONTHLY_COST_USD);

test(FUNNEL.test, async ({
  page,
  funnelUser,
  registerPage,
  checkoutPage,
  provisioning,
  billingPage,
  backend,
  cloud,
  payments,
  evidence,
}) => {
  const { account, api } = await test.step(FUNNEL.signUp(config.PROVISIONING_ROUTE), async () => {
    const stepStarted = new Date();
    await registerPage.goto();
    await registerPage.signUp(funnelUser.credentials);
    await expect(page).toHaveURL(CheckoutPage.urlFor(config.CHECKOUT_PLAN));
    await checkoutPage.stripe.pay(TEST_CARDS.success, funnelUser);
    await expect(provisioning.root).toBeVisible({ timeout: 30_000 });
    await expect(page).toHaveURL((url) => url.pathname === config.PROVISIONING_ROUTE);

    const account = await backend.accountOf(funnelUser.email);
    await expect
      .poll(() => backend.bootstrapCounts(account.id), backendPoll('Account.after_create_commit bootstrap: providers/regions/types/templates'))
      .toEqual(config.EXPECTED_BOOTSTRAP_COUNTS);
    await expect.poll(() => backend.subscriptionStatus(account.id), backendPoll('subscription status in the DB')).toBe('active');
    const customerId = await pollFor(() => backend.stripeCustomerId(account.id), 'the account is linked to its Stripe customer');
    const stripeSubscriptions = await payments.subscriptionsOfCustomer(customerId);
    expect(stripeSubscriptions.map((s) => s.status), 'the Stripe customer has one active subscription').toEqual(['active']);
    // The return page activates the subscription on its own; the signed webhook must arrive too.
    await expect
      .poll(
        async () => (await payments.undeliveredEvents(stepStarted, customerId)).map((e) => `${e.type} ${e.id}`),
        backendPoll("Stripe delivered the customer's events to the stack's webhook (Stripe's delivery_success=false lists none)"),
      )
      .toEqual([]);
    // None undelivered proves nothing when Stripe sends to another URL: the delivery must be to this target.
    const webhook = await test.step(FUNNEL_CHECKS.webhookDelivered, async () => {
      const registered = await payments.webhookEndpointFor(config.STRIPE_WEBHOOK_URL);
      expect(registered.problem, `a Stripe webhook endpoint with the target's URL ${config.STRIPE_WEBHOOK_URL}, enabled for the customer's events`).toBeNull();
      const delivered = await pollFor(
        () => payments.deliveredCustomerEvents(stepStarted, customerId),
        "Stripe lists the customer's checkout or subscription event as delivered (delivery_success=true)",
      );
      return { endpoints: registered.endpoints, delivered };
    });

    await evidence.attach('step 1: account, bootstrap counts, subscription', {
      account: await backend.account(account.id),
      bootstrap: await backend.bootstrapCounts(account.id),
      subscriptions: await backend.subscriptions(account.id),
      stripeSubscriptions,
      stripeWebhookEndpoints: webhook.endpoints,
      stripeDeliveredEvents: webhook.delivered,
      stripeWebhookDeliveries: await payments.webhookDeliveries(),
    });
    return { account, api: await funnelUser.api() };
  });

  const mission = await test.step(FUNNEL.brief, async () => {
    const openPlan = await provisioning.send(PROMPTS.discordBot);
    const { id } = await pollFor(() => backend.newMission(account.id), 'a mission for the brief');
    const brief = await test.step(FUNNEL_CHECKS.briefSettled, () =>
      pollFor(settledReads(async () => unwrap(await api.mission(id)).brief ?? null, isCompleteBrief), 'the brief, complete and settled', config.AI_REPLY_TIMEOUT_MS),
    );
    await test.step(FUNNEL_CHECKS.briefAboutDiscordBot, () => {
      expect(discordBriefProblems(brief, config), 'brief captured by the AI (API)').toEqual([]);
    });

    await expect(provisioning.briefField('budget_cap_usd_monthly')).toHaveAttribute('data-value', /\d/);
    expect(discordBriefProblems(await provisioning.briefValues(), config), 'Brief Card values').toEqual([]);
    // What a person reads in each row, not only the data attribute beside it.
    await expect(provisioning.briefField('budget_cap_usd_monthly'), 'the budget row a person reads').toContainText(budgetText(brief.budget_cap_usd_monthly));
    await expect(provisioning.briefField('regions'), 'the regions row a person reads').toContainText(config.EXPECTED_REGION);
    await expect(provisioning.briefField('intent')).toContainText(DISCORD_BOT);
    await expect(provisioning.briefField('use_case')).toContainText(DISCORD_BOT);
    await expect(provisioning.briefHeading).toHaveText(provisioning.briefFormat.heading);
    await expect(provisioning.briefField('scale')).toContainText(provisioning.briefFormat.scaleText(brief?.scale ?? {}));

    await evidence.attach('step 2: mission brief', brief);
    return { id, openPlan, budgetCap: brief?.budget_cap_usd_monthly ?? Number.NaN };
  });

  await test.step(FUNNEL.plan(monthlyCost), async () => {
    await provisioning.openPlan(mission.openPlan);
    const plan = provisioning.plan;
    await expect(plan.stepItems).toHaveCount(1);
    await expect(plan.stepCount).toHaveText('1');
    expect(await plan.stepSkills()).toEqual([config.EXPECTED_STEP_SKILL]);
    await expect(plan.collapseNote).toHaveText(UI_TEXTS.collapseNote);
    await expect(plan.costTotalMonthly).toHaveText(monthlyCost);
    await expect(plan.costLines.filter({ hasText: costLineName(config) })).toHaveCount(1);
    await expect(plan.risk).toHaveAttribute('data-severity', config.EXPECTED_RISK_SEVERITY);

    const { plan: planFromApi } = unwrap(await api.mission(mission.id));
    expect(planFromApi?.dag.step_count, 'plan.dag.step_count').toBe(1);
    expect(planFromApi?.step_collapse, 'plan.step_collapse').toMatchObject(DISCORD_STEP_COLLAPSE);
    expect(planFromApi?.cost_estimate.monthly_usd, 'plan.cost_estimate.monthly_usd').toBeWithin(config.EXPECTED_MONTHLY_COST_USD, 0.005);

    const shown = await test.step(FUNNEL_CHECKS.riskBadge, async () => {
      const score = planFromApi?.risk.score;
      expect(score, 'plan.risk.score from the API').toEqual(expect.any(Number));
      await expect(plan.risk).toHaveText(riskBadgeText(config.EXPECTED_RISK_SEVERITY, score ?? Number.NaN));
      return { risk: await plan.risk.innerText() };
    });
    const costs = await test.step(FUNNEL_CHECKS.costLinesAddUp, async () => {
      const lines = await plan.costLineTexts();
      const total = await plan.costTotalMonthly.innerText();
      expect(costLinesProblem(lines, total), 'the cost lines as printed against the printed total').toBeNull();
      return { lines, total };
    });
    await evidence.attach('step 3: mission plan', { api: planFromApi, shown: { ...shown, costs } });
  });

  const provisioned = await test.step(FUNNEL.execute, async () => {
    const statuses = await provisioning.recordStepStatuses();
    const approval = await provisioning.approve();
    expect(approval.accepted, `approve answered ${approval.status} ${approval.errorCode ?? ''}`).toBe(true);
    await expect(provisioning.executionPillOf(mission.id)).toBeVisible();

    const nodes = await pollFor(() => backend.runningNodeInstances(account.id), 'the NodeInstance is running', config.PROVISION_TIMEOUT_MS);
    const seenRunningAt = new Date();
    // PROVISION_TIMEOUT_MS is how long the suite waits; the runbook's bound is its own, and a slow stack never loosens it.
    const provisionedInMs = await test.step(FUNNEL_CHECKS.provisionBound, () => {
      const elapsed = seenRunningAt.getTime() - approval.requestedAt.getTime();
      const updatedAt = nodes[0]?.updated_at?.toISOString() ?? 'not read';
      expect(
        elapsed,
        `the NodeInstance was seen running ${elapsed} ms after the Approve click (its updated_at: ${updatedAt}); the runbook allows ${config.RUNBOOK_PROVISION_BOUND_MS} ms`,
      ).toBeLessThanOrEqual(config.RUNBOOK_PROVISION_BOUND_MS);
      return elapsed;
    });
    // Pushed over SSE after the worker commits; on a loaded machine that can trail the DB by seconds.
    await expect(provisioning.executionSteps(provisioning.executionPillOf(mission.id))).toHaveAttribute('data-status', 'completed', {
      timeout: config.PROVISION_TIMEOUT_MS,
    });
    expect(stepProgressionProblems(await statuses.sequences(), { running: config.STEP_RUNNING_STATUS }), 'step statuses the page showed').toEqual([]);
    const pillText = await test.step(FUNNEL_CHECKS.pillText, async () => {
      const pill = provisioning.executionPillOf(mission.id);
      const steps = provisioning.executionSteps(pill);
      const total = DISCORD_STEP_COLLAPSE.collapsed_step_count;
      await expect(steps, 'the steps the pill counts').toHaveCount(total);
      await expect(pill, 'the count a person reads on the pill').toContainText(stepsDoneText(total, total));
      return pill.innerText();
    });

    expect(nodes, 'one NodeInstance').toHaveLength(1);
    const [node] = nodes;
    const providerInstanceId = node?.provider_instance_id;
    if (!providerInstanceId) throw new Error('the running NodeInstance has no provider_instance_id (the Vultr id)');
    const instance = await cloud.instance(providerInstanceId);
    expect(instance).toMatchObject({ status: 'active', power_status: 'running', region: config.EXPECTED_VULTR_REGION, plan: config.EXPECTED_INSTANCE_TYPE });

    const usage = await backend.usageRecords(account.id);
    expect(usage.map((u) => ({ event: u.event, status: u.status })), 'usage records').toEqual([USAGE_EVENT_RUNNING]);
    const instanceTypePrice = await test.step(FUNNEL_CHECKS.usageRecord, async () => {
      const price = await backend.instanceTypePrice(account.id, config.EXPECTED_INSTANCE_TYPE);
      const [record] = usage;
      if (!record) throw new Error('no usage record to read');
      const expected = { hourlyPrice: price, instanceType: config.EXPECTED_INSTANCE_TYPE, meteredAfter: approval.requestedAt, now: new Date() };
      expect(usageRecordProblems(record, expected), 'the usage record against the runbook').toEqual([]);
      return price;
    });
    await evidence.attach('step 4: NodeInstance, Vultr instance, usage record, step statuses', {
      approveClickedAt: approval.requestedAt,
      nodeInstanceSeenRunningAt: seenRunningAt,
      provisionedInMs,
      nodeInstance: node,
      vultrInstance: instance,
      usageRecords: usage,
      instanceTypePrice,
      stepStatuses: await statuses.sequences(),
      pillText,
    });
    return { vultrId: providerInstanceId };
  });

  await test.step(FUNNEL.secondInstance, async () => {
    const openPlan = await provisioning.send(PROMPTS.secondInstance);
    const second = await pollFor(() => backend.newMission(account.id, [mission.id]), 'a mission for the second brief');
    await provisioning.openPlan(openPlan);
    const approval = await provisioning.approve();
    const refusal = await pollFor(() => backend.paywallRefusal(approval), 'the paywall refuses the approve', config.PROVISION_TIMEOUT_MS);
    expect(refusal, refusal.seen).toMatchObject({ refused: true, code: ERROR_CODES.upgradeRequired });

    await expect(provisioning.upgradeCard).toBeVisible();
    await expect(provisioning.upgradeCard).toHaveAttribute('data-reason', config.UPGRADE_REASON_INSTANCES);
    await expect(provisioning.paywallCopy).toContainText(UI_TEXTS.freePlan);
    await expect(provisioning.paywallCopy).toContainText(instanceLimitText(config.FREE_INSTANCE_LIMIT));
    await expect(provisioning.upgradeCta).toHaveAttribute('href', CheckoutPage.urlFor(config.UPGRADE_PLAN));
    await expect(provisioning.upgradeCta, 'the CTA a person reads').toHaveText(provisioning.upgradeCtaText);
    // The refused mission's own pill: the page may do what it likes with the first mission's.
    await expect(provisioning.executionPillOf(second.id), 'no execution pill for the refused mission').toHaveCount(0);

    await test.step(FUNNEL_CHECKS.canSeeInstances, async () => {
      expect(await cloud.tagProblem(provisioned.vultrId, account.id), "the funnel's own Vultr instance carries its account tag").toBeNull();
    });
    const held = await test.step(FUNNEL_CHECKS.noSecondInstance, async () => {
      // The NodeInstance count is held too: a row written late is as much a second instance.
      const held = await holdAbsence(
        async () => ({ ...(await cloud.footprint(account.id, approval.requestedAt)), nodeInstances: (await backend.nodeInstances(account.id)).length }),
        (seen) => footprintProblem(seen, 1) ?? (seen.nodeInstances === 1 ? null : `${seen.nodeInstances} NodeInstances for the account, expected 1`),
        () => backend.missionSettled(second.id),
        approval.answeredAt,
      );
      expect(held.problem, 'still one NodeInstance, one instance at Vultr for the account, and no create call since the refused approve').toBeNull();
      return held;
    });
    await evidence.attach('step 5: instances after the refused approve', { missionId: second.id, approval, refusal, footprint: held.last, heldForMs: held.heldForMs });
  });

  await test.step(FUNNEL.spend, async () => {
    await expect
      .poll(() => provisioning.costCapUsd(), backendPoll('Brief Card cost-cap bar (aria-valuenow)'))
      .toBeWithin(config.EXPECTED_MONTHLY_COST_USD, config.SPEND_TOLERANCE_USD);
    const costCap = await provisioning.costCapUsd();
    const costCapBar = await test.step(FUNNEL_CHECKS.costCapBar, async () => {
      const { monthly_run_rate_usd: runRate } = unwrap(await api.spend());
      expect(Number(await provisioning.costCap.getAttribute('aria-valuemax')), "aria-valuemax is the brief's budget cap").toBeWithin(mission.budgetCap, 0.005);
      expect(costCap, 'aria-valuenow is the run-rate /billing/spend answers').toBeWithin(runRate, 0.005);
      await expect(provisioning.costCap).toHaveText(costCapText(runRate, mission.budgetCap));
      return { runRate, text: await provisioning.costCap.innerText() };
    });

    await billingPage.goto();
    await expect
      .poll(() => billingPage.monthlyUsd(), backendPoll('live spend monthly run-rate (data-usd)'))
      .toBeWithin(config.EXPECTED_MONTHLY_COST_USD, config.SPEND_TOLERANCE_USD);
    await expect(billingPage.monthlySpend).toContainText(monthlyCost);
    expect(await billingPage.todayUsd()).toBeWithin(dailyShare(config.EXPECTED_MONTHLY_COST_USD), config.SPEND_TOLERANCE_USD);
    await expect(billingPage.spendSource).toHaveText(UI_TEXTS.spendSource);
    expect(costCap, 'the Brief Card cost bar shows the same run-rate as the tracker').toBeWithin(await billingPage.monthlyUsd(), config.SPEND_TOLERANCE_USD);

    const sources = await test.step(FUNNEL_CHECKS.spendSources, async () => {
      const fromApi = unwrap(await api.spend());
      const page = await billingPage.shownSpend();
      const records = await backend.spendFromUsageRecords(account.id);
      expect(spendDisagreements({ api: fromApi, page, records }), 'the three sources of live spend').toEqual([]);
      return { api: fromApi, page, records };
    });
    await evidence.attach('step 6: spend', { ...sources, costCapUsd: costCap, costCapBar });
  });
});
