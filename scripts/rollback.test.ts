import { describe, expect, it } from 'vitest';
import type { RollbackReport } from '../helpers/run/rollback';
import { parseDuration, parseRollbackArgs, restoreSharedState, rollbackJson, rollbackJsonSchema } from './rollback';

describe('rollback command line', () => {
  it('reads --run-id, --older-than, --dry-run and --json, in both spellings', () => {
    expect(parseRollbackArgs(['--run-id', 'mabc1234'])).toEqual({ ok: true, args: { help: false, selector: { kind: 'run', runId: 'mabc1234' }, dryRun: false, json: false } });
    expect(parseRollbackArgs(['--older-than=2h', '--dry-run'])).toEqual({ ok: true, args: { help: false, selector: { kind: 'older-than', ageMs: 7_200_000 }, dryRun: true, json: false } });
    expect(parseRollbackArgs(['--older-than', '0m', '--json'])).toMatchObject({ ok: true, args: { selector: { ageMs: 0 }, json: true } });
    expect(parseRollbackArgs(['--help'])).toEqual({ ok: true, args: { help: true } });
  });

  it("sweeps this checkout's runs with --older-than, every run only with --all-runs", () => {
    // No runIds: the command fills in the runs the run state knows (runsStartedHere).
    expect(parseRollbackArgs(['--older-than', '2h'])).toMatchObject({ ok: true, args: { selector: { kind: 'older-than', ageMs: 7_200_000 } } });
    expect(parseRollbackArgs(['--older-than', '2h'])).not.toMatchObject({ args: { selector: { runIds: 'all' } } });
    expect(parseRollbackArgs(['--older-than', '2h', '--all-runs'])).toMatchObject({ ok: true, args: { selector: { kind: 'older-than', runIds: 'all' } } });
    expect(parseRollbackArgs(['--run-id', 'abcd1234', '--all-runs'])).toEqual({ ok: false, message: '--all-runs goes with --older-than' });
  });

  it('explains every bad invocation', () => {
    const bad = (argv: string[]) => {
      const parsed = parseRollbackArgs(argv);
      return parsed.ok ? 'accepted' : parsed.message;
    };
    expect(bad([])).toMatch(/--run-id <id> or --older-than <age>/);
    expect(bad(['--run-id'])).toMatch(/--run-id expects a value, e.g. --run-id=/);
    expect(bad(['--run-id', '--dry-run'])).toMatch(/expects a value/);
    expect(bad(['--run-id', 'Bad Id!'])).toMatch(/lower-case/);
    expect(bad(['--older-than', '2 hours'])).toMatch(/unit/);
    expect(bad(['--older-than', '-1h'])).toMatch(/expects a value|unit/);
    expect(bad(['--run-id', 'abcd1234', '--older-than', '1h'])).toMatch(/not both/);
    expect(bad(['--force'])).toMatch(/unknown argument "--force"/);
    expect(bad(['abcd1234'])).toMatch(/unknown argument "abcd1234"/);
    expect(bad(['--dry-run=yes', '--run-id', 'abcd1234'])).toMatch(/takes no value/);
  });

  it('parses durations', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('45s')).toBe(45_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('2x')).toBeNull();
  });
});

