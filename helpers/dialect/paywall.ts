/**
 * Where the paywall shows (RUNBOOK step 5, CONTRACT 9 `paywall_in_chat`). The runbook's approve
 * answers 402 `upgrade_required` and the UpgradeRequiredCard replaces the execution view. Public
 * Powernode's approve answers 200; the worker runs QuotaGuard before the first step, fails the
 * mission with `upgrade_required` and posts an AI chat message that holds the card, the Free
 * plan's copy beside it. Either way the suite asks one question: was the approve refused, and why.
 */
import type { Locator } from '@playwright/test';

/** What the page's approve call got back. */
export type ApproveAnswer = { missionId: string; status: number; errorCode: string | null };

/** A mission once the worker is done with it. */
export type MissionOutcome = { status: string; error_code: string | null };

/** Whether the approve was refused, with which code, and what was seen, for the failure message. */
export type Refusal = { refused: boolean; code: string | null; seen: string };

export type PaywallSource = {
  /** What approve answers when it accepts: 202 with the runbook, 200 with the mission where the worker holds the paywall. */
  acceptedStatus: number;
  /** The refusal, or null while it cannot be told yet (the worker has not settled the mission). */
  refusal(answer: ApproveAnswer, outcome: (missionId: string) => Promise<MissionOutcome | null>): Promise<Refusal | null>;
  /** Where the paywall's copy (the Free plan and its limit) shows: the card, or the chat message holding it. */
  copy(view: { upgradeCard: Locator; aiMessages: Locator }): Locator;
  /** What the card's CTA reads (CONTRACT 3: "Upgrade to Pro Cloud"; CONTRACT 9 paywall_in_chat: "Upgrade plan"). */
  ctaText: string;
};

const answered = (answer: ApproveAnswer) => `approve answered ${answer.status}${answer.errorCode ? ` ${answer.errorCode}` : ''}`;

export const PAYWALL_SOURCES = {
  approve_402: {
    acceptedStatus: 202,
    refusal: (answer) => Promise.resolve({ refused: answer.status === 402, code: answer.errorCode, seen: answered(answer) }),
    copy: (view) => view.upgradeCard,
    ctaText: 'Upgrade to Pro Cloud',
  },
  chat: {
    acceptedStatus: 200,
    async refusal(answer, outcome) {
      if (answer.status < 200 || answer.status > 299) return { refused: false, code: answer.errorCode, seen: `${answered(answer)}, not 200` };
      const settled = await outcome(answer.missionId);
      if (!settled) return null;
      const refused = settled.status === 'failed';
      return { refused, code: settled.error_code, seen: `${answered(answer)}; the worker then ${refused ? `failed the mission (${settled.error_code ?? 'no error code'})` : `left it ${settled.status}`}` };
    },
    copy: (view) => view.aiMessages.filter({ has: view.upgradeCard }),
    ctaText: 'Upgrade plan',
  },
} satisfies Record<string, PaywallSource>;

export type PaywallSourceName = keyof typeof PAYWALL_SOURCES;
