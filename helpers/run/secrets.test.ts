import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config';
import { configuredSecrets, forgetRunSecrets, readRunSecrets, recordRunSecret, SECRET_VARIABLES, secretValues } from './secrets';

describe('the run\'s secrets', () => {
  it('lists the configured secret values the scanner and redaction must look for', () => {
    const config = parseConfig({ VULTR_API_KEY: 'vk_real_looking_key_123' });
    expect(secretValues(config)).toContain('vk_real_looking_key_123');
    expect(secretValues(config)).toContain('sk_test_m1_reference');
    expect(configuredSecrets(config).map((s) => s.name)).toEqual(['VULTR_API_KEY', 'STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET', 'INTERNAL_API_TOKEN', 'VULTR_ISOLATION_API_KEY']);
  });

  it('counts the account-isolation key as a secret when one is configured, and nothing when none is', () => {
    const remote = { BASE_URL: 'https://dev.powernode.example.com', VULTR_API_URL: 'https://api.vultr.com/v2', ALLOW_REMOTE_TARGET: '1' };
    expect(secretValues(parseConfig({ ...remote, VULTR_ISOLATION_API_KEY: 'VULTRISOLATIONKEY0000000000000000000' }))).toContain('VULTRISOLATIONKEY0000000000000000000');
    expect(configuredSecrets(parseConfig(remote)).map((s) => s.name)).not.toContain('VULTR_ISOLATION_API_KEY');
  });

  it("counts the database's password as a secret when it has one worth the name", () => {
    const config = parseConfig({ DATABASE_URL: 'postgres://qa:s3cret%2Fpassw0rd@127.0.0.1:5432/powernode' });
    expect(configuredSecrets(config).at(-1)).toEqual({ name: 'DATABASE_URL (its password)', value: 's3cret/passw0rd' });
  });

  it('gives the CI merge job the same secret list as the shards: the workflow sets them once, for every job', () => {
    const workflow = readFileSync('.github/workflows/e2e.yml', 'utf8');
    const topLevelEnv = /^env:\n((?: {2}.*\n)+)/m.exec(workflow)?.[1] ?? '';
    for (const name of SECRET_VARIABLES) {
      expect(topLevelEnv, `${name} in the workflow's top-level env`).toMatch(new RegExp(`^  ${name}: \\$\\{\\{ secrets\\.${name} \\}\\}$`, 'm'));
      // Set nowhere else: a job-level value would give one job a different list.
      expect(workflow.match(new RegExp(`^\\s+${name}:`, 'gm'))?.length, name).toBe(1);
    }
  });

  it('keeps the secrets a run makes up until the scan forgets them', () => {
    const runId = `unit${process.pid}`;
    recordRunSecret(runId, 'a generated password', 'E2e-generated-pass!');
    expect(readRunSecrets(runId)).toEqual([{ name: 'a_generated_password', value: 'E2e-generated-pass!' }]);
    forgetRunSecrets(runId);
    expect(readRunSecrets(runId)).toEqual([]);
  });
});
