import type { Locator, Page } from '@playwright/test';
import type { LoginIds } from '../../helpers/dialect/login';
import { enterSecretAndSubmit } from './secret-entry';

/** `/login`: e-mail + password login, with the test ids the target uses (LOGIN_IDS). */
export class LoginPage {
  static readonly ROUTE = '/login';

  constructor(
    readonly page: Page,
    private readonly ids: LoginIds,
  ) {}

  get emailInput(): Locator {
    return this.page.getByTestId(this.ids.email);
  }

  get passwordInput(): Locator {
    return this.page.getByTestId(this.ids.password);
  }

  get submitButton(): Locator {
    return this.page.getByTestId(this.ids.submit);
  }

  get error(): Locator {
    return this.page.getByTestId(this.ids.error);
  }

  async goto(): Promise<void> {
    await this.page.goto(LoginPage.ROUTE);
  }

  /** Submits and waits until the app has taken the user somewhere else. */
  async logIn(credentials: { email: string; password: string }): Promise<void> {
    await this.emailInput.fill(credentials.email);
    await enterSecretAndSubmit(this.page, this.passwordInput, this.ids.submit, credentials.password, { clearAfterSubmit: true });
    await this.page.waitForURL((url) => url.pathname !== LoginPage.ROUTE);
  }
}
