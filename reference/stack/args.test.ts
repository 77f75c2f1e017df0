import { describe, expect, it } from 'vitest';
import { parseArgs, USAGE, UsageError } from './args';

describe('parseArgs', () => {
  it('defaults to a plain start with no fault flag', () => {
    expect(parseArgs([])).toEqual({ faults: undefined, variants: undefined, fresh: false, stop: false, forget: false, help: false, listVariants: false });
  });

  it('reads --fresh, --faults=a,b and --faults a,b', () => {
    expect(parseArgs(['--fresh', '--faults=quota_guard_disabled,cost_730h'])).toMatchObject({
      fresh: true,
      faults: ['quota_guard_disabled', 'cost_730h'],
    });
    expect(parseArgs(['--faults', 'worker_not_started']).faults).toEqual(['worker_not_started']);
    expect(parseArgs(['--faults=']).faults).toEqual([]);
  });

  it('rejects an unknown fault, naming it', () => {
    expect(() => parseArgs(['--faults=cost_730h,nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--faults=cost_730h,nope'])).toThrow(/unknown fault\(s\): nope/);
  });

  it('rejects an unknown flag and a dangling --faults', () => {
    expect(() => parseArgs(['--frsh'])).toThrow(/unknown argument "--frsh"/);
    expect(() => parseArgs(['--faults'])).toThrow(/--faults expects a comma list/);
    expect(() => parseArgs(['--faults', '--fresh'])).toThrow(/--faults expects a comma list/);
  });

  it('takes --forget alone, and not with --stop', () => {
    expect(parseArgs(['--forget'])).toMatchObject({ forget: true, stop: false });
    expect(() => parseArgs(['--forget', '--fresh'])).toThrow('--forget takes no other flag');
    expect(() => parseArgs(['--stop', '--forget'])).toThrow('--forget already stops the stack');
  });

  it('reads --variants=a,b and --variants a,b beside --faults and --fresh', () => {
    expect(parseArgs(['--fresh', '--faults=cost_730h', '--variants=cost_730h,route_core'])).toMatchObject({
      fresh: true,
      faults: ['cost_730h'],
      variants: ['cost_730h', 'route_core'],
    });
    expect(parseArgs(['--variants', 'errors_flat']).variants).toEqual(['errors_flat']);
    expect(parseArgs(['--variants=']).variants).toEqual([]);
  });

  it('rejects an unknown variant, listing the known ones', () => {
    expect(() => parseArgs(['--variants=route_core,nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--variants=route_core,nope'])).toThrow(/unknown variant\(s\): nope; known: route_core, cost_730h, .*log_journald/);
    expect(() => parseArgs(['--variants'])).toThrow(/--variants expects a comma list/);
    expect(() => parseArgs(['--stop', '--variants=route_core'])).toThrow(/--stop takes no other flag/);
  });

  it('reads --list-variants', () => {
    expect(parseArgs(['--list-variants']).listVariants).toBe(true);
  });

  it('takes --stop alone', () => {
    expect(parseArgs(['--stop']).stop).toBe(true);
    expect(() => parseArgs(['--stop', '--fresh'])).toThrow(/--stop takes no other flag/);
  });

  it('documents every fault in --help', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(USAGE).toContain('instance_never_running');
  });
});
