/**
 * Walks the M1 funnel through the real UI of a running stack and saves a screenshot of each
 * screen to docs/screens/<nn>-<name>.png:
 *
 *   npx tsx reference/web/screenshots.ts          (BASE_URL defaults to http://127.0.0.1:3100)
 *
 * It signs up a fresh identity, so each run leaves one more account (and one running instance)
 * in the stack, like a manual walk-through would. Console errors and failed requests other than
 * the expected 402 paywall answer are listed at the end and make the exit code non-zero.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Frame, type Page, type Request } from '@playwright/test';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:3100').replace(/\/+$/, '');
const OUT_DIR = fileURLToPath(new URL('../../docs/screens/', import.meta.url));
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
// The reference's own Chromium flags and prompts, by design: the reference must not import the
// suite (it is the suite's target, not part of it), so these are its own values, not the suite's.
// The prompts are the ones its brief-capture rules are tested with (reference/rules/brief-capture.test.ts).
const OFFLINE_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-gpu',
];
const PROVISION_TIMEOUT_MS = Number(process.env.PROVISION_TIMEOUT_MS || 90_000) + 30_000;

const DISCORD_PROMPT =
  "I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.";
const SECOND_PROMPT = 'Spin up another bot host alongside the first one.';

let shot = 0;

async function capture(page: Page, name: string): Promise<void> {
  shot += 1;
  const file = `${OUT_DIR}${String(shot).padStart(2, '0')}-${name}.png`;
  // Filling the checkout iframe scrolls the page; start each picture from the top. The pause lets
  // CSS transitions (progress bar, switches) settle so the picture shows the final state.
  await page.evaluate(() => {
    window.scrollTo(0, 0);
    return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 350)));
  });
  await page.screenshot({ path: file, fullPage: true });
  console.log(`saved ${file}`);
}

/** The 402 of the paywall step is the contract's answer (CONTRACT 4), not a failure. */
function expectedFailure(status: number, url: string): boolean {
  return status === 402 && /\/api\/v1\/ai\/missions\/[^/]+\/approve$/.test(new URL(url).pathname);
}

async function checkoutFrame(page: Page): Promise<Frame> {
  const handle = await page.getByTestId('stripe-embedded-checkout').locator('iframe[name="embedded-checkout"]').elementHandle({ timeout: 30_000 });
  const frame = await handle?.contentFrame();
  if (!frame) throw new Error('The embedded checkout iframe has no content frame.');
  await frame.locator('#cardNumber').waitFor({ state: 'visible', timeout: 30_000 });
  return frame;
}

async function sendPrompt(page: Page, text: string): Promise<void> {
  const before = await page.getByTestId('msg-ai').count();
  await page.getByTestId('chat-input').fill(text);
  await page.getByTestId('chat-input').press('Enter');
  await page.getByTestId('msg-ai').nth(before).waitFor({ state: 'visible', timeout: 30_000 });
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  const browser = await chromium.launch({
    headless: true,
    executablePath: existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined,
    args: OFFLINE_ARGS,
  });
  const problems: string[] = [];

  try {
    const context = await browser.newContext({ baseURL: BASE_URL, viewport: { width: 1360, height: 860 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const where = message.location().url;
      if (/status of 402/.test(message.text()) && where && expectedFailure(402, where)) return;
      problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request: Request) => {
      // Navigating away aborts in-flight requests (e.g. the SSE stream); that is not a failure.
      if (request.failure()?.errorText === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText})`);
    });
    page.on('response', (response) => {
      if (response.status() >= 400 && !expectedFailure(response.status(), response.url())) {
        problems.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`);
      }
    });

    const email = `screens+${Date.now()}@example.com`;

    // Sign up.
    await page.goto('/auth/register');
    await page.getByTestId('register-email-input').fill(email);
    await capture(page, 'register-email');
    await page.getByTestId('register-next-btn').click();
    await page.getByTestId('register-password-input').fill('correct-horse-battery');
    await capture(page, 'register-password');
    await page.getByTestId('register-next-btn').click();
    await page.getByTestId('register-name-input').fill('Screenshot Runner');
    await page.getByTestId('register-account-name-input').fill('Screenshot Co');
    await capture(page, 'register-name');
    await page.getByTestId('register-submit-btn').click();

    // Embedded checkout for the free plan.
    await page.waitForURL(/\/checkout\?plan=free/);
    const frame = await checkoutFrame(page);
    await capture(page, 'checkout');
    await frame.locator('#email').fill(email);
    await frame.locator('#cardNumber').fill('4242 4242 4242 4242');
    await frame.locator('#cardExpiry').fill('12 / 34');
    await frame.locator('#cardCvc').fill('123');
    await frame.locator('#billingName').fill('Screenshot Runner');
    await frame.locator('#billingPostalCode').fill('10001');
    const stripePass = frame.locator('#enableStripePass');
    if ((await stripePass.count()) > 0 && (await stripePass.isChecked())) await stripePass.uncheck();
    await capture(page, 'checkout-filled');
    await frame.locator('[data-testid="hosted-payment-submit-button"]').click();
    await page.waitForURL(/\/new$/, { timeout: 60_000 });

    // Provisioning chat: first brief, plan review, approve, watch it run.
    await page.getByTestId('provisioning-page').waitFor();
    await page.getByTestId('chat-input').waitFor({ state: 'visible' });
    await capture(page, 'new-empty');
    await sendPrompt(page, DISCORD_PROMPT);
    await page.getByTestId('brief-field-budget_cap_usd_monthly').waitFor();
    await page.getByTestId('brief-cost-cap').waitFor();
    await capture(page, 'brief-captured');

    await page.getByTestId('open-plan-button').last().click();
    await page.getByTestId('cost-total-monthly').waitFor();
    await capture(page, 'plan-review');
    await page.getByTestId('provisioning-approve-btn').click();
    const pill = page.getByTestId('execution-pill');
    await pill.waitFor();
    await capture(page, 'provisioning');
    await page
      .locator('[data-testid="execution-pill"]:is([data-status="completed"], [data-status="failed"])')
      .waitFor({ timeout: PROVISION_TIMEOUT_MS });
    if ((await pill.getAttribute('data-status')) === 'failed') throw new Error('Provisioning failed; see the toast on the page.');
    await page.locator('[data-testid="brief-cost-cap"]:not([aria-valuenow="0.00"])').waitFor({ timeout: 15_000 });
    await capture(page, 'provisioned');

    // Second instance on the Free plan: the paywall.
    await sendPrompt(page, SECOND_PROMPT);
    await page.getByTestId('open-plan-button').last().click();
    await page.getByTestId('cost-total-monthly').waitFor();
    await capture(page, 'second-plan-review');
    await page.getByTestId('provisioning-approve-btn').click();
    await page.getByTestId('upgrade-required-card').waitFor();
    await capture(page, 'paywall');

    // Settings.
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByTestId('live-spend-monthly').waitFor();
    await capture(page, 'billing');
    await page.getByRole('link', { name: 'Cloud credentials' }).click();
    await page.getByTestId('credential-row').first().waitFor();
    await capture(page, 'cloud-credentials');

    await context.close();
  } finally {
    await browser.close();
  }

  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s) during the walk-through:`);
    for (const problem of problems) console.error(`  - ${problem}`);
    process.exitCode = 1;
  } else {
    console.log('\nNo console errors or failed requests.');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack || error.message : error);
  process.exitCode = 1;
});
