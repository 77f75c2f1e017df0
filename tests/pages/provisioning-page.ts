import type { Locator, Page } from '@playwright/test';
import { APPROVE_PATH } from '../../helpers/clients/api';
import type { ApprovalGate } from '../../helpers/run/approval-gate';
import type { BriefCardFormat } from '../../helpers/dialect/brief-card';
import type { ErrorEnvelope } from '../../helpers/dialect/errors';
import type { PaywallSource } from '../../helpers/dialect/paywall';
import type { StepStatusSource } from '../../helpers/dialect/step-statuses';
import { PlanReview } from './plan-review';
import { usdOf } from './billing-page';

export const BRIEF_KEYS = ['intent', 'use_case', 'scale', 'regions', 'budget_cap_usd_monthly'] as const;
export type BriefKey = (typeof BRIEF_KEYS)[number];

/** What the page's own Approve call got back, and which mission it approved; `requestedAt` is the click. */
export type Approval = {
  missionId: string;
  status: number;
  errorCode: string | null;
  /** Whether approve answered as this target does when it accepts (PAYWALL_SOURCE: 202, or 200). */
  accepted: boolean;
  /** The keys of the answer's `data`, e.g. ["mission_id", "status"] or ["mission"]: how the answer was shaped. */
  dataKeys: string[];
  requestedAt: Date;
  answeredAt: Date;
};

export type ProvisioningPageOptions = {
  route: string;
  /** Every Approve click goes through it: the run's cloud-safety gate, which may refuse (throws). */
  approvalGate: ApprovalGate;
  /** How long the AI may take to answer a chat message (a real LLM is slower than the reference stand-in). */
  aiReplyTimeoutMs?: number;
  /** The target's dialect where this screen differs (helpers/dialect/). */
  steps: StepStatusSource;
  paywall: PaywallSource;
  errors: ErrorEnvelope;
  briefCard: BriefCardFormat;
};

const DEFAULT_AI_REPLY_TIMEOUT_MS = 30_000;

/** The provisioning chat (`/new`): chat, Brief Card, plan modal, execution pill, paywall, toasts. */
export class ProvisioningPage {
  readonly plan: PlanReview;
  /** The last Approve call's answer, for the failure diagnosis. */
  lastApproval: Approval | undefined;

  constructor(
    readonly page: Page,
    private readonly options: ProvisioningPageOptions,
  ) {
    this.plan = new PlanReview(page);
  }

  get root(): Locator {
    return this.page.getByTestId('provisioning-page');
  }

  get chatInput(): Locator {
    return this.page.getByTestId('chat-input');
  }

  get sendButton(): Locator {
    return this.page.getByTestId('chat-send-btn');
  }

  get userMessages(): Locator {
    return this.page.getByTestId('msg-user');
  }

  get aiMessages(): Locator {
    return this.page.getByTestId('msg-ai');
  }

  get openPlanButtons(): Locator {
    return this.page.getByTestId('open-plan-button');
  }

  get briefCard(): Locator {
    return this.page.getByTestId('brief-card');
  }

  get briefHeading(): Locator {
    return this.briefCard.getByRole('heading').first();
  }

  briefField(key: BriefKey): Locator {
    return this.briefCard.getByTestId(`brief-field-${key}`);
  }

  /** What this target's Brief Card prints: its heading, and how it renders a scale. */
  get briefFormat(): BriefCardFormat {
    return this.options.briefCard;
  }

  get costCap(): Locator {
    return this.briefCard.getByTestId('brief-cost-cap');
  }

  toast(text: string | RegExp): Locator {
    return this.page.getByTestId('toast').filter({ hasText: text });
  }

  get executionPill(): Locator {
    return this.page.getByTestId('execution-pill');
  }

  executionPillOf(missionId: string): Locator {
    return this.page.locator(`[data-testid="execution-pill"][data-mission-id="${missionId}"]`);
  }

  /**
   * One element per step of the execution the pill shows, each with `data-status`: inside the
   * pill (`execution-step-<stepId>`) or in the step stream beside it, as the target draws them.
   */
  executionSteps(pill: Locator = this.executionPill): Locator {
    return this.options.steps.steps(this.page, pill);
  }

  get upgradeCard(): Locator {
    return this.page.getByTestId('upgrade-required-card');
  }

  /** Where the paywall's copy shows (the Free plan and its limit): the card, or the chat message holding it. */
  get paywallCopy(): Locator {
    return this.options.paywall.copy({ upgradeCard: this.upgradeCard, aiMessages: this.aiMessages });
  }

  get upgradeCta(): Locator {
    return this.page.getByTestId('upgrade-required-cta');
  }

  /** What the CTA reads on this target (the dialect's paywall). */
  get upgradeCtaText(): string {
    return this.options.paywall.ctaText;
  }

  async goto(): Promise<void> {
    await this.page.goto(this.options.route);
    await this.root.waitFor();
  }

  /**
   * Sends a chat message (Enter sends) and waits for the AI's reply. Returns where this message's
   * "Open Plan" button will surface: on an AI message that arrived after the send, so a later plan
   * never opens an earlier one (whether or not the app hides superseded plans' buttons).
   */
  async send(text: string): Promise<Locator> {
    const earlierReplies = await this.aiMessages.count();
    await this.chatInput.fill(text);
    await this.chatInput.press('Enter');
    await this.aiMessages.nth(earlierReplies).waitFor({ timeout: this.options.aiReplyTimeoutMs ?? DEFAULT_AI_REPLY_TIMEOUT_MS });
    return this.page
      .locator(`xpath=(//*[@data-testid="msg-ai"])[position() > ${earlierReplies}]//*[@data-testid="open-plan-button"]`)
      .last();
  }

