import type { Locator, Page } from '@playwright/test';
import { StripeCheckoutFrame } from './stripe-checkout-frame';

/** `/checkout?plan=<slug>`: the app's page holding Stripe's embedded Checkout. */
export class CheckoutPage {
  static readonly ROUTE = '/checkout';

  readonly stripe: StripeCheckoutFrame;

  constructor(readonly page: Page) {
    this.stripe = new StripeCheckoutFrame(this.page.locator('iframe[name="embedded-checkout"]').first().contentFrame());
  }

  static pathFor(plan: string): string {
    return `${CheckoutPage.ROUTE}?plan=${encodeURIComponent(plan)}`;
  }

  /** Matches the page's URL (or a link to it) for a plan, wherever the query sits. */
  static urlFor(plan: string): RegExp {
    return new RegExp(`${CheckoutPage.ROUTE}\\?(.*&)?plan=${plan.replace(/[^a-z0-9_]/gi, '')}(&|$)`);
  }

  get container(): Locator {
    return this.page.getByTestId('stripe-embedded-checkout');
  }

  get iframe(): Locator {
    return this.page.locator('iframe[name="embedded-checkout"]');
  }

  async goto(plan: string): Promise<void> {
    await this.page.goto(CheckoutPage.pathFor(plan));
    await this.container.waitFor();
  }
}
