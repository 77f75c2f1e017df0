/**
 * Runs the Stripe emulator on its own: `npx tsx reference/emulators/stripe/main.ts`.
 * Configuration comes from the same variables the stack and the suite use (CONTRACT 1).
 */
import { join } from 'node:path';
import { OptionsError } from './options';
import { startStripeEmulator } from './server';
import { StateFileError } from './store';

interface Settings {
  port: number;
  publicUrl: string | undefined;
  secretKey: string;
  publishableKey: string;
  webhookSecret: string;
  webhookUrl: string;
  stateFile: string;
}

function readSettings(env: NodeJS.ProcessEnv): Settings {
  const base = env.STRIPE_API_BASE || 'http://127.0.0.1:3102';
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new OptionsError(`STRIPE_API_BASE must be an http URL like http://127.0.0.1:3102 (got "${base}")`);
  }
  if (url.protocol !== 'http:') throw new OptionsError(`STRIPE_API_BASE must use http:// (got "${base}")`);
  if (!url.port) throw new OptionsError(`STRIPE_API_BASE must name a port, e.g. http://127.0.0.1:3102 (got "${base}")`);
  const settings = {
    port: Number(url.port),
    // Port 0 (tests) means "any free port", so the browser-facing URL is only known after listen.
    publicUrl: url.port === '0' ? undefined : url.origin,
    secretKey: env.STRIPE_SECRET_KEY || 'sk_test_m1_reference',
    publishableKey: env.STRIPE_PUBLISHABLE_KEY || 'pk_test_m1_reference',
    webhookSecret: env.STRIPE_WEBHOOK_SECRET || 'whsec_m1_reference',
    webhookUrl: env.STRIPE_WEBHOOK_URL || 'http://127.0.0.1:3100/api/v1/billing/stripe/webhook',
    stateFile: join(env.STACK_DIR || '.stack', 'stripe-state.json'),
  };
  if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(settings.secretKey)) {
    throw new OptionsError('STRIPE_SECRET_KEY must be a test-mode secret key (sk_test_...); the emulator never takes live keys');
  }
  if (!/^pk_test_[A-Za-z0-9_]+$/.test(settings.publishableKey)) {
    throw new OptionsError('STRIPE_PUBLISHABLE_KEY must be a test-mode publishable key (pk_test_...)');
  }
  if (!/^whsec_[A-Za-z0-9_]+$/.test(settings.webhookSecret)) {
    throw new OptionsError('STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_...)');
  }
  if (!/^https?:\/\/[^\s]+$/.test(settings.webhookUrl) || !URL.canParse(settings.webhookUrl)) {
    throw new OptionsError(`STRIPE_WEBHOOK_URL must be an http(s) URL (got "${settings.webhookUrl}")`);
  }
  return settings;
}

async function main(): Promise<void> {
  let settings: Settings;
  try {
    settings = readSettings(process.env);
  } catch (error) {
    process.stderr.write(`stripe emulator: ${(error as Error).message}\n`);
    process.exit(2);
  }
  let emulator;
  try {
    emulator = await startStripeEmulator({
      host: '127.0.0.1',
      port: settings.port,
      secretKeys: [settings.secretKey],
      publishableKey: settings.publishableKey,
      webhookSecret: settings.webhookSecret,
      webhookUrl: settings.webhookUrl,
      stateFile: settings.stateFile,
      publicUrl: settings.publicUrl,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const known = error instanceof OptionsError || error instanceof StateFileError;
    const message =
      code === 'EADDRINUSE' ? `port ${settings.port} is already in use (STRIPE_API_BASE)` : (error as Error).message;
    process.stderr.write(`stripe emulator: ${message}\n`);
    process.exit(known || code === 'EADDRINUSE' ? 2 : 1);
  }
  process.stdout.write(`stripe emulator ready on ${emulator.url}\n`);
  const stop = (): void => {
    void emulator.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
