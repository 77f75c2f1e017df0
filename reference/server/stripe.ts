/** The official Stripe SDK pointed at STRIPE_API_BASE (the emulator locally, Stripe in a real deployment). */
import Stripe from 'stripe';
import type { StackConfig } from '../lib/config';

export function createStripeClient(config: Pick<StackConfig, 'stripeApiBase' | 'stripeSecretKey'>): Stripe {
  const base = new URL(config.stripeApiBase);
  const protocol = base.protocol === 'https:' ? 'https' : 'http';
  return new Stripe(config.stripeSecretKey, {
    host: base.hostname,
    port: Number(base.port || (protocol === 'https' ? 443 : 80)),
    protocol,
    maxNetworkRetries: 1,
    timeout: 10_000,
    telemetry: false,
  });
}

/** True for "no such object" answers, which the API treats as not found rather than a failure. */
export function isStripeMissing(error: unknown): boolean {
  const e = error as { type?: string; statusCode?: number; code?: string };
  return e?.type === 'StripeInvalidRequestError' && (e.statusCode === 404 || e.code === 'resource_missing');
}
