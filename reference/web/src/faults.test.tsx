/**
 * The self-test's page faults (web/src/faults.ts), rendered to markup: each changes what a person
 * reads while the machine-readable twin stays right, and no fault named changes nothing.
 */
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { BriefCard } from './components/BriefCard';
import { ExecutionView } from './components/ExecutionPill';
import { PlanModal } from './components/PlanModal';
import { UpgradeRequiredCard } from './components/UpgradeRequiredCard';
import { setPageFaultsForTests, type PageFault } from './faults';
import { SpendTracker } from './pages/BillingPage';
import type { Mission } from './types';

const SPEND = { monthly_run_rate_usd: 5.04, today_usd: 0.168, month_to_date_usd: 0.01, source: 'usage_records' };

const MISSION: Mission = {
  id: 'm1',
  phase: 'plan_review',
  status: 'plan_ready',
  brief: { intent: 'Run my Discord bot 24/7', budget_cap_usd_monthly: 10 },
  plan: {
    plan_id: 'p1',
    dag: { step_count: 1, nodes: [{ id: 's1', skill: 'provision_full_stack', depends_on: [] }] },
    cost_estimate: { monthly_usd: 5.04, lines: [{ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 5.04 }] },
    risk: { score: 12, severity: 'low' },
  },
};

function render(faults: PageFault[]) {
  setPageFaultsForTests(faults);
  return {
    billing: renderToStaticMarkup(<SpendTracker spend={SPEND} />),
    brief: renderToStaticMarkup(<BriefCard brief={MISSION.brief} missing={[]} spend={SPEND} spendError={null} />),
    plan: renderToStaticMarkup(<PlanModal mission={MISSION} loading={false} error={null} approving={false} onApprove={() => undefined} onClose={() => undefined} />),
  };
}

afterEach(() => setPageFaultsForTests([]));

describe('page faults', () => {
  it('with none named: Today reads the daily share, the bar is out of the cap, the badge reads Low risk', () => {
    const page = render([]);
    expect(page.billing).toContain('data-usd="0.168">$0.168</p>');
    expect(page.brief).toContain('aria-valuemax="10"');
    expect(page.brief).toContain('$5.04 of $10/mo');
    expect(page.plan).toContain('data-severity="low">Low risk · 12</p>');
  });

  it('billing_today_shows_month_to_date: the text shows month-to-date, data-usd the daily share', () => {
    expect(render(['billing_today_shows_month_to_date']).billing).toContain('data-usd="0.168">$0.01</p>');
  });

  it('cost_cap_max_wrong: aria-valuemax is 100, the text still names the cap', () => {
    const { brief } = render(['cost_cap_max_wrong']);
    expect(brief).toContain('aria-valuemax="100"');
    expect(brief).toContain('$5.04 of $10/mo');
  });

  it('pill_count_stale: the pill reads 0 steps done while its step shows completed', () => {
    const execution = { missionId: 'm1', status: 'completed', steps: [{ step_id: 's1', skill: 'provision_full_stack', status: 'completed' }] } as const;
    const pill = (faults: PageFault[]) => {
      setPageFaultsForTests(faults);
      return renderToStaticMarkup(<ExecutionView execution={{ ...execution, steps: [...execution.steps] }} labels={{}} onDismiss={() => undefined} />);
    };
    expect(pill([])).toContain('Provisioned · 1 of 1 steps');
    const stale = pill(['pill_count_stale']);
    expect(stale).toContain('Provisioned · 0 of 1 steps');
    expect(stale).toContain('data-status="completed"');
  });

  it('brief_regions_text_wrong, brief_scale_text_wrong, brief_budget_text_wrong: each row reads otherwise than its data-value', () => {
    const brief = { ...MISSION.brief, regions: ['us-east-1'], scale: { initial: 1, target: 1, growth_profile: 'flat' } };
    const card = (faults: PageFault[]) => {
      setPageFaultsForTests(faults);
      return renderToStaticMarkup(<BriefCard brief={brief} missing={[]} spend={SPEND} spendError={null} />);
    };
    const row = (html: string, key: string) => new RegExp(`data-testid="brief-field-${key}"[^>]*><dt>[^<]*</dt><dd[^>]*>([^<]*)</dd>`).exec(html)?.[1];
    const clean = card([]);
    expect([row(clean, 'regions'), row(clean, 'scale'), row(clean, 'budget_cap_usd_monthly')]).toEqual(['us-east-1', '1→1 · flat', '$10/mo']);
    const faulty = card(['brief_regions_text_wrong', 'brief_scale_text_wrong', 'brief_budget_text_wrong']);
    expect([row(faulty, 'regions'), row(faulty, 'scale'), row(faulty, 'budget_cap_usd_monthly')]).toEqual(['us-west-1', '1→3 · linear', '$20/mo']);
    expect(faulty).toContain('data-value="[&quot;us-east-1&quot;]"');
  });

  it('cost_cap_text_wrong: the text names $20/mo while aria-valuemax stays the cap', () => {
    const { brief } = render(['cost_cap_text_wrong']);
    expect(brief).toContain('aria-valuemax="10"');
    expect(brief).toContain('<span class="cost-cap-text">$5.04 of $20/mo</span>');
  });

  it('paywall_headline_generic: the card no longer names the Free plan or its limit; its reason stays', () => {
    const upgrade = { reason: 'max_node_instances', message: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.', planSlug: 'free', limits: undefined, usage: undefined };
    const card = (faults: PageFault[]) => {
      setPageFaultsForTests(faults);
      return renderToStaticMarkup(<UpgradeRequiredCard upgrade={upgrade} onDismiss={() => undefined} />);
    };
    expect(card([])).toContain('Free plan limit reached: 1 instance');
    const generic = card(['paywall_headline_generic']);
    expect(generic).not.toMatch(/free plan/i);
    expect(generic).toContain('data-reason="max_node_instances"');
  });

  it('risk_badge_text_wrong: the badge reads High risk while data-severity stays low', () => {
    expect(render(['risk_badge_text_wrong']).plan).toContain('data-severity="low">High risk · 12</p>');
  });
});
