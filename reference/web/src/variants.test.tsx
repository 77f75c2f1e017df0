/**
 * The page under each variant that lives in the browser, rendered to markup (no DOM needed), and
 * the same page with no variant named.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from './api';
import { routes } from './App';
import { BriefCard } from './components/BriefCard';
import { ExecutionView } from './components/ExecutionPill';
import { readMission, readPlan } from './missions';
import { loginIds } from './pages/LoginPage';
import { MessageItem } from './pages/ProvisionPage';
import type { ChatMessage } from './types';
import type { Execution } from './useMissionStream';
import { chatRoute, setVariantsForTests } from './variants';

const BRIEF = { intent: 'Run my Discord bot 24/7', scale: { initial: 1, target: 1, growth_profile: 'flat' }, budget_cap_usd_monthly: 10 };

const RUNNING: Execution = {
  missionId: 'm1',
  status: 'running',
  steps: [
    { step_id: 'step-1', skill: 'provision_full_stack', status: 'executing' },
    { step_id: 'step-2', skill: 'provision_compute', status: 'pending' },
  ],
};

function briefCard(): string {
  return renderToStaticMarkup(<BriefCard brief={BRIEF} missing={[]} spend={null} spendError={null} />);
}

function pill(execution: Execution = RUNNING): string {
  return renderToStaticMarkup(<ExecutionView execution={execution} labels={{}} onDismiss={() => undefined} />);
}

const PAYWALL_MESSAGE: ChatMessage = {
  id: 'msg-9',
  role: 'assistant',
  content: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.',
  metadata: {
    mission_id: 'm2',
    upgrade_required: { requires_upgrade: true, reason: 'max_active_instances_exceeded', cap: 1, upgrade_url: '/checkout?plan=pro_cloud' },
  },
  created_at: '2026-01-01T00:00:00Z',
};

function message(m: ChatMessage): string {
  return renderToStaticMarkup(<MessageItem message={m} planReady={false} onOpenPlan={() => undefined} />);
}

afterEach(() => {
  setVariantsForTests([]);
  vi.unstubAllGlobals();
});

describe('with no variant named, the page is the runbook’s', () => {
  it('routes, login ids, Brief Card, pill', () => {
    setVariantsForTests([]);
    expect(chatRoute()).toBe('/new');
    expect(Object.keys(routes())).toContain('/new');
    expect(Object.keys(routes())).not.toContain('/app/system/provision');
    expect(loginIds()).toEqual({ email: 'login-email-input', password: 'login-password-input', submit: 'login-submit-btn', submitText: 'Log in' });
    expect(briefCard()).toContain('>Brief</h2>');
    expect(briefCard()).toContain('1→1 · flat');
    const html = pill();
    expect(html).toContain('data-testid="execution-step-step-1"');
    expect(html).not.toContain('step-progress-stream');
  });
});

describe('route_core', () => {
  it('puts the chat at /app/system/provision, and /new is no page', () => {
    setVariantsForTests(['route_core']);
    expect(chatRoute()).toBe('/app/system/provision');
    expect(Object.keys(routes())).toContain('/app/system/provision');
    expect(Object.keys(routes())).not.toContain('/new');
  });
});

describe('login_ids_core', () => {
  it('uses public Powernode core’s login ids and button text', () => {
    setVariantsForTests(['login_ids_core']);
    expect(loginIds()).toEqual({ email: 'email-input', password: 'password-input', submit: 'login-submit-btn', submitText: 'Sign in to Dashboard' });
  });
});

describe('brief_core', () => {
  it('heads the card "Project brief" and reads scale as "1→1 users · flat"', () => {
    setVariantsForTests(['brief_core']);
    const html = briefCard();
    expect(html).toContain('>Project brief</h2>');
    expect(html).toContain('1→1 users · flat');
  });
});

describe('step_stream_core', () => {
  it('keeps only the count in the pill and the steps in step-progress-stream', () => {
    setVariantsForTests(['step_stream_core']);
    const html = pill();
    expect(html).not.toContain('execution-step-');
    expect(html).toContain('data-testid="step-progress-stream"');
    expect(html).toContain('data-testid="step-step-1" data-status="executing"');
    expect(html).toContain('data-testid="step-step-2" data-status="pending"');
    expect(html).toMatch(/data-testid="execution-pill"[^>]*>.*Provisioning… 0 of 2 steps/);
  });
});

describe('step_executing', () => {
  it('shows the status the stream sends as data-status', () => {
    expect(pill()).toContain('data-testid="execution-step-step-1" data-status="executing"');
  });
});

describe('paywall_in_chat', () => {
  it('renders the UpgradeRequiredCard inline on the message that carries it', () => {
    const html = message(PAYWALL_MESSAGE);
    expect(html).toMatch(/data-testid="msg-ai".*data-testid="upgrade-required-card" data-reason="max_active_instances_exceeded"/);
    expect(html).toContain('href="/checkout?plan=pro_cloud" class="btn btn-primary" data-testid="upgrade-required-cta">Upgrade plan</a>');
    expect(html).toContain('Limit: 1 instance');
  });

  it('links the CTA to /checkout when the message names no upgrade URL; no card without the metadata', () => {
    const html = message({ ...PAYWALL_MESSAGE, metadata: { upgrade_required: { requires_upgrade: true, reason: 'max_active_instances_exceeded', cap: 1 } } });
    expect(html).toContain('href="/checkout" class="btn btn-primary" data-testid="upgrade-required-cta"');
    expect(message({ ...PAYWALL_MESSAGE, metadata: { mission_id: 'm2' } })).not.toContain('upgrade-required-card');
  });
});

describe('mission_api_core', () => {
  it('reads a core mission and a core plan into the page’s shapes', () => {
    const mission = readMission({
      mission: {
        id: 'm1',
        status: 'plan_ready',
        current_phase: 'plan_review',
        configuration: { brief: BRIEF, brief_missing_fields: [], plan: { plan_id: 'p1' } },
        error_message: null,
        conversation_id: 'c1',
      },
    });
    expect(mission).toEqual({ id: 'm1', phase: 'plan_review', status: 'plan_ready', brief: BRIEF, plan: null, error_code: null });
    const plan = readPlan({
      plan_id: 'p1',
      mission_id: 'm1',
      dag: { nodes: [{ id: 'a', skill: 's' }, { id: 'b', skill: 's' }], edges: [{ source: 'a', target: 'b' }] },
      cost_estimate: { monthly_usd: 5.11, lines: [] },
      topology_preview: {},
      risk: { score: 10, severity: 'low' },
    });
    expect(plan.dag).toEqual({ step_count: 2, nodes: [{ id: 'a', skill: 's' }, { id: 'b', skill: 's' }], edges: [{ from: 'a', to: 'b' }] });
  });

  it('passes the runbook’s shapes through', () => {
    const runbook = { id: 'm1', phase: 'plan_review', status: 'plan_ready', brief: BRIEF, plan: null, error_code: null };
    expect(readMission(runbook)).toEqual(runbook);
  });
});

describe('errors_flat', () => {
  async function failure(payload: unknown, status: number): Promise<unknown> {
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify(payload), { status }));
    return api('POST', '/ai/missions/x/approve').catch((error: unknown) => error);
  }

  it('reads the flat envelope’s message, code (as the page’s lower case) and details', async () => {
    const error = await failure({ success: false, error: 'Free plan limit reached', code: 'UPGRADE_REQUIRED', details: { reason: 'r' } }, 402);
    expect(error).toMatchObject({ status: 402, code: 'upgrade_required', message: 'Free plan limit reached', details: { reason: 'r' } });
  });

  it('still reads the runbook’s envelope', async () => {
    const error = await failure({ success: false, error: { code: 'upgrade_required', message: 'Free plan limit reached', details: { reason: 'r' } } }, 402);
    expect(error).toMatchObject({ status: 402, code: 'upgrade_required', message: 'Free plan limit reached', details: { reason: 'r' } });
  });
});
