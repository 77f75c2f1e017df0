/**
 * The Vultr and Stripe emulators, hosted inside the orchestrator rather than as two more node
 * processes: each is a plain node:http server that needs a few MB of heap, while a process of its
 * own costs some 45 MB and a spawn. They take the same settings their standalone entry points
 * (emulators/{vultr,stripe}/main.ts, still usable on their own) read from the environment, and
 * note their start in <STACK_DIR>/logs/{vultr,stripe}.log as those did; their rare error lines go
 * to the orchestrator's stderr.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { portOf, type StackConfig } from '../lib/config';
import type { FaultName } from '../lib/faults';
import { readConfig as readVultrConfig } from '../emulators/vultr/config';
import { startVultrEmulator } from '../emulators/vultr/server';
import { startStripeEmulator, WEBHOOK_SINK_PATH, type StripeEmulatorOptions } from '../emulators/stripe/server';

export type HostedEmulator = { name: string; url: string; close(): Promise<void> };

const CLOSE_TIMEOUT_MS = 3_000;

function note(logFile: string, line: string): void {
  try {
    appendFileSync(logFile, `${line}\n`);
  } catch {
    // A log line is never worth failing the stack over.
  }
}

/** The Stripe emulator's options for this stack, as emulators/stripe/main.ts derives them. */
export function stripeOptions(config: StackConfig, env: NodeJS.ProcessEnv, stackDir: string): StripeEmulatorOptions {
  return {
    host: '127.0.0.1',
    port: portOf(config.stripeApiBase),
    secretKeys: [config.stripeSecretKey],
    publishableKey: config.stripePublishableKey,
    webhookSecret: config.stripeWebhookSecret,
    webhookUrl: env.STRIPE_WEBHOOK_URL || `${config.baseUrl}/api/v1/billing/stripe/webhook`,
    stateFile: join(stackDir, 'stripe-state.json'),
    publicUrl: new URL(config.stripeApiBase).origin,
  };
}

/**
 * The stack's faults that live in the emulators: which emulators start, the Vultr emulator's own
 * fault switches (VULTR_FAULTS, on top of any already set) and the webhook URL Stripe delivers to.
 */
export type EmulatorPlan = { vultr: boolean; stripe: boolean; vultrFaults: string; stripeWebhookUrl: string };

export function emulatorPlan(faults: readonly FaultName[], env: NodeJS.ProcessEnv, config: Pick<StackConfig, 'baseUrl' | 'stripeApiBase'>): EmulatorPlan {
  const vultrFaults = new Set((env.VULTR_FAULTS ?? '').split(',').map((f) => f.trim()).filter(Boolean));
  if (faults.includes('instance_never_running')) vultrFaults.add('never_running');
  if (faults.includes('vultr_rate_limited')) vultrFaults.add('rate_limited');
  const webhookUrl = env.STRIPE_WEBHOOK_URL || `${config.baseUrl}/api/v1/billing/stripe/webhook`;
  return {
    vultr: !faults.includes('vultr_unreachable'),
    stripe: !faults.includes('stripe_unreachable'),
    vultrFaults: [...vultrFaults].join(','),
    stripeWebhookUrl: faults.includes('stripe_webhook_not_delivered')
      ? misroutedWebhookUrl(webhookUrl)
      : faults.includes('stripe_webhook_wrong_url')
        ? elsewhereWebhookUrl(config.stripeApiBase)
        : webhookUrl,
  };
}

/** An endpoint registered for somewhere else that accepts every delivery: the Stripe emulator's own sink. */
export function elsewhereWebhookUrl(stripeApiBase: string): string {
  return `${new URL(stripeApiBase).origin}${WEBHOOK_SINK_PATH}`;
}

/** The endpoint as an operator might mistype it in the Stripe dashboard: one letter too many. */
export function misroutedWebhookUrl(url: string): string {
  const parsed = new URL(url);
  parsed.pathname = `${parsed.pathname.replace(/\/+$/, '')}s`;
  return parsed.toString();
}

async function host(name: string, logFile: string, start: () => Promise<{ url: string; close(): Promise<void> }>): Promise<HostedEmulator> {
  note(logFile, `\n--- ${new Date().toISOString()} starting ${name} (in the stack process ${process.pid}) ---`);
  let emulator;
  try {
    emulator = await start();
  } catch (error) {
    const message = (error as NodeJS.ErrnoException).code === 'EADDRINUSE' ? `its port is already in use` : (error as Error).message;
    note(logFile, `${name}: ${message}`);
    throw new Error(`${name} did not start: ${message}`, { cause: error });
  }
  note(logFile, `${name} ready on ${emulator.url}`);
  return {
    name,
    url: emulator.url,
    // A hung keep-alive socket must not hold up the stop of the whole stack.
    close: () =>
      Promise.race([emulator.close(), new Promise<void>((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS).unref())]).then(() =>
        note(logFile, `${name} stopped`),
      ),
  };
}

export function startVultr(env: NodeJS.ProcessEnv, logFile: string): Promise<HostedEmulator> {
  return host('vultr emulator', logFile, () => startVultrEmulator(readVultrConfig(env)));
}

export function startStripe(config: StackConfig, env: NodeJS.ProcessEnv, stackDir: string, logFile: string): Promise<HostedEmulator> {
  return host('stripe emulator', logFile, () => startStripeEmulator(stripeOptions(config, env, stackDir)));
}
