/**
 * The official Stripe SDK, pointed at STRIPE_API_BASE (host, port and protocol), so the same client
 * talks to Stripe itself or to the local emulator. Its calls go through the SDK, never Playwright's
 * request context, so the secret key never lands in a trace.
 */
import Stripe from 'stripe';
import type { Config } from '../config';

export function createStripe(config: Pick<Config, 'STRIPE_SECRET_KEY' | 'STRIPE_API_BASE'>): Stripe {
  const url = new URL(config.STRIPE_API_BASE);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(config.STRIPE_SECRET_KEY, {
    host: url.hostname,
    port: url.port ? Number(url.port) : protocol === 'http' ? 80 : 443,
    protocol,
    maxNetworkRetries: 2,
    timeout: 20_000,
    telemetry: false,
  });
}
