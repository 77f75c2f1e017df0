import { describe, expect, it } from 'vitest';
import { collapseSteps, fingerprint, type PlanNode } from './step-collapse';

function node(id: string, over: Partial<PlanNode> = {}, params: Partial<PlanNode['params']> = {}): PlanNode {
  return {
    id,
    skill: 'provision_full_stack',
    label: id,
    stage: 'full',
    depends_on: [],
    params: { region: 'us-east-1', instance_type: 'vc2-1c-1gb', template: 'base', count: 1, ...params },
    ...over,
  };
}

const chain = [node('step-1'), node('step-2', { depends_on: ['step-1'] }), node('step-3', { depends_on: ['step-2'] })];

describe('step collapse', () => {
  it('merges three sequential same-fingerprint steps into one and records it', () => {
    const { nodes, step_collapse } = collapseSteps(chain);
    expect(nodes.map((n) => n.id)).toEqual(['step-1']);
    expect(nodes[0]!.stage).toBe('full');
    expect(step_collapse).toEqual({ original_step_count: 3, collapsed_step_count: 1, reason: 'redundant_sequential_provision_full_stack' });
  });

  it('never merges different skills', () => {
    const mixed = [
      node('step-1', { skill: 'provision_network' }, { instance_type: null, template: null }),
      node('step-2', { skill: 'provision_database', depends_on: ['step-1'] }),
      node('step-3', { skill: 'provision_compute', depends_on: ['step-2'] }),
    ];
    const { nodes, step_collapse } = collapseSteps(mixed);
    expect(nodes).toHaveLength(3);
    expect(step_collapse).toBeNull();
  });

  it('never merges a different fingerprint', () => {
    for (const params of [{ region: 'us-west-1' }, { instance_type: 'vc2-1c-2gb' }, { template: 'hardened' }]) {
      const steps = [node('step-1'), node('step-2', { depends_on: ['step-1'] }, params)];
      expect(collapseSteps(steps).nodes).toHaveLength(2);
    }
  });

  it('does not merge when the later step also depends on something else, or on nothing', () => {
    const extraDependency = [node('step-1'), node('step-2'), node('step-3', { depends_on: ['step-1', 'step-2'] })];
    expect(collapseSteps(extraDependency).nodes).toHaveLength(3);
    const independent = [node('step-1'), node('step-2')];
    expect(collapseSteps(independent).nodes).toHaveLength(2);
  });

  it('rewires dependencies on a merged step to the step it merged into', () => {
    const steps = [...chain, node('step-4', { skill: 'provision_compute', depends_on: ['step-3'] })];
    const { nodes } = collapseSteps(steps);
    expect(nodes.map((n) => [n.id, n.depends_on])).toEqual([
      ['step-1', []],
      ['step-4', ['step-1']],
    ]);
  });

  it('leaves everything alone when disabled, and merges across skills when over-merging', () => {
    expect(collapseSteps(chain, 'disabled')).toEqual({ nodes: chain, step_collapse: null });
    const mixed = [
      node('step-1', { skill: 'provision_network' }),
      node('step-2', { skill: 'provision_database', depends_on: ['step-1'] }, { region: 'us-west-1' }),
    ];
    expect(collapseSteps(mixed, 'over_merge').nodes).toHaveLength(1);
  });

  it('does not mutate its input', () => {
    const copy = structuredClone(chain);
    collapseSteps(chain);
    expect(chain).toEqual(copy);
    expect(fingerprint(chain[0]!)).toBe('base|us-east-1|vc2-1c-1gb');
  });
});