describe('rollback --json', () => {
  const report = (over: Partial<RollbackReport>): RollbackReport => ({
    selector: { kind: 'older-than', ageMs: 0 },
    dryRun: false,
    accounts: [
      { id: 'a1', email: 'e2e+run1-funnel-w0r0t0-abc@e2e.powernode.test' },
      { id: 'a2', email: 'e2e+run1-negative-w1r0t0-def@e2e.powernode.test' },
    ],
    cloudInstances: [],
    nodeInstances: 0,
    usageRecords: 0,
    kept: [],
    problems: [],
    ...over,
  });

  it('says per account and instance what was done, with the counts and the errors', () => {
    const json = rollbackJson(
      report({
        cloudInstances: [
          { id: 'v1', accountId: 'a1', foundVia: ['db', 'tag'], keys: ['VULTR_API_KEY'], outcome: 'deleted' },
          { id: 'v2', accountId: 'a1', foundVia: ['tag'], keys: ['VULTR_ISOLATION_API_KEY'], outcome: 'already_gone' },
          { id: 'v3', accountId: 'a2', foundVia: ['db'], keys: ['VULTR_API_KEY'], outcome: 'failed', error: 'Vultr DELETE answered 500' },
        ],
        nodeInstances: 2,
        usageRecords: 1,
      }),
    );
    expect(rollbackJsonSchema.parse(JSON.parse(JSON.stringify(json)))).toEqual(json);
    expect(json.accounts.map((a) => [a.id, a.instances.map((i) => `${i.id}:${i.outcome}:${i.keys.join('+')}`)])).toEqual([
      ['a1', ['v1:deleted:VULTR_API_KEY', 'v2:already_gone:VULTR_ISOLATION_API_KEY']],
      ['a2', ['v3:failed:VULTR_API_KEY']],
    ]);
    expect(json.counts).toEqual({ accounts: 2, instances: { deleted: 1, already_gone: 1, would_delete: 0, failed: 1, unknown: 0 }, nodeInstances: 2, usageRecords: 1 });
    expect(json.errors).toEqual(['deleting Vultr instance v3: Vultr DELETE answered 500']);
    expect(json.nothingToDo).toBe(false);
  });

  it('a second rollback has nothing to do: no rows, every instance already gone', () => {
    expect(rollbackJson(report({})).nothingToDo).toBe(true);
    expect(rollbackJson(report({ cloudInstances: [{ id: 'v1', accountId: 'a1', foundVia: ['tag'], keys: ['VULTR_API_KEY'], outcome: 'already_gone' }] })).nothingToDo).toBe(true);
    expect(rollbackJson(report({ nodeInstances: 1 })).nothingToDo).toBe(false);
  });
});

describe('restoring shared state a killed run left changed', () => {
  function target() {
    const rows = [
      { id: 'c1', is_active: false, account_id: null, provider_id: 'p', scope: 1, consecutive_failures: 0, last_error: null },
      { id: 'c2', is_active: false, account_id: null, provider_id: 'p', scope: 1, consecutive_failures: 0, last_error: null },
    ];
    const queries = {
      platformPoolCredentials: async () => rows.map((r) => ({ ...r })),
      setCredentialsActive: async (ids: string[], active: boolean) => {
        for (const r of rows) if (ids.includes(r.id)) r.is_active = active;
        return ids.length;
      },
    };
    const undone: string[] = [];
    const ledger = {
      pending: (runId: string) => (runId === 'killed1' && undone.length === 0 ? [{ kind: 'platform_pool_disabled' as const, credentialIds: ['c1'], at: '2026-12-07T10:00:00Z' }] : []),
      undone: (runId: string) => void undone.push(runId),
      runs: () => ['other1', 'killed1'],
    };
    return { rows, queries, ledger, undone };
  }

  it("switches the run's credential back on, records it, and only that one", async () => {
    const t = target();
    const restored = await restoreSharedState({ kind: 'older-than', ageMs: 0 }, t.queries, false, t.ledger);
    expect(restored).toEqual({ done: [{ runId: 'killed1', kind: 'platform_pool_disabled', credentialIds: ['c1'] }], failures: [] });
    expect(t.rows.map((r) => r.is_active)).toEqual([true, false]);
    expect(t.undone).toEqual(['killed1']);
    expect((await restoreSharedState({ kind: 'older-than', ageMs: 0 }, t.queries, false, t.ledger)).done).toEqual([]);
  });

  it('changes nothing in a dry run, and looks only at the named run with --run-id', async () => {
    const t = target();
    expect((await restoreSharedState({ kind: 'older-than', ageMs: 0 }, t.queries, true, t.ledger)).done).toHaveLength(1);
    expect(t.rows[0]?.is_active).toBe(false);
    expect((await restoreSharedState({ kind: 'run', runId: 'other1' }, t.queries, false, t.ledger)).done).toEqual([]);
  });
});

