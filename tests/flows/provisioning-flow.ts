/**
 * The provisioning chat from a fresh visit to the plan, or on to the Approve click: what several
 * negative paths do before they check how the stack answered. The funnel spells these steps out
 * instead, because it checks the Brief Card and the plan between them.
 */
import type { Approval, ProvisioningPage } from '../pages/provisioning-page';

export class ProvisioningFlow {
  constructor(private readonly provisioning: ProvisioningPage) {}

  /** Opens the chat, sends the brief and opens the plan it produces (the review modal). */
  async openPlanFor(brief: string): Promise<void> {
    await this.provisioning.goto();
    const openPlan = await this.provisioning.send(brief);
    await this.provisioning.openPlan(openPlan);
  }

  /** Opens the plan for the brief and approves it; answers what the API told the page. */
  async approvePlanFor(brief: string): Promise<Approval> {
    await this.openPlanFor(brief);
    return this.provisioning.approve();
  }
}