  async openPlan(openPlanButton: Locator): Promise<void> {
    await openPlanButton.click({ timeout: this.options.aiReplyTimeoutMs ?? DEFAULT_AI_REPLY_TIMEOUT_MS });
    await this.plan.root.waitFor();
  }

  /** Clicks "Approve & Provision" (after the run's guard) and reports what the API answered the page. */
  async approve(): Promise<Approval> {
    return this.options.approvalGate(async () => {
      const requestedAt = new Date();
      const answered = this.page.waitForResponse((r) => r.request().method() === 'POST' && APPROVE_PATH.test(new URL(r.url()).pathname));
      await this.plan.approveButton.click();
      const response = await answered;
      const answeredAt = new Date();
      const [, missionId] = APPROVE_PATH.exec(new URL(response.url()).pathname) ?? [];
      if (!missionId) throw new Error(`the Approve call went to ${new URL(response.url()).pathname}, not to a mission's approve path`);
      const body: unknown = await response.json().catch(() => null);
      const status = response.status();
      const data: unknown = body && typeof body === 'object' ? (body as { data?: unknown }).data : undefined;
      this.lastApproval = {
        missionId: decodeURIComponent(missionId),
        status,
        errorCode: this.options.errors.read(body)?.code ?? null,
        accepted: status === this.options.paywall.acceptedStatus,
        dataKeys: data && typeof data === 'object' ? Object.keys(data) : [],
        requestedAt,
        answeredAt,
      };
      return this.lastApproval;
    });
  }

  /** The Brief Card's raw values (`data-value`: JSON for arrays, objects and numbers). */
  async briefValues(): Promise<Partial<Record<BriefKey, unknown>>> {
    const values: Partial<Record<BriefKey, unknown>> = {};
    for (const key of BRIEF_KEYS) {
      const field = this.briefField(key);
      if ((await field.count()) === 0) continue;
      const raw = await field.first().getAttribute('data-value');
      values[key] = raw === null ? undefined : parseDataValue(raw);
    }
    return values;
  }

  /** `aria-valuenow` of the Brief Card's cost-cap bar: the account's monthly run-rate in USD. */
  async costCapUsd(): Promise<number> {
    return usdOf(this.costCap, 'aria-valuenow');
  }

  /**
   * Starts recording every `data-status` each execution step shows, from now on, as the page
   * renders it. A MutationObserver with old values sees even two changes inside one frame.
   */
  async recordStepStatuses(): Promise<StepStatusRecording> {
    await this.page.evaluate(installStepStatusObserver, { selector: this.options.steps.selector, prefix: this.options.steps.idPrefix });
    return new StepStatusRecording(this.page);
  }
}

/** Reads a `data-value`: JSON when it parses (numbers, arrays, objects), the text otherwise. */
export function parseDataValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

type StepLog = Record<string, string[]>;
type ObserverWindow = Window & { __m1StepStatuses?: StepLog; __m1StepObserver?: MutationObserver };

/**
 * Runs in the page: keeps, per step id, the sequence of distinct consecutive statuses. Within one
 * observer batch the DOM already shows the latest value, so each element's earlier values come from
 * the records' old values, in order, followed by what the element shows now.
 */
function installStepStatusObserver({ selector, prefix }: { selector: string; prefix: string }): void {
  const w = window as ObserverWindow;
  w.__m1StepObserver?.disconnect();
  const log: StepLog = {};
  w.__m1StepStatuses = log;
  const push = (step: string, status: string | null) => {
    if (!status) return;
    const seq = (log[step] ??= []);
    if (seq[seq.length - 1] !== status) seq.push(status);
  };
  const stepOf = (el: Element) => (el.getAttribute('data-testid') ?? '').slice(prefix.length);
  const isStep = (n: Node): n is Element => n instanceof Element && n.matches(selector);
  const stepsIn = (node: Node): Element[] => {
    if (!(node instanceof Element)) return [];
    const found = isStep(node) ? [node] : [];
    found.push(...Array.from(node.querySelectorAll(selector)));
    return found;
  };
  for (const el of stepsIn(document.body)) push(stepOf(el), el.getAttribute('data-status'));
  const observer = new MutationObserver((records) => {
    const earlier = new Map<Element, (string | null)[]>();
    for (const record of records) {
      if (record.type === 'attributes' && isStep(record.target)) {
        const values = earlier.get(record.target) ?? [];
        values.push(record.oldValue);
        earlier.set(record.target, values);
      } else {
        record.addedNodes.forEach((node) => stepsIn(node).forEach((el) => earlier.set(el, earlier.get(el) ?? [])));
      }
    }
    for (const [el, values] of earlier) {
      for (const value of values) push(stepOf(el), value);
      push(stepOf(el), el.getAttribute('data-status'));
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'], attributeOldValue: true });
  w.__m1StepObserver = observer;
}

/** The statuses the page showed for each execution step since recording started. */
export class StepStatusRecording {
  constructor(private readonly page: Page) {}

  async sequences(): Promise<StepLog> {
    return this.page.evaluate(() => (window as ObserverWindow).__m1StepStatuses ?? {});
  }
}
