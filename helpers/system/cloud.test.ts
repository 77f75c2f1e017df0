import { describe, expect, it } from 'vitest';
import { footprintProblem } from './cloud';

const instance = (id: string) => ({ id, status: 'active', power_status: 'running', region: 'ewr', plan: 'vc2-1c-1gb', tags: [] });

describe('footprintProblem', () => {
  it('holds when the account has the instances it should and no create call', () => {
    expect(footprintProblem({ instances: [instance('i1')], createCalls: [] }, 1)).toBeNull();
    expect(footprintProblem({ instances: [], createCalls: null }, 0)).toBeNull();
  });

  it('names an extra instance and every create call the journal attributes to the account', () => {
    expect(footprintProblem({ instances: [instance('i1'), instance('i2')], createCalls: [] }, 1)).toBe('2 instance(s) at Vultr for the account (i1, i2), expected 1');
    expect(
      footprintProblem({ instances: [], createCalls: [{ method: 'POST', path: '/v2/instances', status: 202, time: '2026-01-01T10:00:00Z', tags: ['powernode'] }] }, 0),
    ).toBe('1 create call(s) the emulator journal attributes to the account: 202 at 2026-01-01T10:00:00Z [powernode]');
  });
});
