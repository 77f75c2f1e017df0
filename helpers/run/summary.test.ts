import { describe, expect, it } from 'vitest';
import type { RollbackReport } from './rollback';
import { formatRunSummary, parseSummary, summarizeRollback, type RollbackSummary } from './summary';

const report = (over: Partial<RollbackReport> = {}): RollbackReport => ({
  selector: { kind: 'run', runId: 'r1' },
  dryRun: false,
  accounts: [],
  cloudInstances: [],
  nodeInstances: 0,
  usageRecords: 0,
  kept: [],
  problems: [],
  ...over,
});

const account = (n: number) => ({ id: `a${n}`, email: `e2e+r1-${n}@e2e.powernode.test` });

describe('summarizeRollback', () => {
  it('keeps counts and instance ids, never e-mails, and turns failed deletions into problems', () => {
    const summary = summarizeRollback(
      report({
        accounts: [account(1)],
        cloudInstances: [
          { id: 'i1', accountId: 'a1', foundVia: ['db'], keys: ['VULTR_API_KEY'], outcome: 'deleted' },
          { id: 'i2', accountId: 'a1', foundVia: ['tag'], keys: ['VULTR_API_KEY'], outcome: 'failed', error: '503' },
        ],
        nodeInstances: 2,
        usageRecords: 1,
      }),
      'test',
    );
    expect(summary).toEqual({
      scope: 'test',
      accounts: 1,
      instances: [
        { id: 'i1', outcome: 'deleted' },
        { id: 'i2', outcome: 'failed' },
      ],
      nodeInstances: 2,
      usageRecords: 1,
      problems: ['Vultr instance i2 not deleted: 503'],
    });
    expect(JSON.stringify(summary)).not.toContain('@');
  });

  it('names the rows rollback kept because their VM is not confirmed gone, and the instance it never saw', () => {
    const summary = summarizeRollback(
      report({
        cloudInstances: [{ id: 'i3', accountId: 'a1', foundVia: ['db'], keys: [], outcome: 'unknown', error: '404 for an id never seen' }],
        kept: [{ nodeInstanceId: 'n1', accountId: 'a1', providerInstanceId: 'i3', status: 'running', reason: 'Vultr instance i3 unknown' }],
      }),
      'run',
    );
    expect(summary.problems).toEqual(['Vultr instance i3 not deleted: 404 for an id never seen', 'NodeInstance n1 (Vultr i3) kept: Vultr instance i3 unknown']);
    const lines = formatRunSummary('r1', { testsRun: 3, summaries: [summary] }, false);
    expect(lines.at(-2)).toContain('may have left behind: Vultr instance i3; Vultr instance i3 not deleted');
    expect(lines.at(-1)).toBe('  clean up with: npm run rollback -- --run-id r1');
  });

  it("counts an instance of the isolation key's Vultr account once, beside the pool's, and keeps the keys out", () => {
    const summary = summarizeRollback(
      report({
        accounts: [account(1), account(2)],
        cloudInstances: [
          { id: 'i1', accountId: 'a1', foundVia: ['db', 'tag'], keys: ['VULTR_API_KEY'], outcome: 'deleted' },
          { id: 'i4', accountId: 'a2', foundVia: ['db', 'tag'], keys: ['VULTR_ISOLATION_API_KEY'], outcome: 'deleted' },
        ],
        nodeInstances: 2,
      }),
      'run',
    );
    expect(formatRunSummary('r1', { testsRun: 2, summaries: [summary] }, false).slice(0, 2)).toEqual([
      'run r1 created: 2 test accounts, 2 Vultr instances, 2 NodeInstances, 0 usage records',
      'run r1 cleaned up: 2 Vultr instances destroyed, 2 NodeInstances and 0 usage records deleted (spend reset)',
    ]);
  });
});

describe('parseSummary', () => {
  it('reads back what summarizeRollback wrote and refuses anything else', () => {
    const summary = summarizeRollback(report({ accounts: [account(1)] }), 'run');
    expect(parseSummary(JSON.stringify(summary))).toEqual(summary);
    for (const junk of ['', 'not json', '{}', '{"scope":"all","instances":[],"problems":[]}', '{"scope":"run","instances":[],"problems":[],"accounts":"1"}']) {
      expect(parseSummary(junk), junk).toBeNull();
    }
  });
});

describe('formatRunSummary', () => {
  const perTest: RollbackSummary = { scope: 'test', accounts: 1, instances: [{ id: 'i1', outcome: 'deleted' }], nodeInstances: 1, usageRecords: 0, problems: [] };
  const final: RollbackSummary = { scope: 'run', accounts: 5, instances: [{ id: 'i2', outcome: 'deleted' }], nodeInstances: 1, usageRecords: 1, problems: [] };

  it('adds up per-test cleanups and the final rollback, taking the accounts from the final rollback', () => {
    expect(formatRunSummary('r1', { testsRun: 20, summaries: [perTest, final] }, false)).toEqual([
      'run r1 created: 5 test accounts, 2 Vultr instances, 2 NodeInstances, 1 usage record',
      'run r1 cleaned up: 2 Vultr instances destroyed, 2 NodeInstances and 1 usage record deleted (spend reset)',
      'run r1 left behind: nothing',
    ]);
  });

  it('names what may be left behind and how to clean it when a deletion failed', () => {
    const failed: RollbackSummary = { ...final, instances: [{ id: 'i3', outcome: 'failed' }], problems: ['Vultr instance i3 not deleted: 503'] };
    const lines = formatRunSummary('r1', { testsRun: 20, summaries: [failed] }, false);
    expect(lines[2]).toBe('run r1 may have left behind: Vultr instance i3; Vultr instance i3 not deleted: 503');
    expect(lines[3]).toBe('  clean up with: npm run rollback -- --run-id r1');
  });

  it('says the final rollback did not run when the run was interrupted', () => {
    const lines = formatRunSummary('r1', { testsRun: 3, summaries: [perTest] }, true);
    expect(lines[0]).toBe('run r1 created: 1 test account, 1 Vultr instance, 1 NodeInstance, 0 usage records');
    expect(lines[2]).toContain('the final rollback did not run (the run was interrupted)');
    expect(lines[3]).toContain('npm run rollback -- --run-id r1');
  });

  it('says a run whose tests never ran created nothing (a stack that did not start)', () => {
    expect(formatRunSummary('r1', { testsRun: 0, summaries: [] }, false)).toEqual(['run r1: no test ran, so it created nothing']);
  });
});
