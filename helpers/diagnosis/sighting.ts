/**
 * What the failing test's page showed when it failed, for the known-variant hints
 * (variant-hints.ts): read once, in the page, by the fixtures that own a page object, in their
 * teardown, only when the test failed. The one live step: when the configured chat route shows
 * no chat, a second tab of the same session asks public Powernode's route.
 */
import type { Page } from '@playwright/test';
import { CORE_CHAT_ROUTE, type PageSighting } from './variant-hints';

type Seen = Omit<PageSighting, 'coreRouteShowsChat' | 'lastApproval'>;

/** Runs in the page. */
function readPage(): Seen {
  const q = (selector: string) => document.querySelector(selector);
  const text = (selector: string) => q(selector)?.textContent?.replace(/\s+/g, ' ').trim() ?? null;
  const card = q('[data-testid="msg-ai"] [data-testid="upgrade-required-card"]');
  const recorded = (window as Window & { __m1StepStatuses?: Record<string, string[]> }).__m1StepStatuses;
  return {
    path: location.pathname,
    chatShown: q('[data-testid="provisioning-page"]') !== null,
    loginIds: { runbook: q('[data-testid="login-email-input"]') !== null, core: q('[data-testid="email-input"]') !== null },
    pillSteps: document.querySelectorAll('[data-testid="execution-pill"] [data-testid^="execution-step-"]').length,
    streamSteps: document.querySelectorAll('[data-testid="step-progress-stream"] [data-testid^="step-"]').length,
    stepStatuses: recorded ?? {},
    briefHeading: text('[data-testid="brief-card"] h1, [data-testid="brief-card"] h2, [data-testid="brief-card"] h3'),
    briefScale: text('[data-testid="brief-field-scale"] dd') ?? text('[data-testid="brief-field-scale"]'),
    chatUpgradeCard: card ? (card.getAttribute('data-reason') ?? '') : null,
  };
}

const SIGHTING_TIMEOUT_MS = 5_000;

function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([work, new Promise<undefined>((done) => setTimeout(() => done(undefined), ms))]);
}

/** Whether a route shows the provisioning chat in a second tab of the page's session. */
async function routeShowsChat(page: Page, route: string): Promise<boolean> {
  const tab = await page.context().newPage();
  try {
    await tab.goto(route, { timeout: SIGHTING_TIMEOUT_MS });
    return await tab.getByTestId('provisioning-page').waitFor({ timeout: SIGHTING_TIMEOUT_MS }).then(
      () => true,
      () => false,
    );
  } finally {
    await tab.close();
  }
}

/** The page as it is now; undefined when the page cannot be read (closed, crashed, hanging). */
export async function sightPage(
  page: Page,
  context: { chatRoute: string; lastApproval?: { status: number; dataKeys: string[] } },
): Promise<PageSighting | undefined> {
  if (page.isClosed()) return undefined;
  const seen = await within(page.evaluate(readPage), SIGHTING_TIMEOUT_MS).catch(() => undefined);
  if (!seen) return undefined;
  const sighting: PageSighting = { ...seen, ...(context.lastApproval ? { lastApproval: context.lastApproval } : {}) };
  if (seen.path === context.chatRoute && !seen.chatShown && context.chatRoute !== CORE_CHAT_ROUTE) {
    sighting.coreRouteShowsChat = await within(routeShowsChat(page, CORE_CHAT_ROUTE), 3 * SIGHTING_TIMEOUT_MS).catch(() => undefined);
  }
  return sighting;
}

/** The sightings of one failing test: one per page, whichever fixture reads it first. */
export class Sightings {
  readonly all: PageSighting[] = [];
  private readonly byPage = new WeakMap<Page, PageSighting>();

  async record(page: Page, context: { chatRoute: string; lastApproval?: { status: number; dataKeys: string[] } }): Promise<void> {
    const known = this.byPage.get(page);
    if (known) {
      if (context.lastApproval) known.lastApproval ??= context.lastApproval;
      return;
    }
    const sighting = await sightPage(page, context);
    if (!sighting) return;
    this.byPage.set(page, sighting);
    this.all.push(sighting);
  }
}
