import { expect, type FrameLocator, type Locator } from '@playwright/test';
import type { TestCard } from '../../helpers/runbook';

/**
 * Stripe's embedded Checkout iframe (Stripe's DOM, which the emulator reproduces). Optional parts
 * vary by region and account settings: the e-mail may be prefilled, the postal code and the Link
 * "save my info" checkbox may be absent, so each is handled only when shown.
 */
export class StripeCheckoutFrame {
  /** Stripe mounts the form asynchronously inside its iframe; allow for a slow first paint. */
  static readonly MOUNT_TIMEOUT_MS = 30_000;

  constructor(readonly frame: FrameLocator) {}

  get emailInput(): Locator {
    return this.frame.locator('#email');
  }

  get cardNumberInput(): Locator {
    return this.frame.locator('#cardNumber');
  }

  get cardExpiryInput(): Locator {
    return this.frame.locator('#cardExpiry');
  }

  get cardCvcInput(): Locator {
    return this.frame.locator('#cardCvc');
  }

  get billingNameInput(): Locator {
    return this.frame.locator('#billingName');
  }

  get postalCodeInput(): Locator {
    return this.frame.locator('#billingPostalCode');
  }

  get saveInfoCheckbox(): Locator {
    return this.frame.locator('#enableStripePass');
  }

  get submitButton(): Locator {
    return this.frame.getByTestId('hosted-payment-submit-button');
  }

  text(text: string): Locator {
    return this.frame.getByText(text);
  }

  async pay(card: TestCard, payer: { email: string; name: string }): Promise<void> {
    await this.cardNumberInput.waitFor({ state: 'visible', timeout: StripeCheckoutFrame.MOUNT_TIMEOUT_MS });
    if ((await this.emailInput.isVisible()) && (await this.emailInput.isEditable()) && (await this.emailInput.inputValue()) === '') {
      await this.emailInput.fill(payer.email);
    }
    await this.cardNumberInput.fill(card.number);
    await this.cardExpiryInput.fill(card.expiry);
    await this.cardCvcInput.fill(card.cvc);
    await this.billingNameInput.fill(payer.name);
    if (await this.postalCodeInput.isVisible()) await this.postalCodeInput.fill(card.postalCode);
    // Link's "save my information" is ticked by default and then makes a phone number required.
    if ((await this.saveInfoCheckbox.isVisible()) && (await this.saveInfoCheckbox.isChecked())) await this.saveInfoCheckbox.uncheck();
    await expect(this.submitButton).toBeEnabled();
    await this.submitButton.click();
  }
}
