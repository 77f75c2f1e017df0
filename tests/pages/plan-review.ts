import type { Locator, Page } from '@playwright/test';

/** The plan modal (ProvisioningPlanReview): steps, topology, cost, risk, collapse note, Approve. */
export class PlanReview {
  constructor(readonly page: Page) {}

  get root(): Locator {
    return this.page.getByTestId('provisioning-plan-review');
  }

  get steps(): Locator {
    return this.root.getByTestId('provisioning-steps');
  }

  get stepCount(): Locator {
    return this.root.getByTestId('provisioning-steps-count');
  }

  /** One element per step, `provisioning-step-<stepId>`, each with `data-skill`. */
  get stepItems(): Locator {
    return this.root.locator('[data-testid^="provisioning-step-"]');
  }

  get topology(): Locator {
    return this.root.getByTestId('provisioning-topology');
  }

  get costBreakdown(): Locator {
    return this.root.getByTestId('cost-breakdown');
  }

  get costTotalMonthly(): Locator {
    return this.root.getByTestId('cost-total-monthly');
  }

  get costLines(): Locator {
    return this.root.getByTestId('cost-line');
  }

  get risk(): Locator {
    return this.root.getByTestId('provisioning-risk');
  }

  get collapseNote(): Locator {
    return this.root.getByTestId('step-collapse-note');
  }

  get approveButton(): Locator {
    return this.root.getByTestId('provisioning-approve-btn');
  }

  get rejectButton(): Locator {
    return this.root.getByTestId('provisioning-reject-btn');
  }

  /** Each cost line as a person reads it, e.g. "us-east-1 vc2-1c-1gb $5.04/mo". */
  async costLineTexts(): Promise<string[]> {
    return (await this.costLines.allInnerTexts()).map((text) => text.replace(/\s+/g, ' ').trim());
  }

  async stepSkills(): Promise<string[]> {
    return this.stepItems.evaluateAll((elements) => elements.map((e) => e.getAttribute('data-skill') ?? ''));
  }
}
