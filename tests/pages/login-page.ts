import type { Locator, Page } from '@playwright/test';
import { enterSecretAndSubmit } from './secret-entry';

/** `/login`: e-mail + password login. */
export class LoginPage {
  static readonly ROUTE = '/login';

  constructor(readonly page: Page) {}

  get emailInput(): Locator {
    return this.page.getByTestId('login-email-input');
  }

  get passwordInput(): Locator {
    return this.page.getByTestId('login-password-input');
  }

  get submitButton(): Locator {
    return this.page.getByTestId('login-submit-btn');
  }

  get error(): Locator {
    return this.page.getByTestId('login-error');
  }

  async goto(): Promise<void> {
    await this.page.goto(LoginPage.ROUTE);
  }

  /** Submits and waits until the app has taken the user somewhere else. */
  async logIn(credentials: { email: string; password: string }): Promise<void> {
    await this.emailInput.fill(credentials.email);
    await enterSecretAndSubmit(this.page, this.passwordInput, 'login-submit-btn', credentials.password, { clearAfterSubmit: true });
    await this.page.waitForURL((url) => url.pathname !== LoginPage.ROUTE);
  }
}
