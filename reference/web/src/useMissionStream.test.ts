import { describe, expect, it } from 'vitest';
import { pillText } from './components/ExecutionPill';
import { applySnapshot, applyStep, isTerminal, type Execution } from './useMissionStream';

describe('execution state', () => {
  const snapshot = {
    mission: { id: 'm1', phase: 'execute', status: 'running' as const },
    steps: [
      { step_id: 's2', skill: 'provision_network', position: 2, status: 'pending' as const },
      { step_id: 's1', skill: 'provision_full_stack', position: 1, status: 'running' as const },
    ],
  };

  it('orders snapshot steps by position', () => {
    const execution = applySnapshot('m1', snapshot);
    expect(execution.steps.map((s) => s.step_id)).toEqual(['s1', 's2']);
    expect(execution.status).toBe('running');
  });

  it('moves one step without touching the others', () => {
    const execution = applyStep(applySnapshot('m1', snapshot), { step_id: 's1', status: 'completed' });
    expect(execution.steps.map((s) => s.status)).toEqual(['completed', 'pending']);
  });

  it('keeps a step it had not heard of', () => {
    const execution = applyStep(applySnapshot('m1', snapshot), { step_id: 's9', status: 'running' });
    expect(execution.steps).toHaveLength(3);
  });

  it('knows which statuses end a mission', () => {
    expect(isTerminal('completed')).toBe(true);
    expect(isTerminal('failed')).toBe(true);
    expect(isTerminal('running')).toBe(false);
  });
});

describe('pill text', () => {
  const base: Execution = {
    missionId: 'm1',
    status: 'running',
    steps: [
      { step_id: 's1', skill: 'a', status: 'completed' },
      { step_id: 's2', skill: 'b', status: 'running' },
    ],
  };

  it('counts completed steps while running', () => {
    expect(pillText(base)).toBe('Provisioning… 1 of 2 steps');
  });

  it('says when provisioning finished or failed', () => {
    expect(pillText({ ...base, status: 'completed' })).toBe('Provisioned · 2 of 2 steps');
    expect(pillText({ ...base, status: 'failed' })).toBe('Provisioning failed · 1 of 2 steps');
  });
});
