import { describe, expect, it } from 'vitest';
import { parseConfig, PROFILES } from '../../helpers/config';
import { ALL_VARIANTS, allVariantsSettings, displaySettings, referenceCommands, shellQuote, VARIANT_SETTINGS, variantSettings } from './variants';

describe('variant settings', () => {
  it('covers every variable of the powernode-core profile, each once, and every variant', () => {
    const used = Object.values(VARIANT_SETTINGS).flatMap((s) => s.profile);
    expect([...used].sort()).toEqual(Object.keys(PROFILES['powernode-core']).sort());
    expect(new Set(used).size).toBe(used.length);
    expect(Object.keys(VARIANT_SETTINGS)).toEqual(ALL_VARIANTS);
  });

  it("takes a variant's values from the profile, and the reference's command where the profile has none", () => {
    expect(variantSettings('paywall_in_chat', '/s')).toEqual({ PAYWALL_SOURCE: 'chat', UPGRADE_REASON_INSTANCES: 'max_active_instances_exceeded' });
    expect(variantSettings('log_journald', '/s')).toEqual({ BACKEND_LOG_FORMAT: 'journald', BACKEND_LOG_COMMAND: "cat '/s/logs/backend.journal'" });
    expect(variantSettings('worker_command', '/s').WORKER_STATE_COMMAND).toMatch(/--import tsx '.*\/reference\/scripts\/worker-state\.ts'$/);
  });

  it('sets the same suite for all variants as the twelve settings together', () => {
    const together = Object.assign({}, ...ALL_VARIANTS.map((v) => variantSettings(v, '/s'))) as Record<string, string>;
    const { TARGET_PROFILE: _profile, ...rest } = parseConfig(allVariantsSettings('/s'));
    const { TARGET_PROFILE: _default, ...merged } = parseConfig(together);
    expect(rest).toEqual(merged);
  });

  it('shows settings the same on every machine', () => {
    expect(displaySettings({ ...variantSettings('log_journald', '/tmp/run/stack'), ...variantSettings('worker_command', '/tmp/run/stack') }, '/tmp/run/stack')).toEqual({
      BACKEND_LOG_FORMAT: 'journald',
      BACKEND_LOG_COMMAND: "cat '<STACK_DIR>/logs/backend.journal'",
      METER_JOB_NAME: 'BillingProvisioningMeterJob',
      WORKER_STATE_COMMAND: "node --import tsx 'reference/scripts/worker-state.ts'",
    });
  });

  it('quotes a path with blanks and quotes for the shell', () => {
    expect(shellQuote("/tmp/a b/it's")).toBe(`'/tmp/a b/it'\\''s'`);
    expect(referenceCommands('/tmp/a b').BACKEND_LOG_COMMAND).toBe("cat '/tmp/a b/logs/backend.journal'");
  });
});
