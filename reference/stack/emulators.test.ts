import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readStackConfig } from '../lib/config';
import { emulatorPlan, misroutedWebhookUrl, startStripe, startVultr, stripeOptions } from './emulators';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'm1-emulators-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('hosted emulators', () => {
  it('gives the Stripe emulator the stack keys, its webhook URL and a state file in STACK_DIR', () => {
    const config = readStackConfig({ STRIPE_API_BASE: 'http://127.0.0.1:4173', BASE_URL: 'http://127.0.0.1:4171' });
    expect(stripeOptions(config, {}, '/tmp/stack')).toEqual({
      host: '127.0.0.1',
      port: 4173,
      secretKeys: ['sk_test_m1_reference'],
      publishableKey: 'pk_test_m1_reference',
      webhookSecret: 'whsec_m1_reference',
      webhookUrl: 'http://127.0.0.1:4171/api/v1/billing/stripe/webhook',
      stateFile: '/tmp/stack/stripe-state.json',
      publicUrl: 'http://127.0.0.1:4173',
    });
    expect(stripeOptions(config, { STRIPE_WEBHOOK_URL: 'http://127.0.0.1:9/hook' }, '/tmp/stack').webhookUrl).toBe('http://127.0.0.1:9/hook');
  });

  it('starts both in this process, answers their health checks, logs start and stop, and closes', async () => {
    const env = { VULTR_API_URL: 'http://127.0.0.1:0/v2', VULTR_API_KEY: 'vk_test_key', STACK_DIR: dir };
    const config = readStackConfig({ STRIPE_API_BASE: 'http://127.0.0.1:0' });
    const vultr = await startVultr(env, join(dir, 'vultr.log'));
    const stripe = await startStripe(config, env, dir, join(dir, 'stripe.log'));
    try {
      for (const emulator of [vultr, stripe]) {
        const response = await fetch(`${new URL(emulator.url).origin}/__emulator/health`);
        expect(response.status).toBe(200);
      }
    } finally {
      await Promise.all([vultr.close(), stripe.close()]);
    }
    expect(readFileSync(join(dir, 'vultr.log'), 'utf8')).toMatch(/vultr emulator ready on http:\/\/127\.0\.0\.1:\d+\/v2\nvultr emulator stopped\n$/);
    expect(readFileSync(join(dir, 'stripe.log'), 'utf8')).toMatch(/stripe emulator ready on http:\/\/127\.0\.0\.1:\d+\nstripe emulator stopped\n$/);
  });

  it('turns the emulator faults into what starts, VULTR_FAULTS and the webhook URL; no fault changes nothing', () => {
    const config = { baseUrl: 'http://127.0.0.1:4181', stripeApiBase: 'http://127.0.0.1:4183' };
    expect(emulatorPlan([], {}, config)).toEqual({
      vultr: true,
      stripe: true,
      vultrFaults: '',
      stripeWebhookUrl: 'http://127.0.0.1:4181/api/v1/billing/stripe/webhook',
    });
    expect(emulatorPlan(['vultr_unreachable', 'stripe_unreachable'], {}, config)).toMatchObject({ vultr: false, stripe: false });
    expect(emulatorPlan(['instance_never_running', 'vultr_rate_limited'], { VULTR_FAULTS: 'never_running' }, config).vultrFaults).toBe('never_running,rate_limited');
    expect(emulatorPlan(['stripe_webhook_not_delivered'], { STRIPE_WEBHOOK_URL: 'http://127.0.0.1:9/hook/' }, config).stripeWebhookUrl).toBe('http://127.0.0.1:9/hooks');
    expect(emulatorPlan(['stripe_webhook_wrong_url'], {}, config).stripeWebhookUrl).toBe('http://127.0.0.1:4183/__emulator/webhook-sink');
  });

  it('mistypes a webhook URL by one letter, keeping host and query', () => {
    expect(misroutedWebhookUrl('http://127.0.0.1:3100/api/v1/billing/stripe/webhook?x=1')).toBe('http://127.0.0.1:3100/api/v1/billing/stripe/webhooks?x=1');
  });

  it('names the emulator and the problem when one cannot start', async () => {
    await expect(startVultr({ VULTR_API_URL: 'http://127.0.0.1:0/v1' }, join(dir, 'bad.log'))).rejects.toThrow(/vultr emulator did not start: VULTR_API_URL must end in \/v2/);
  });
});
