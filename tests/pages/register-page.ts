import type { Locator, Page } from '@playwright/test';
import { enterSecretAndSubmit } from './secret-entry';

export type SignUpDetails = { email: string; password: string; name: string; accountName?: string };

/** `/auth/register`: three steps (e-mail, password, name), field errors as `register-error`. */
export class RegisterPage {
  constructor(
    readonly page: Page,
    private readonly route: string,
  ) {}

  get step(): Locator {
    return this.page.getByTestId('register-step');
  }

  stepNumber(n: 1 | 2 | 3): Locator {
    return this.page.locator(`[data-testid="register-step"][data-step="${n}"]`);
  }

  get emailInput(): Locator {
    return this.page.getByTestId('register-email-input');
  }

  get passwordInput(): Locator {
    return this.page.getByTestId('register-password-input');
  }

  get nameInput(): Locator {
    return this.page.getByTestId('register-name-input');
  }

  get accountNameInput(): Locator {
    return this.page.getByTestId('register-account-name-input');
  }

  get continueButton(): Locator {
    return this.page.getByTestId('register-next-btn');
  }

  get createAccountButton(): Locator {
    return this.page.getByTestId('register-submit-btn');
  }

  get error(): Locator {
    return this.page.getByTestId('register-error');
  }

  async goto(): Promise<void> {
    await this.page.goto(this.route);
    await this.stepNumber(1).waitFor();
  }

  /**
   * Walks the three steps. A step that answers with a field error (e.g. a taken e-mail, which an
   * implementation may check at step 1 or on submit) ends the walk there, for the caller to assert.
   */
  async signUp(details: SignUpDetails): Promise<void> {
    await this.emailInput.fill(details.email);
    await this.continueButton.click();
    if (!(await this.reached(2))) return;
    await enterSecretAndSubmit(this.page, this.passwordInput, 'register-next-btn', details.password);
    if (!(await this.reached(3))) return;
    await this.nameInput.fill(details.name);
    if (details.accountName && (await this.accountNameInput.isVisible())) await this.accountNameInput.fill(details.accountName);
    await this.createAccountButton.click();
  }

  private async reached(step: 2 | 3): Promise<boolean> {
    await this.stepNumber(step).or(this.error).first().waitFor();
    return this.stepNumber(step).isVisible();
  }
}
