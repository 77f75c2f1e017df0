/**
 * Where the page shows each execution step's status (CONTRACT 3's execution pill, CONTRACT 9
 * `step_stream_core`): inside the ExecutionPill as `execution-step-<id>`, or, on public Powernode,
 * in a `step-progress-stream` beside it as `step-<id>`, the pill keeping only its count. Each step
 * element carries `data-status` either way.
 */
import type { Locator, Page } from '@playwright/test';

export type StepStatusSource = {
  /** CSS for every step element on the page, for the recorder that runs in the page. */
  selector: string;
  /** The test id's prefix before the step id. */
  idPrefix: string;
  /** The step elements of one execution, given its pill. */
  steps(page: Page, pill: Locator): Locator;
};

export const STEP_STATUS_SOURCES = {
  pill: {
    selector: '[data-testid="execution-pill"] [data-testid^="execution-step-"]',
    idPrefix: 'execution-step-',
    steps: (_page, pill) => pill.locator('[data-testid^="execution-step-"]'),
  },
  stream: {
    selector: '[data-testid="step-progress-stream"] [data-testid^="step-"]',
    idPrefix: 'step-',
    // One execution at a time has a stream; it is the pill's sibling, not its child.
    steps: (page) => page.getByTestId('step-progress-stream').locator('[data-testid^="step-"]'),
  },
} satisfies Record<string, StepStatusSource>;

export type StepStatusSourceName = keyof typeof STEP_STATUS_SOURCES;
