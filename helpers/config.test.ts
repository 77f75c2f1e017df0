import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, splitArgs } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseConfig', () => {
  it('defaults to the reference stack (CONTRACT section 1)', () => {
    const config = parseConfig({});
    expect(config.BASE_URL).toBe('http://127.0.0.1:3100');
    expect(config.VULTR_API_URL).toBe('http://127.0.0.1:3101/v2');
    expect(config.STRIPE_API_BASE).toBe('http://127.0.0.1:3102');
    expect(config.WORKER_HEALTH_URL).toBe('http://127.0.0.1:3103/health');
    expect(config.DATABASE_URL).toBe('postgres://m1:m1@127.0.0.1:54329/m1_reference');
    expect(config.EXPECTED_BOOTSTRAP_COUNTS).toEqual({ providers: 1, regions: 2, types: 3, templates: 7 });
    expect(config.EXPECTED_MONTHLY_COST_USD).toBe(5.04);
    expect(config.PROVISION_TIMEOUT_MS).toBe(90_000);
    expect(config.PROVISIONING_ROUTE).toBe('/new');
    expect(config.isLocalTarget).toBe(true);
  });

  it('expects Stripe to deliver to the backend\'s own webhook route unless STRIPE_WEBHOOK_URL says otherwise', () => {
    expect(parseConfig({ BASE_URL: 'http://127.0.0.1:4950/' }).STRIPE_WEBHOOK_URL).toBe('http://127.0.0.1:4950/api/v1/billing/stripe/webhook');
    expect(parseConfig({ STRIPE_WEBHOOK_URL: 'https://hooks.example.test/stripe' }).STRIPE_WEBHOOK_URL).toBe('https://hooks.example.test/stripe');
    expect(problemsOf({ STRIPE_WEBHOOK_URL: 'hooks' })[0]).toMatch(/^STRIPE_WEBHOOK_URL:/);
  });

  it('reads the plan limits and the required migrations the pre-flight checks against', () => {
    const config = parseConfig({ FREE_MONTHLY_PROVISIONING_USD: '25', REQUIRED_MIGRATIONS: '20260101000000,20260102000000' });
    expect(config).toMatchObject({ FREE_INSTANCE_LIMIT: 1, FREE_MONTHLY_PROVISIONING_USD: 25, PRO_CLOUD_INSTANCE_LIMIT: 50, PRO_CLOUD_MONTHLY_PROVISIONING_USD: 500 });
    expect(config.REQUIRED_MIGRATIONS).toEqual(['20260101000000', '20260102000000']);
    expect(parseConfig({}).REQUIRED_MIGRATIONS).toEqual(['0001', '0002', '0003', '0004']);
    expect(problemsOf({ REQUIRED_MIGRATIONS: '0001,,0002' })[0]).toMatch(/^REQUIRED_MIGRATIONS:/);
  });

  it('treats an empty value as unset', () => {
    expect(parseConfig({ BASE_URL: '', PROVISION_TIMEOUT_MS: '' }).PROVISION_TIMEOUT_MS).toBe(90_000);
  });

  it('absorbs the public Powernode differences as plain overrides', () => {
    const config = parseConfig({
      PROVISIONING_ROUTE: '/app/system/provision',
      EXPECTED_MONTHLY_COST_USD: '5.11',
      NODE_INSTANCE_PROVIDER_ID_SQL: "config->>'cloud_instance_id'",
      STEP_RUNNING_STATUS: 'executing',
    });
    expect(config.PROVISIONING_ROUTE).toBe('/app/system/provision');
    expect(config.EXPECTED_MONTHLY_COST_USD).toBe(5.11);
    expect(config.NODE_INSTANCE_PROVIDER_ID_SQL).toBe("config->>'cloud_instance_id'");
  });

  it('TARGET_PROFILE=powernode-core sets every difference at once; a variable set explicitly still wins', () => {
    const core = parseConfig({ TARGET_PROFILE: 'powernode-core' });
    expect(core).toMatchObject({
      PROVISIONING_ROUTE: '/app/system/provision',
      EXPECTED_MONTHLY_COST_USD: 5.11,
      EXPECTED_COST_LINE: 'us-east-1 tiny',
      EXPECTED_INSTANCE_TYPE: 'vc2-1c-1gb',
      NODE_INSTANCE_PROVIDER_ID_SQL: "config->>'cloud_instance_id'",
      MISSION_API: 'core',
      ERROR_ENVELOPE: 'flat',
      PAYWALL_SOURCE: 'chat',
      LOGIN_IDS: 'core',
      STEP_STATUS_SOURCE: 'stream',
      STEP_RUNNING_STATUS: 'executing',
      BRIEF_CARD_FORMAT: 'core',
      BACKEND_LOG_FORMAT: 'journald',
      METER_JOB_NAME: 'BillingProvisioningMeterJob',
    });
    const mixed = parseConfig({ TARGET_PROFILE: 'powernode-core', PAYWALL_SOURCE: 'approve_402', PROVISIONING_ROUTE: '' });
    expect(mixed.PAYWALL_SOURCE).toBe('approve_402');
    expect(mixed.PROVISIONING_ROUTE, 'an empty value takes the profile’s').toBe('/app/system/provision');
    expect(mixed.ERROR_ENVELOPE).toBe('flat');
  });

  it('TARGET_PROFILE=runbook (the default) is the schema’s defaults', () => {
    expect(parseConfig({ TARGET_PROFILE: 'runbook' })).toEqual(parseConfig({}));
    expect(parseConfig({})).toMatchObject({ MISSION_API: 'runbook', PAYWALL_SOURCE: 'approve_402', BACKEND_LOG_FORMAT: 'json', WORKER_STATE_COMMAND: '' });
  });

  it('refuses an unknown profile and an unknown dialect, naming the values it takes', () => {
    expect(problemsOf({ TARGET_PROFILE: 'powernode' })[0]).toBe('TARGET_PROFILE: expects runbook or powernode-core');
    expect(problemsOf({ PAYWALL_SOURCE: '402' })[0]).toBe('PAYWALL_SOURCE: expects approve_402 or chat');
  });

  it("refuses any value that still holds the profile file's placeholder, never echoing it", () => {
    const problems = problemsOf({ WORKER_STATE_COMMAND: 'ssh <FILL IN: worker host> rails runner x', VULTR_API_KEY: '<FILL IN: the key>' });
    expect(problems).toEqual([
      "VULTR_API_KEY: still holds the profile file's <FILL IN …> placeholder: replace it (see profiles/powernode-core.env)",
      "WORKER_STATE_COMMAND: still holds the profile file's <FILL IN …> placeholder: replace it (see profiles/powernode-core.env)",
    ]);
  });

  it('refuses a live Stripe key, naming the variable and never the value', () => {
    const problems = problemsOf({ STRIPE_SECRET_KEY: 'sk_live_supersecretvalue' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^STRIPE_SECRET_KEY: .*live key/);
    expect(problems.join('\n')).not.toContain('supersecretvalue');
  });

  it('refuses a restricted live key too', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: 'rk_live_abc' })[0]).toMatch(/^STRIPE_SECRET_KEY:/);
  });

  it('refuses something that is not a Stripe test key', () => {
    expect(problemsOf({ STRIPE_SECRET_KEY: 'hunter2' })[0]).toMatch(/^STRIPE_SECRET_KEY: expects .*sk_test_/);
  });

  it('refuses a malformed URL', () => {
    expect(problemsOf({ VULTR_API_URL: 'not a url' })[0]).toMatch(/^VULTR_API_URL: expects an http\(s\) URL/);
    expect(problemsOf({ BASE_URL: 'ftp://127.0.0.1' })[0]).toMatch(/^BASE_URL: expects an http\(s\) URL/);
  });

  it('refuses a non-numeric timeout', () => {
    expect(problemsOf({ PROVISION_TIMEOUT_MS: '90s' })[0]).toMatch(/^PROVISION_TIMEOUT_MS: expects a whole number of milliseconds/);
    expect(problemsOf({ PROVISION_TIMEOUT_MS: '0' })[0]).toMatch(/^PROVISION_TIMEOUT_MS: expects a positive number/);
  });

  it('refuses a DATABASE_URL that is not postgres', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://u:p@127.0.0.1/db' })[0]).toMatch(/^DATABASE_URL: expects a postgres:\/\//);
  });

  it('does not echo a DATABASE_URL password in its message', () => {
    expect(problemsOf({ DATABASE_URL: 'mysql://u:s3cretpw@127.0.0.1/db' }).join('\n')).not.toContain('s3cretpw');
  });

  it('refuses a non-loopback BASE_URL without ALLOW_REMOTE_TARGET=1', () => {
    expect(problemsOf({ BASE_URL: 'https://staging.powernode.example' })[0]).toMatch(/^BASE_URL: .*ALLOW_REMOTE_TARGET=1/);
    const config = parseConfig({ BASE_URL: 'https://staging.powernode.example', ALLOW_REMOTE_TARGET: '1', VULTR_API_URL: 'https://api.vultr.com/v2' });
    expect(config.isLocalTarget).toBe(false);
  });

  it('refuses a remote BASE_URL beside a local VULTR_API_URL: the suite would look at another cloud', () => {
    const remote = { BASE_URL: 'https://dev.powernode.example', ALLOW_REMOTE_TARGET: '1' };
    expect(problemsOf(remote)).toEqual([
      'VULTR_API_URL: is on this machine while BASE_URL (dev.powernode.example) is not; that backend creates VMs in its own Vultr account, so point VULTR_API_URL at it (https://api.vultr.com/v2)',
    ]);
    expect(problemsOf({ ...remote, VULTR_API_URL: 'https://api.vultr.com/v2' })).toEqual([]);
  });

  it('refuses a remote DATABASE_URL without ALLOW_REMOTE_TARGET=1, since the suite writes to it', () => {
    const remoteDb = { DATABASE_URL: 'postgres://qa:pw@db.dev.powernode.example:5432/powernode' };
    expect(problemsOf(remoteDb)).toEqual([
      'DATABASE_URL: points at a non-loopback host, and the suite writes to it (set-up rows, rollback); set ALLOW_REMOTE_TARGET=1 to allow it',
    ]);
    expect(problemsOf({ ...remoteDb, ALLOW_REMOTE_TARGET: '1' })).toEqual([]);
  });

  it("gives the account-isolation test the reference's second Vultr account on a local target only; a real target names its own or skips it", () => {
    expect(parseConfig({}).VULTR_ISOLATION_API_KEY).toBe('vk_test_isolation_account');
    expect(parseConfig({ VULTR_ISOLATION_API_KEY: '' }).VULTR_ISOLATION_API_KEY).toBe('vk_test_isolation_account');
    const remote = { BASE_URL: 'https://dev.powernode.example', VULTR_API_URL: 'https://api.vultr.com/v2', ALLOW_REMOTE_TARGET: '1', VULTR_API_KEY: 'POOLKEY0000000000000000000000000000' };
    expect(parseConfig(remote).VULTR_ISOLATION_API_KEY).toBe('');
    expect(parseConfig({ ...remote, VULTR_ISOLATION_API_KEY: 'OTHERACCOUNTKEY000000000000000000000' }).VULTR_ISOLATION_API_KEY).toBe('OTHERACCOUNTKEY000000000000000000000');
  });

  it('refuses an isolation key equal to the platform pool\'s, never echoing it', () => {
    const problems = problemsOf({ VULTR_API_KEY: 'vk_same_key_for_both', VULTR_ISOLATION_API_KEY: 'vk_same_key_for_both' });
    expect(problems).toEqual(['VULTR_ISOLATION_API_KEY: equals VULTR_API_KEY; the isolation key must belong to another Vultr account than the platform pool']);
    expect(problemsOf({ VULTR_API_KEY: 'vk_test_isolation_account' })[0]).toMatch(/^VULTR_ISOLATION_API_KEY: equals VULTR_API_KEY/);
  });

  it('takes only a reserved test domain for e-mail, unless ALLOW_EMAIL_DOMAIN=1', () => {
    for (const domain of ['e2e.powernode.test', 'qa.example', 'x.invalid', 'example.com', 'mail.example.org', 'example.net']) {
      expect(problemsOf({ E2E_EMAIL_DOMAIN: domain })).toEqual([]);
    }
    for (const domain of ['powernode.io', 'gmail.com', 'notexample.com', 'example.com.evil.io', 'test.io']) {
      expect(problemsOf({ E2E_EMAIL_DOMAIN: domain })[0]).toMatch(/^E2E_EMAIL_DOMAIN: .* is not a reserved test domain.*ALLOW_EMAIL_DOMAIN=1/);
      expect(problemsOf({ E2E_EMAIL_DOMAIN: domain, ALLOW_EMAIL_DOMAIN: '1' })).toEqual([]);
    }
  });

  it('accepts every loopback spelling', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.1.2.3']) {
      expect(problemsOf({ BASE_URL: `http://${host}:3100` })).toEqual([]);
    }
  });

  it('reports every problem at once, one line each', () => {
    const problems = problemsOf({ STRIPE_SECRET_KEY: 'sk_live_x', PROVISION_TIMEOUT_MS: 'abc', DATABASE_URL: 'redis://x' });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'PROVISION_TIMEOUT_MS', 'STRIPE_SECRET_KEY']);
  });

  it('validates the expected bootstrap counts, flags and enums', () => {
    expect(problemsOf({ EXPECTED_BOOTSTRAP_COUNTS: '1/2/3' })[0]).toMatch(/^EXPECTED_BOOTSTRAP_COUNTS:/);
    expect(problemsOf({ PREFLIGHT_FIX: 'yes' })[0]).toMatch(/^PREFLIGHT_FIX: expects 1 or 0/);
    expect(problemsOf({ EXPECTED_RISK_SEVERITY: 'medium' })[0]).toMatch(/^EXPECTED_RISK_SEVERITY:/);
    expect(problemsOf({ PROVISIONING_ROUTE: 'new' })[0]).toMatch(/^PROVISIONING_ROUTE:/);
  });

  it('refuses a CHROMIUM_PATH that does not exist', () => {
    expect(problemsOf({ CHROMIUM_PATH: '/nonexistent/chromium' })[0]).toMatch(/^CHROMIUM_PATH:/);
  });
});

