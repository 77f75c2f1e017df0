import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { configuredSecrets, forgetRunSecrets, readRunSecrets, recordRunSecret, secretValues } from './secrets';

describe('the run\'s secrets', () => {
  it('lists the configured secret values the scanner and redaction must look for', () => {
    const config = parseConfig({ VULTR_API_KEY: 'vk_real_looking_key_123' });
    expect(secretValues(config)).toContain('vk_real_looking_key_123');
    expect(secretValues(config)).toContain('sk_test_m1_reference');
    expect(configuredSecrets(config).map((s) => s.name)).toEqual(['VULTR_API_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'INTERNAL_API_TOKEN']);
  });

  it('keeps the secrets a run makes up until the scan forgets them', () => {
    const runId = `unit${process.pid}`;
    recordRunSecret(runId, 'a generated password', 'E2e-generated-pass!');
    expect(readRunSecrets(runId)).toEqual([{ name: 'a_generated_password', value: 'E2e-generated-pass!' }]);
    forgetRunSecrets(runId);
    expect(readRunSecrets(runId)).toEqual([]);
  });
});
