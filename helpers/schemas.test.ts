import { describe, expect, it } from 'vitest';
import { readEnvelope } from './clients/api';
import {
  missionSchema,
  nodeInstanceRowSchema,
  postMessageResponseSchema,
  usageRecordRowSchema,
  vultrInstanceListSchema,
  workerHealthSchema,
} from './schemas';

describe('API bodies', () => {
  it("reads the contract's 402 upgrade_required body", () => {
    const body = {
      success: false,
      error: {
        code: 'upgrade_required',
        message: 'Free plan limit reached: 1 instance. Upgrade to Pro Cloud for more.',
        details: {
          reason: 'max_node_instances',
          plan_slug: 'free',
          limits: { max_node_instances: 1, max_monthly_provisioning_usd: 20 },
          current_usage: { node_instance_count: 1, monthly_provisioning_usd: 5.04 },
        },
      },
    };
    const result = readEnvelope(402, body, missionSchema);
    expect(result).toMatchObject({ ok: false, status: 402, error: { code: 'upgrade_required', details: { reason: 'max_node_instances' } } });
  });

  it('reads a mission with its collapsed 1-step plan', () => {
    const mission = {
      id: 'm1',
      phase: 'plan_review',
      status: 'plan_ready',
      brief: { intent: 'Run my Discord bot 24/7', use_case: 'Discord bot', scale: { initial: 1, target: 1, growth_profile: 'flat' }, regions: ['us-east-1'], budget_cap_usd_monthly: 10, preferred_provider: 'pro_cloud' },
      plan: {
        plan_id: 'p1',
        dag: {
          step_count: 1,
          nodes: [{ id: 's1', skill: 'provision_full_stack', label: 'Provision', depends_on: [], params: { region: 'us-east-1', instance_type: 'vc2-1c-1gb', template: 'base', count: 1 } }],
          edges: [],
        },
        cost_estimate: { monthly_usd: 5.04, hours_per_month: 720, lines: [{ name: 'us-east-1 vc2-1c-1gb', monthly_usd: 5.04, hourly_price: 0.007, count: 1 }] },
        risk: { score: 12, severity: 'low', factors: [] },
        step_collapse: { original_step_count: 3, collapsed_step_count: 1, reason: 'redundant_sequential_provision_full_stack' },
      },
    };
    const result = readEnvelope(200, { success: true, data: mission }, missionSchema);
    expect(result.ok && result.data.plan?.dag.step_count).toBe(1);
    expect(result.ok && result.data.plan?.step_collapse?.collapsed_step_count).toBe(1);
  });

  it('reads a mission still collecting its brief (no plan yet)', () => {
    expect(readEnvelope(200, { success: true, data: { id: 'm1', phase: 'brief', status: 'collecting', brief: {}, plan: null } }, missionSchema).ok).toBe(true);
  });

  it('reports a success body of the wrong shape instead of throwing', () => {
    const result = readEnvelope(200, { success: true, data: { id: 1 } }, missionSchema);
    expect(result).toMatchObject({ ok: false, error: { code: 'unexpected_body' } });
  });

  it('reports a body with no envelope at all', () => {
    expect(readEnvelope(500, '<html>', missionSchema)).toMatchObject({ ok: false, status: 500, error: { code: 'unexpected_body' } });
  });

  it('reads assistant metadata carrying the mission', () => {
    const parsed = postMessageResponseSchema.parse({
      user_message: { id: 'u', role: 'user', content: 'hi', metadata: {} },
      assistant_message: { id: 'a', role: 'assistant', content: 'Plan ready', metadata: { mission_id: 'm1', mission_phase: 'plan_review', plan_ready: { mission_id: 'm1' } } },
    });
    expect(parsed.assistant_message.metadata?.plan_ready?.mission_id).toBe('m1');
  });
});

describe('worker, Vultr and DB shapes', () => {
  it('reads worker health, with or without failures', () => {
    expect(workerHealthSchema.parse({ status: 'ok', failed: { 'billing.provisioning_meter': 0 } }).failed).toEqual({ 'billing.provisioning_meter': 0 });
    expect(workerHealthSchema.parse({ status: 'ok' }).failed).toEqual({});
  });

  it('reads a Vultr instance list page', () => {
    const page = vultrInstanceListSchema.parse({
      instances: [{ id: 'i1', status: 'active', power_status: 'running', server_status: 'ok', region: 'ewr', plan: 'vc2-1c-1gb', tags: ['powernode', 'account:a1'], main_ip: '10.0.0.1' }],
      meta: { total: 1, links: { next: '', prev: '' } },
    });
    expect(page.instances[0]?.tags).toContain('account:a1');
  });

  it('reads pg rows: numeric as text, timestamps as dates', () => {
    const usage = usageRecordRowSchema.parse({ id: 'u', account_id: 'a', node_instance_id: 'n', event: 'running', status: 'pending', hourly_price: '0.0070', metered_at: new Date() });
    expect(usage.hourly_price).toBe(0.007);
    expect(() =>
      nodeInstanceRowSchema.parse({ id: 'n', account_id: 'a', mission_id: null, name: 'x', status: 'exploded', provider_instance_id: null, public_ip_address: null, created_at: new Date() }),
    ).toThrow();
  });
});
