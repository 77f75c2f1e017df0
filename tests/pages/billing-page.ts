import type { Locator, Page } from '@playwright/test';

/** `/settings/billing`: current plan and the live spend tracker. */
export class BillingPage {
  constructor(
    readonly page: Page,
    private readonly route: string,
  ) {}

  get currentPlan(): Locator {
    return this.page.getByTestId('current-plan');
  }

  get liveSpendTracker(): Locator {
    return this.page.getByTestId('live-spend-tracker');
  }

  get monthlySpend(): Locator {
    return this.page.getByTestId('live-spend-monthly');
  }

  get todaySpend(): Locator {
    return this.page.getByTestId('live-spend-today');
  }

  get spendSource(): Locator {
    return this.page.getByTestId('live-spend-source');
  }

  async goto(): Promise<void> {
    await this.page.goto(this.route);
    await this.liveSpendTracker.waitFor();
  }

  /** `data-usd` of the monthly run-rate; NaN until the tracker has a value. */
  async monthlyUsd(): Promise<number> {
    return usdOf(this.monthlySpend);
  }

  async todayUsd(): Promise<number> {
    return usdOf(this.todaySpend);
  }

  /** What the tracker shows a person (each figure's text) beside its machine-readable twin (`data-usd`). */
  async shownSpend(): Promise<{ monthlyText: string | null; monthlyUsd: string | null; todayText: string | null; todayUsd: string | null }> {
    const read = async (figure: Locator) =>
      (await figure.count()) === 0 ? { text: null, usd: null } : { text: (await figure.first().innerText()).trim(), usd: await figure.first().getAttribute('data-usd') };
    const [monthly, today] = [await read(this.monthlySpend), await read(this.todaySpend)];
    return { monthlyText: monthly.text, monthlyUsd: monthly.usd, todayText: today.text, todayUsd: today.usd };
  }
}

export async function usdOf(locator: Locator, attribute = 'data-usd'): Promise<number> {
  if ((await locator.count()) === 0) return Number.NaN;
  const value = await locator.first().getAttribute(attribute);
  return value === null || value.trim() === '' ? Number.NaN : Number(value);
}
