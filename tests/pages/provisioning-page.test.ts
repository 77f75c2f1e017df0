import { chromium, type Browser, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseChromium, OFFLINE_CHROMIUM_ARGS } from '../../helpers/browser';
import { dialectOf, RUNBOOK_DIALECT, type Dialect } from '../../helpers/dialect';
import { parseConfig } from '../../helpers/config';
import { ProvisioningPage, parseDataValue } from './provisioning-page';

const CORE_DIALECT = dialectOf(parseConfig({ TARGET_PROFILE: 'powernode-core' }));

function pick({ steps, paywall, errors, briefCard }: Dialect) {
  return { steps, paywall, errors, briefCard };
}

// A page shaped like the contract's provisioning screen (CONTRACT 3), driven by hand, to prove the page object's
// mechanics (the status recorder above all) without a stack.
const HTML = `<main data-testid="provisioning-page">
  <aside data-testid="brief-card">
    <div data-testid="brief-field-intent" data-value="Run my Discord bot 24/7">Run my Discord bot 24/7</div>
    <div data-testid="brief-field-scale" data-value='{"initial":1,"target":1,"growth_profile":"flat"}'>1→1 · flat</div>
    <div data-testid="brief-field-regions" data-value='["us-east-1"]'>us-east-1</div>
    <div data-testid="brief-field-budget_cap_usd_monthly" data-value="10">$10/mo</div>
    <div data-testid="brief-cost-cap" role="progressbar" aria-valuenow="5.04" aria-valuemax="10">$5.04 of $10/mo</div>
  </aside>
  <div data-testid="provisioning-plan-review">
    <div data-testid="provisioning-steps"><span data-testid="provisioning-steps-count">3</span>
      <div data-testid="provisioning-step-a" data-skill="provision_compute"></div>
      <div data-testid="provisioning-step-b" data-skill="provision_database"></div>
      <div data-testid="provisioning-step-c" data-skill="provision_network"></div>
    </div>
  </div>
  <div id="pill-slot"></div>
</main>`;

let browser: Browser;
let page: Page;
let provisioning: ProvisioningPage;

beforeAll(async () => {
  const choice = chooseChromium(process.env.CHROMIUM_PATH ?? '', { headless: true });
  if (choice.kind === 'none') throw new Error('no Chromium: run npm run bootstrap');
  browser = await chromium.launch({ executablePath: choice.kind === 'bundled' ? undefined : choice.executablePath, args: OFFLINE_CHROMIUM_ARGS });
  page = await browser.newPage();
  provisioning = new ProvisioningPage(page, { route: '/new', approvalGate: (click) => click(), ...pick(RUNBOOK_DIALECT) });
});

afterAll(async () => {
  await browser?.close();
});

async function fresh(): Promise<void> {
  await page.setContent(HTML);
}

describe('step status recording', () => {
  it('sees every status, even several changes inside one task', async () => {
    await fresh();
    const recording = await provisioning.recordStepStatuses();
    await page.evaluate(() => {
      const pill = document.createElement('div');
      pill.setAttribute('data-testid', 'execution-pill');
      pill.innerHTML = '<span data-testid="execution-step-s1" data-status="pending"></span>';
      document.getElementById('pill-slot')!.append(pill);
    });
    await page.evaluate(() => {
      const step = document.querySelector('[data-testid="execution-step-s1"]')!;
      step.setAttribute('data-status', 'running');
      step.setAttribute('data-status', 'completed');
    });
    await expect.poll(() => recording.sequences()).toEqual({ s1: ['pending', 'running', 'completed'] });
  });

  it('sees a step added and changed in the same task, and one replaced by a new element', async () => {
    await fresh();
    const recording = await provisioning.recordStepStatuses();
    await page.evaluate(() => {
      const slot = document.getElementById('pill-slot')!;
      slot.innerHTML = '<div data-testid="execution-pill"><span data-testid="execution-step-s1" data-status="pending"></span></div>';
      slot.querySelector('[data-testid="execution-step-s1"]')!.setAttribute('data-status', 'running');
    });
    await page.evaluate(() => {
      document.getElementById('pill-slot')!.innerHTML = '<div data-testid="execution-pill"><span data-testid="execution-step-s1" data-status="completed"></span></div>';
    });
    await expect.poll(() => recording.sequences()).toEqual({ s1: ['pending', 'running', 'completed'] });
  });

  it('starts from what is already shown', async () => {
    await fresh();
    await page.evaluate(() => {
      document.getElementById('pill-slot')!.innerHTML = '<div data-testid="execution-pill"><span data-testid="execution-step-s9" data-status="running"></span></div>';
    });
    const recording = await provisioning.recordStepStatuses();
    expect(await recording.sequences()).toEqual({ s9: ['running'] });
  });
});

