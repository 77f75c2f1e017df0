import type { Locator, Page } from '@playwright/test';

export type CredentialScope = 'account' | 'platform_pool';

/** `/settings/cloud-credentials`: account-scoped Vultr keys (only their last 4 characters are shown). */
export class CredentialsPage {
  constructor(
    readonly page: Page,
    private readonly route: string,
  ) {}

  get apiKeyInput(): Locator {
    return this.page.getByTestId('credential-api-key-input');
  }

  get saveButton(): Locator {
    return this.page.getByTestId('credential-save-btn');
  }

  get rows(): Locator {
    return this.page.getByTestId('credential-row');
  }

  rowsOfScope(scope: CredentialScope): Locator {
    return this.page.locator(`[data-testid="credential-row"][data-scope="${scope}"]`);
  }

  activeToggle(row: Locator): Locator {
    return row.getByTestId('credential-active-toggle');
  }

  /**
   * The text the screen shows. A key is checked against this in code, never through a locator
   * built from it (`getByText(key)`), whose selector would carry the key into step titles and traces.
   */
  async shownText(): Promise<string> {
    return this.page.locator('body').innerText();
  }

  async goto(): Promise<void> {
    await this.page.goto(this.route);
    await this.apiKeyInput.waitFor();
  }
}
