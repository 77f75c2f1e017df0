import { describe, expect, it } from 'vitest';
import { rollbackJson } from '../scripts/rollback';
import { formatSummary, killPoint, missedWindow, parseArgs, PORTS, UsageError } from './interrupted-run';
import { rolledBack } from './interrupted-run-probes';

describe('parseArgs', () => {
  it('runs every scenario by default', () => {
    expect(parseArgs([])).toEqual({ scenarios: ['sigint', 'sigkill', 'pool-off'], keepStack: false, help: false });
  });

  it.each([
    [['--scenario=sigint'], ['sigint']],
    [['--scenario', 'sigkill'], ['sigkill']],
    [['--scenario=pool-off'], ['pool-off']],
    [['--scenario=all'], ['sigint', 'sigkill', 'pool-off']],
    [['--scenario=both'], ['sigint', 'sigkill', 'pool-off']],
  ])('%j selects %j', (argv, scenarios) => {
    expect(parseArgs(argv)).toMatchObject({ scenarios });
  });

  it('takes --keep-stack with a scenario', () => {
    expect(parseArgs(['--keep-stack', '--scenario=sigkill'])).toEqual({ scenarios: ['sigkill'], keepStack: true, help: false });
  });

  it('answers --help', () => {
    expect(parseArgs(['--help'])).toMatchObject({ help: true });
    expect(parseArgs(['-h'])).toMatchObject({ help: true });
  });

  it.each([
    [['--scenario=sigterm'], /sigint, sigkill, pool-off or all; got "sigterm"/],
    [['--scenario'], /expects a value/],
    [['--scenario='], /expects a value/],
    [['--scenario', '--keep-stack'], /expects a value/],
    [['--scenario=sigint', '--scenario=sigkill'], /given twice/],
    [['--keep-stack=1'], /takes no value/],
    [['--fast'], /unknown argument "--fast"/],
    [['sigint'], /unknown argument "sigint"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
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

describe('environment', () => {
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

describe('rolledBack', () => {
  it('says in one line what a rollback did', () => {
    const summary = rollbackJson({
      selector: { kind: 'older-than', ageMs: 0 },
      dryRun: false,
      accounts: [{ id: 'a1', email: 'e2e+run1-funnel-w0r0t0-abc@e2e.powernode.test' }],
      cloudInstances: [{ id: 'v1', accountId: 'a1', foundVia: ['db', 'tag'], keys: ['VULTR_API_KEY'], outcome: 'deleted' }],
      nodeInstances: 1,
      usageRecords: 1,
      kept: [],
      problems: [],
    });
    expect(rolledBack(summary)).toBe('1 account(s); Vultr instances: 1 deleted; 1 NodeInstance(s) and 1 usage record(s) deleted');
    expect(rolledBack({ ...summary, counts: { ...summary.counts, instances: { deleted: 0, already_gone: 0, would_delete: 0, failed: 0, unknown: 0 } } })).toContain('Vultr instances: none');
  });
});
