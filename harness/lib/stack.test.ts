import { describe, expect, it } from 'vitest';
import { portList, stackDatabaseEnv, stackEnv, suiteEnv } from './stack';

const ports = { base: 4201, vultr: 4202, stripe: 4203, worker: 4204, postgres: 4205 };
const inherited = {
  PATH: '/bin',
  E2E_RUN_ID: 'abcd1234',
  STACK_FAULTS: 'quota_guard_disabled',
  STACK_VARIANTS: 'route_core',
  TARGET_PROFILE: 'powernode-core',
  PAYWALL_SOURCE: 'chat',
  VULTR_FAULTS: 'x',
  PLAYWRIGHT_HTML_OUTPUT_DIR: '/x',
  DATABASE_URL: 'postgres://elsewhere/db',
  BACKEND_LOG_COMMAND: 'journalctl',
  VULTR_BOOT_DELAY_MS: '50',
};

describe('an isolated stack environment', () => {
  it("the stack: its own ports, its own embedded Postgres, none of the caller's faults or run id", () => {
    const env = stackEnv(inherited, ports, '/tmp/s');
    expect(env).toMatchObject({
      PATH: '/bin',
      BASE_URL: 'http://127.0.0.1:4201',
      VULTR_API_URL: 'http://127.0.0.1:4202/v2',
      STRIPE_API_BASE: 'http://127.0.0.1:4203',
      WORKER_HEALTH_URL: 'http://127.0.0.1:4204/health',
      // Empty, not unset: .env cannot fill it in, so the stack starts its own embedded Postgres.
      DATABASE_URL: '',
      STACK_PG_PORT: '4205',
      STACK_DIR: '/tmp/s',
      STRIPE_WEBHOOK_URL: 'http://127.0.0.1:4201/api/v1/billing/stripe/webhook',
    });
    expect(env).not.toHaveProperty('STACK_FAULTS');
    expect(env).not.toHaveProperty('STACK_VARIANTS');
    expect(env).not.toHaveProperty('VULTR_FAULTS');
    expect(env).not.toHaveProperty('E2E_RUN_ID');
  });

  it("takes a harness's own settings, and drops more of what it inherits", () => {
    const env = stackEnv(inherited, ports, '/tmp/s', { set: { VULTR_BOOT_DELAY_MS: '2000', PROVISION_TIMEOUT_MS: '15000' }, drop: ['PATH'] });
    expect(env).toMatchObject({ VULTR_BOOT_DELAY_MS: '2000', PROVISION_TIMEOUT_MS: '15000' });
    expect(env).not.toHaveProperty('PATH');
  });

  it('the suite: the same stack, never starting one itself, reading its backend log', () => {
    const env = suiteEnv(inherited, ports, '/tmp/s', { set: { PLAYWRIGHT_JSON_OUTPUT_NAME: '/tmp/r.json' } });
    expect(env).toMatchObject({
      DATABASE_URL: 'postgres://m1:m1@127.0.0.1:4205/m1_reference',
      WORKER_HEALTH_URL: 'http://127.0.0.1:4204/health',
      START_STACK: 'never',
      BACKEND_LOG_COMMAND: '',
      BACKEND_LOG_FILE: '/tmp/s/logs/backend.log',
      PLAYWRIGHT_JSON_OUTPUT_NAME: '/tmp/r.json',
      // The runbook's dialect, whatever the caller's shell says, unless the harness sets one.
      TARGET_PROFILE: '',
      PAYWALL_SOURCE: '',
    });
    expect(suiteEnv(inherited, ports, '/tmp/s', { set: { TARGET_PROFILE: 'powernode-core' } }).TARGET_PROFILE).toBe('powernode-core');
    expect(env).not.toHaveProperty('E2E_RUN_ID');
    expect(env).not.toHaveProperty('PLAYWRIGHT_HTML_OUTPUT_DIR');
  });

  it("gives the stack the port of a DATABASE_URL of its own shape, and nothing for another server's", () => {
    expect(stackDatabaseEnv('postgres://m1:m1@127.0.0.1:54329/m1_reference')).toEqual({ DATABASE_URL: '', STACK_PG_PORT: '54329' });
    expect(stackDatabaseEnv('postgres://m1:m1@localhost:4185/m1_reference')).toEqual({ DATABASE_URL: '', STACK_PG_PORT: '4185' });
    expect(stackDatabaseEnv('postgres://m1:m1@db.example.com:5432/m1_reference')).toEqual({});
    expect(stackDatabaseEnv('postgres://app:secret@127.0.0.1:5432/powernode')).toEqual({});
  });

  it('lists the five ports', () => {
    expect(portList(ports)).toEqual([4201, 4202, 4203, 4204, 4205]);
  });
});
