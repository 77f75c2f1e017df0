import { describe, expect, it } from 'vitest';
import { formatRollbackReport, type RollbackReport } from '../helpers/rollback';
import { formatSummary, killPoint, missedWindow, nothingToDo, parseArgs, parseRollbackOutput, PORTS, stackEnv, suiteEnv } from './interrupted-run';

describe('parseArgs', () => {
  it('runs both scenarios by default', () => {
    expect(parseArgs([])).toEqual({ ok: true, options: { scenarios: ['sigint', 'sigkill'], keepStack: false, help: false } });
  });

  it.each([
    [['--scenario=sigint'], ['sigint']],
    [['--scenario', 'sigkill'], ['sigkill']],
    [['--scenario=both'], ['sigint', 'sigkill']],
  ])('%j selects %j', (argv, scenarios) => {
    expect(parseArgs(argv)).toMatchObject({ ok: true, options: { scenarios } });
  });

  it('takes --keep-stack with a scenario', () => {
    expect(parseArgs(['--keep-stack', '--scenario=sigkill'])).toEqual({ ok: true, options: { scenarios: ['sigkill'], keepStack: true, help: false } });
  });

  it('answers --help', () => {
    expect(parseArgs(['--help'])).toMatchObject({ ok: true, options: { help: true } });
    expect(parseArgs(['-h'])).toMatchObject({ ok: true, options: { help: true } });
  });

  it.each([
    [['--scenario=sigterm'], /sigint, sigkill or both; got "sigterm"/],
    [['--scenario'], /needs a value/],
    [['--scenario='], /needs a value/],
    [['--scenario', '--keep-stack'], /needs a value/],
    [['--scenario=sigint', '--scenario=sigkill'], /given twice/],
    [['--keep-stack=1'], /takes no value/],
    [['--fast'], /unknown argument "--fast"/],
    [['sigint'], /unknown argument "sigint"/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseArgs(argv);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

describe('killPoint and missedWindow', () => {
  const row = (status: string, provider: string | null = null) => ({ id: `n-${status}`, status, provider_instance_id: provider });

  it('SIGINT goes as soon as provisioning has begun, Vultr id or not', () => {
    expect(killPoint('sigint', [])).toBeUndefined();
    expect(killPoint('sigint', [row('provisioning')])?.status).toBe('provisioning');
    expect(killPoint('sigint', [row('running', 'v1'), row('pending')])?.status).toBe('pending');
  });

  it('SIGKILL waits until the Vultr instance exists', () => {
    expect(killPoint('sigkill', [row('provisioning')])).toBeUndefined();
    expect(killPoint('sigkill', [row('starting')])).toBeUndefined();
    expect(killPoint('sigkill', [row('starting', 'v1')])?.provider_instance_id).toBe('v1');
  });

  it('the window is missed once every row is past provisioning', () => {
    expect(missedWindow([])).toBe(false);
    expect(missedWindow([row('starting', 'v1')])).toBe(false);
    expect(missedWindow([row('running', 'v1')])).toBe(true);
    expect(missedWindow([row('error')])).toBe(true);
  });
});

describe('parseRollbackOutput', () => {
  const report = (over: Partial<RollbackReport>): RollbackReport => ({
    selector: { kind: 'older-than', ageMs: 0 },
    dryRun: false,
    accounts: [{ id: 'a1', email: 'e2e+run1-funnel-w0r0t0-abc@e2e.powernode.test' }],
    cloudInstances: [],
    nodeInstances: 0,
    usageRecords: 0,
    problems: [],
    ...over,
  });

  it('reads what rollback printed', () => {
    const text = formatRollbackReport(
      report({
        cloudInstances: [
          { id: 'v1', accountId: 'a1', foundVia: ['db', 'tag'], outcome: 'deleted' },
          { id: 'v2', accountId: 'a1', foundVia: ['tag'], outcome: 'already_gone' },
        ],
        nodeInstances: 1,
        usageRecords: 1,
      }),
    );
    expect(parseRollbackOutput(text)).toEqual({ accounts: 1, cloudOutcomes: ['deleted', 'already gone'], nodeInstances: 1, usageRecords: 1 });
  });

  it('a rollback with nothing left finds nothing to do', () => {
    const summary = parseRollbackOutput(formatRollbackReport(report({})));
    expect(summary).toEqual({ accounts: 1, cloudOutcomes: [], nodeInstances: 0, usageRecords: 0 });
    expect(nothingToDo(summary!)).toBe(true);
  });

  it('an instance deleted, a row or a usage record means there was something to do', () => {
    const base = { accounts: 1, cloudOutcomes: [], nodeInstances: 0, usageRecords: 0 };
    expect(nothingToDo({ ...base, cloudOutcomes: ['already gone'] })).toBe(true);
    expect(nothingToDo({ ...base, cloudOutcomes: ['deleted'] })).toBe(false);
    expect(nothingToDo({ ...base, nodeInstances: 1 })).toBe(false);
    expect(nothingToDo({ ...base, usageRecords: 1 })).toBe(false);
  });

  it('reads the dry-run wording too', () => {
    const text = formatRollbackReport(report({ dryRun: true, cloudInstances: [{ id: 'v1', accountId: 'a1', foundVia: ['tag'], outcome: 'would_delete' }] }));
    expect(parseRollbackOutput(text)?.cloudOutcomes).toEqual(['would delete']);
  });

  it('gives null for output it does not recognise', () => {
    expect(parseRollbackOutput('')).toBeNull();
    expect(parseRollbackOutput('config: DATABASE_URL: expects a postgres:// URL')).toBeNull();
    // A listed count that disagrees with the instance lines is not trusted either.
    expect(parseRollbackOutput(formatRollbackReport(report({})).replace('Vultr instances: 0', 'Vultr instances: 2'))).toBeNull();
  });
});

describe('environment', () => {
  it('points the stack and the suite at the script’s own ports and directory', () => {
    const stack = stackEnv('/tmp/x/stack');
    expect(stack).toMatchObject({
      BASE_URL: `http://127.0.0.1:${PORTS.base}`,
      VULTR_API_URL: `http://127.0.0.1:${PORTS.vultr}/v2`,
      STRIPE_API_BASE: `http://127.0.0.1:${PORTS.stripe}`,
      WORKER_HEALTH_URL: `http://127.0.0.1:${PORTS.worker}/health`,
      STACK_PG_PORT: String(PORTS.postgres),
      STACK_DIR: '/tmp/x/stack',
    });
    // The stack must not see DATABASE_URL: set, it would use that server instead of its own Postgres.
    expect(stack).not.toHaveProperty('DATABASE_URL');
    expect(suiteEnv('/tmp/x/stack')).toMatchObject({
      DATABASE_URL: `postgres://m1:m1@127.0.0.1:${PORTS.postgres}/m1_reference`,
      BACKEND_LOG_FILE: '/tmp/x/stack/logs/backend.log',
      START_STACK: 'never',
    });
  });

  it('stays within ports 4221-4229', () => {
    for (const port of Object.values(PORTS)) {
      expect(port).toBeGreaterThanOrEqual(4221);
      expect(port).toBeLessThanOrEqual(4229);
    }
  });
});

describe('formatSummary', () => {
  it('says PASS or FAIL per scenario and names each failed check', () => {
    const text = formatSummary([
      { name: 'sigint', runId: 'intri1', seconds: 30.04, checks: [{ name: 'a', ok: true }] },
      { name: 'sigkill', runId: 'intrk1', seconds: 20, checks: [{ name: 'a', ok: true }, { name: 'no instance left', ok: false, detail: 'v1' }] },
      { name: 'stack stop', seconds: 1, checks: [] },
    ]);
    expect(text).toContain('sigint      PASS  (run intri1, 1/1 checks, 30.0 s)');
    expect(text).toContain('sigkill     FAIL  (run intrk1, 1/2 checks, 20.0 s)');
    expect(text).toContain('✗ no instance left: v1');
    // No checks at all is not a pass.
    expect(text).toContain('stack stop  FAIL');
  });
});
