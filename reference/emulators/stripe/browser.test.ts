/**
 * Drives the Stripe.js stand-in and the checkout iframe in a real Chromium: a tiny "app" page
 * loads /v3, mounts Embedded Checkout, and the test pays inside the frame like the suite does.
 * Skipped when no Chromium is installed.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from '@playwright/test';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StripeEmulator } from './server';
import { PUBLISHABLE_KEY, startTestEmulator, startWebhookReceiver, stripeClient, waitFor, type WebhookReceiver } from './test-support';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without these Chromium keeps dialing Google services on a machine with no outside network.
const OFFLINE_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'];

function appPage(emulatorUrl: string, options: { publishableKey?: string; legacy?: boolean; never?: boolean } = {}): string {
  const key = JSON.stringify(options.publishableKey ?? PUBLISHABLE_KEY);
  const start = options.legacy
    ? `try { stripe.initEmbeddedCheckout({}); } catch (error) { document.body.dataset.error = error.name + ': ' + error.message; }`
    : `stripe.createEmbeddedCheckoutPage({
         fetchClientSecret: () => fetch('${options.never ? '/session?never=1' : '/session'}', { method: 'POST' }).then((r) => r.json()).then((b) => b.client_secret),
         onComplete: () => { document.body.dataset.complete = 'yes'; },
       }).then((checkout) => checkout.mount('#checkout'))
         .catch((error) => { document.body.dataset.error = error.name + ': ' + error.message; });`;
  return `<!doctype html><html><head><title>app</title><script src="${emulatorUrl}/v3"></script></head>
<body><h1>Checkout</h1><div data-testid="stripe-embedded-checkout" id="checkout"></div>
<script>const stripe = Stripe(${key}); ${start}</script></body></html>`;
}

describe.skipIf(!existsSync(CHROMIUM))('embedded checkout in Chromium', () => {
  let emulator: StripeEmulator;
  let receiver: WebhookReceiver;
  let stripe: Stripe;
  let app: Server;
  let appUrl: string;
  let browser: Browser;
  const sessions: string[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    emulator = await startTestEmulator({ webhookUrl: receiver.url });
    stripe = stripeClient(emulator);
    app = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://app.invalid');
      if (url.pathname === '/session' && req.method === 'POST') {
        stripe.checkout.sessions
          .create({
            ui_mode: 'embedded_page',
            mode: 'subscription',
            line_items: [{ price: 'price_free_monthly', quantity: 1 }],
            customer_email: 'browser@example.com',
            ...(url.searchParams.has('never')
              ? { redirect_on_completion: 'never' as const }
              : { return_url: `${appUrl}/checkout/return?session_id={CHECKOUT_SESSION_ID}` }),
          })
          .then((session) => {
            sessions.push(session.id);
            res.writeHead(200, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ client_secret: session.client_secret }));
          })
          .catch((error: Error) => {
            res.writeHead(500);
            res.end(error.message);
          });
        return;
      }
      const pages: Record<string, string> = {
        '/checkout': appPage(emulator.url),
        '/checkout-bad-key': appPage(emulator.url, { publishableKey: 'pk_test_not_configured_1234' }),
        '/checkout-legacy': appPage(emulator.url, { legacy: true }),
        '/checkout-never': appPage(emulator.url, { never: true }),
        '/checkout/return': '<!doctype html><title>return</title><p id="returned">Returned</p>',
      };
      const html = pages[url.pathname];
      res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
      res.end(html ?? 'not found');
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: OFFLINE_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => app?.close(() => resolve()));
    await emulator?.close();
    await receiver?.close();
  });

  async function fillCard(page: Page, cardNumber: string, untickLink = true): Promise<void> {
    const frame = page.frameLocator('iframe[name="embedded-checkout"]');
    await expect.poll(() => frame.locator('#email').inputValue(), { timeout: 10_000 }).toBe('browser@example.com');
    await frame.locator('#cardNumber').fill(cardNumber);
    await frame.locator('#cardExpiry').fill('1234');
    await frame.locator('#cardCvc').fill('123');
    await frame.locator('#billingName').fill('Browser Buyer');
    await frame.locator('#billingPostalCode').fill('10001');
    if (untickLink) await frame.locator('#enableStripePass').uncheck();
    await frame.locator('[data-testid="hosted-payment-submit-button"]').click();
  }

  it('pays with 4242 inside the iframe and sends the top window to the return URL', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/checkout`);
    const iframe = page.locator('[data-testid="stripe-embedded-checkout"] iframe[name="embedded-checkout"]');
    await expect.poll(() => iframe.getAttribute('title')).toBe('Embedded checkout');
    const frame = page.frameLocator('iframe[name="embedded-checkout"]');
    await expect.poll(() => frame.locator('[data-testid="hosted-payment-submit-button"]').textContent(), { timeout: 10_000 }).toBe(
      'Subscribe',
    );
    expect(await frame.locator('#cardNumber').getAttribute('placeholder')).toBe('1234 1234 1234 1234');
    expect(await frame.locator('#enableStripePass').isChecked()).toBe(true);
    await fillCard(page, '4242424242424242');
    await page.waitForURL(/\/checkout\/return\?session_id=cs_test_/, { timeout: 10_000 });
    const sessionId = new URL(page.url()).searchParams.get('session_id') ?? '';
    expect(sessions).toContain(sessionId);
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['subscription'] });
    expect(session.status).toBe('complete');
    expect((session.subscription as Stripe.Subscription).status).toBe('active');
    await waitFor(() => (receiver.received.some((hook) => hook.body.includes(sessionId)) ? true : undefined));
    await page.close();
  }, 30_000);

  it('shows "Your card was declined." in the frame and stays on the page', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/checkout`);
    await fillCard(page, '4000 0000 0000 0002');
    const frame = page.frameLocator('iframe[name="embedded-checkout"]');
    await expect.poll(() => frame.getByRole('alert').filter({ hasText: 'Your card was declined.' }).count(), { timeout: 10_000 }).toBe(1);
    expect(page.url()).toBe(`${appUrl}/checkout`);
    expect(await frame.locator('[data-testid="hosted-payment-submit-button"]').isEnabled()).toBe(true);
    const sessionId = sessions[sessions.length - 1] ?? '';
    expect((await stripe.checkout.sessions.retrieve(sessionId)).status).toBe('open');
    await page.close();
  }, 30_000);

  it('needs a phone number while "Save my information" stays ticked, and formats as you type', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/checkout`);
    await fillCard(page, '4242424242424242', false);
    const frame = page.frameLocator('iframe[name="embedded-checkout"]');
    await expect.poll(() => frame.locator('#phoneNumber-error').textContent()).toBe('Your phone number is incomplete.');
    expect(await frame.locator('#cardNumber').inputValue()).toBe('4242 4242 4242 4242');
    expect(await frame.locator('#cardExpiry').inputValue()).toBe('12 / 34');
    expect(page.url()).toBe(`${appUrl}/checkout`);
    await page.close();
  }, 30_000);

  it('calls onComplete instead of redirecting when redirect_on_completion is never', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/checkout-never`);
    await fillCard(page, '4242424242424242');
    await expect.poll(() => page.locator('body').getAttribute('data-complete'), { timeout: 10_000 }).toBe('yes');
    expect(page.url()).toBe(`${appUrl}/checkout-never`);
    const frame = page.frameLocator('iframe[name="embedded-checkout"]');
    await expect.poll(() => frame.locator('#complete-title').textContent()).toBe('Thanks for subscribing');
    await page.close();
  }, 30_000);

  it('rejects an unknown publishable key and the renamed initEmbeddedCheckout', async () => {
    const page = await browser.newPage();
    await page.goto(`${appUrl}/checkout-bad-key`);
    await expect.poll(() => page.locator('body').getAttribute('data-error')).toMatch(/^IntegrationError: Invalid API Key provided: pk_test_\*+1234$/);
    await page.goto(`${appUrl}/checkout-legacy`);
    await expect.poll(() => page.locator('body').getAttribute('data-error')).toMatch(/^IntegrationError: initEmbeddedCheckout\(\) was renamed/);
    await page.close();
  }, 30_000);
});