describe('CHROMIUM_ARGS', () => {
  it('is no extra flag by default', () => {
    expect(parseConfig({}).CHROMIUM_ARGS).toEqual([]);
  });

  it('splits on blanks and keeps a quoted value whole, quotes removed', () => {
    const config = parseConfig({
      CHROMIUM_ARGS: ` --host-resolver-rules="MAP dev.powernode.test 127.0.0.1,MAP db.powernode.test 127.0.0.1"   --lang='en US' --no-sandbox `,
    });
    expect(config.CHROMIUM_ARGS).toEqual(['--host-resolver-rules=MAP dev.powernode.test 127.0.0.1,MAP db.powernode.test 127.0.0.1', '--lang=en US', '--no-sandbox']);
  });

  it('expands nothing: a shell would, this does not', () => {
    expect(splitArgs('--user-data-dir=$HOME/x --a=`id` --b=$(id)')).toEqual(['--user-data-dir=$HOME/x', '--a=`id`', '--b=$(id)']);
  });

  it('refuses a word that is not a flag, and an unclosed quote, naming the variable', () => {
    expect(problemsOf({ CHROMIUM_ARGS: '--ok about:blank -x' })).toEqual([
      'CHROMIUM_ARGS: expects Chromium flags separated by spaces, each starting with -- (quote a value with spaces); has "about:blank", "-x"',
    ]);
    expect(problemsOf({ CHROMIUM_ARGS: '--host-resolver-rules="MAP a.test 127.0.0.1' })).toEqual([
      'CHROMIUM_ARGS: expects Chromium flags separated by spaces, each starting with -- (quote a value with spaces); has an unclosed " quote',
    ]);
  });
});