describe('step status recording where the target keeps statuses in a step stream (STEP_STATUS_SOURCE=stream)', () => {
  it('reads step-<id> items of step-progress-stream, and nothing else whose id starts with step-', async () => {
    const core = new ProvisioningPage(page, { route: '/app/system/provision', approvalGate: (click) => click(), ...pick(CORE_DIALECT) });
    await page.setContent(`<main data-testid="provisioning-page"><div data-testid="step-collapse-note" data-status="x">Merged</div><div id="slot"></div></main>`);
    const recording = await core.recordStepStatuses();
    await page.evaluate(() => {
      document.getElementById('slot')!.innerHTML =
        '<section data-testid="step-progress-stream"><ol><li data-testid="step-step-1" data-status="pending"></li></ol></section>' +
        '<div data-testid="execution-pill" data-mission-id="m1">Provisioning… 0 of 1 steps</div>';
    });
    await page.evaluate(() => document.querySelector('[data-testid="step-step-1"]')!.setAttribute('data-status', 'executing'));
    await page.evaluate(() => document.querySelector('[data-testid="step-step-1"]')!.setAttribute('data-status', 'completed'));
    await expect.poll(() => recording.sequences()).toEqual({ 'step-1': ['pending', 'executing', 'completed'] });
    expect(await core.executionSteps(core.executionPillOf('m1')).getAttribute('data-status')).toBe('completed');
  });
});

describe('paywall copy', () => {
  const CARD = '<section data-testid="upgrade-required-card" data-reason="r">Limit: 1 instance</section>';

  it('is the card where approve answers 402, the chat message holding it where the paywall is in the chat', async () => {
    await page.setContent(`<main data-testid="provisioning-page"><ol>
      <li data-testid="msg-ai">Earlier reply</li>
      <li data-testid="msg-ai">Free plan limit reached: 1 instance. ${CARD}</li></ol></main>`);
    const core = new ProvisioningPage(page, { route: '/app/system/provision', approvalGate: (click) => click(), ...pick(CORE_DIALECT) });
    expect(await core.paywallCopy.textContent()).toContain('Free plan limit reached');
    expect(await provisioning.paywallCopy.textContent()).toBe('Limit: 1 instance');
  });
});

describe('chat', () => {
  it("returns the Open Plan button of the new reply, never an earlier plan's", async () => {
    await page.setContent(`<main data-testid="provisioning-page">
      <ol><li data-testid="msg-ai">Plan ready <button data-testid="open-plan-button" data-plan="first">Open Plan</button></li></ol>
      <textarea data-testid="chat-input"></textarea></main>`);
    await page.evaluate(() => {
      const input = document.querySelector('textarea')!;
      input.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter') return;
        setTimeout(() => {
          const reply = document.createElement('li');
          reply.setAttribute('data-testid', 'msg-ai');
          reply.innerHTML = 'Second plan <button data-testid="open-plan-button" data-plan="second">Open Plan</button>';
          document.querySelector('ol')!.append(reply);
        }, 50);
      });
    });
    const openPlan = await provisioning.send('Spin up another bot host alongside the first one.');
    expect(await openPlan.getAttribute('data-plan')).toBe('second');
  });
});

describe('brief card and plan modal', () => {
  it('reads Brief Card values as JSON where they are JSON', async () => {
    await fresh();
    expect(await provisioning.briefValues()).toEqual({
      intent: 'Run my Discord bot 24/7',
      scale: { initial: 1, target: 1, growth_profile: 'flat' },
      regions: ['us-east-1'],
      budget_cap_usd_monthly: 10,
    });
    expect(await provisioning.costCapUsd()).toBe(5.04);
  });

  it('lists the step skills without counting the steps container or its badge', async () => {
    await fresh();
    expect(await provisioning.plan.stepSkills()).toEqual(['provision_compute', 'provision_database', 'provision_network']);
  });

  it('parses data-value text', () => {
    expect(parseDataValue('10')).toBe(10);
    expect(parseDataValue('Run my bot')).toBe('Run my bot');
  });
});
