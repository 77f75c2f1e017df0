import { describe, expect, it } from 'vitest';
import { BOOTSTRAP_CATALOG } from './bootstrap';
import { captureBrief, type Brief } from './brief-capture';
import { composePlan, createsInstances, plannedInstanceCount } from './composer';
import { HOURS_PER_MONTH_730 } from './cost';

function brief(text: string): Brief {
  const result = captureBrief(text);
  if (!result.complete) throw new Error('incomplete brief');
  return result.brief;
}

const discord = brief("I want to run my Discord moderation bot 24/7 on a small VM. It's a side project, I don't need anything fancy — just $5/mo on a 1 vCPU box.");
const webStack = brief('I need a web app with a Postgres database and a private network between them.');

describe('composer', () => {
  it('composes the Discord brief as one collapsed provision_full_stack step at $5.04/mo, low risk', () => {
    const plan = composePlan(discord, { planId: 'plan-1' });
    expect(plan.dag.step_count).toBe(1);
    expect(plan.dag.nodes).toEqual([
      {
        id: 'step-1',
        skill: 'provision_full_stack',
        label: 'Provision 1× vc2-1c-1gb in us-east-1 (base template)',
        stage: 'full',
        depends_on: [],
        params: { region: 'us-east-1', instance_type: 'vc2-1c-1gb', template: 'base', count: 1 },
      },
    ]);
    expect(plan.dag.edges).toEqual([]);
    expect(plan.step_collapse).toEqual({ original_step_count: 3, collapsed_step_count: 1, reason: 'redundant_sequential_provision_full_stack' });
    expect(plan.cost_estimate).toEqual({
      monthly_usd: 5.04,
      hours_per_month: 720,
      lines: [{ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 5.04, hourly_price: 0.007, count: 1 }],
    });
    expect(plan.risk.severity).toBe('low');
    expect(plan.plan_id).toBe('plan-1');
    expect(plannedInstanceCount(plan)).toBe(1);
    expect(plan.dag.nodes.filter(createsInstances)).toHaveLength(1);
  });

  it('shows the three stages, uncollapsed and still priced once, under collapse_disabled', () => {
    const plan = composePlan(discord, { planId: 'p', collapse: 'disabled' });
    expect(plan.dag.step_count).toBe(3);
    expect(plan.dag.nodes.map((n) => [n.id, n.skill, n.stage, n.depends_on])).toEqual([
      ['step-1', 'provision_full_stack', 'allocate', []],
      ['step-2', 'provision_full_stack', 'configure', ['step-1']],
      ['step-3', 'provision_full_stack', 'boot', ['step-2']],
    ]);
    expect(plan.dag.edges).toEqual([
      { from: 'step-1', to: 'step-2' },
      { from: 'step-2', to: 'step-3' },
    ]);
    expect(plan.step_collapse).toBeUndefined();
    expect(plan.cost_estimate.monthly_usd).toBe(5.04);
    expect(plan.dag.nodes.filter(createsInstances).map((n) => n.id)).toEqual(['step-1']);
  });

  it('keeps the compute + database + network plan at three steps with three skills', () => {
    const plan = composePlan(webStack, { planId: 'p' });
    expect(plan.dag.step_count).toBe(3);
    expect(plan.dag.nodes.map((n) => n.skill)).toEqual(['provision_network', 'provision_database', 'provision_compute']);
    expect(plan.dag.nodes.map((n) => n.depends_on)).toEqual([[], ['step-1'], ['step-2']]);
    expect(plan.step_collapse).toBeUndefined();
    expect(plan.cost_estimate.lines.map((l) => l.name)).toEqual(['us-east-1 vc2-1c-2gb', 'us-east-1 vc2-1c-1gb']);
    expect(plan.cost_estimate.monthly_usd).toBe(18);
    expect(plan.risk.severity).toBe('med');
    expect(plannedInstanceCount(plan)).toBe(2);
  });

  it('merges the three-component plan too under collapse_over_merge', () => {
    const plan = composePlan(webStack, { planId: 'p', collapse: 'over_merge' });
    expect(plan.dag.step_count).toBe(1);
    expect(plan.step_collapse?.original_step_count).toBe(3);
  });

  it('prices at 730 h under cost_730h and flags severity under risk_wrong', () => {
    const plan = composePlan(discord, { planId: 'p', hoursPerMonth: HOURS_PER_MONTH_730, riskWrong: true });
    expect(plan.cost_estimate.monthly_usd).toBe(5.11);
    expect(plan.risk.severity).toBe('med');
  });

  it('collapses per region when the brief names two', () => {
    const plan = composePlan({ ...discord, regions: ['us-east-1', 'us-west-1'] }, { planId: 'p' });
    expect(plan.dag.nodes.map((n) => [n.id, n.params.region])).toEqual([
      ['step-1', 'us-east-1'],
      ['step-4', 'us-west-1'],
    ]);
    expect(plan.step_collapse).toMatchObject({ original_step_count: 6, collapsed_step_count: 2 });
    expect(plan.cost_estimate.monthly_usd).toBe(10.08);
  });

  it('uses the account catalog prices and count', () => {
    const catalog = { ...BOOTSTRAP_CATALOG, instanceTypes: BOOTSTRAP_CATALOG.instanceTypes.map((t) => ({ ...t, hourly_price: t.hourly_price * 2 })) };
    const plan = composePlan({ ...discord, scale: { initial: 2, target: 2, growth_profile: 'flat' } }, { planId: 'p', catalog });
    expect(plan.cost_estimate.lines[0]).toEqual({ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 20.16, hourly_price: 0.014, count: 2 });
    expect(plan.dag.nodes[0]!.params.count).toBe(2);
  });
});
