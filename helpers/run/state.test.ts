import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pendingSharedChanges, recordSharedChange, recordSharedChangeUndone, runsStartedHere, recordRunStart } from './state';

const runId = () => `t${randomBytes(5).toString('hex')}`;

describe('the run state ledger of shared changes', () => {
  it('keeps what was made and not undone, so rollback can put it back after a killed run', () => {
    const id = runId();
    expect(pendingSharedChanges(id)).toEqual([]);
    recordSharedChange(id, { kind: 'platform_pool_disabled', credentialIds: ['c1', 'c2'], at: '2026-12-07T10:00:00.000Z' });
    expect(pendingSharedChanges(id)).toEqual([{ kind: 'platform_pool_disabled', credentialIds: ['c1', 'c2'], at: '2026-12-07T10:00:00.000Z' }]);
    recordSharedChangeUndone(id, { kind: 'platform_pool_disabled', credentialIds: ['c1'] });
    expect(pendingSharedChanges(id)[0]?.credentialIds).toEqual(['c2']);
    recordSharedChangeUndone(id, { kind: 'platform_pool_disabled', credentialIds: ['c2'] });
    expect(pendingSharedChanges(id)).toEqual([]);
  });

  it("lists a run as this checkout's once its start is recorded", () => {
    const id = runId();
    expect(runsStartedHere()).not.toContain(id);
    recordRunStart(id);
    expect(runsStartedHere()).toContain(id);
  });
});
