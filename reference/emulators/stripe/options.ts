/** The Stripe emulator's options, checked before it starts: test-mode keys only, absolute URLs. */
import { maskKey } from './errors';

export interface StripeEmulatorOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** Accepted secret keys (test mode only). */
  secretKeys: string[];
  publishableKey: string;
  webhookUrl?: string;
  webhookSecret: string;
  /** JSON file that keeps state across restarts; in memory only when absent. */
  stateFile?: string;
  /** The URL the browser uses to reach the emulator; default http://<host>:<port>. */
  publicUrl?: string;
  /** Delays between webhook attempts (ms); its length + 1 is the number of attempts. */
  webhookRetryDelaysMs?: readonly number[];
  /** Event types sent to the webhook endpoint (all events are still listed at /v1/events). */
  webhookEvents?: readonly string[];
}

export class OptionsError extends Error {
  override name = 'OptionsError';
}

export function checkOptions(options: StripeEmulatorOptions): void {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw new OptionsError(`port must be an integer 0-65535 (got ${String(options.port)})`);
  }
  if (!Array.isArray(options.secretKeys) || options.secretKeys.length === 0) {
    throw new OptionsError('secretKeys must list at least one sk_test_ key');
  }
  for (const key of options.secretKeys) {
    if (!/^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key)) {
      throw new OptionsError(`secret keys must be test-mode keys like sk_test_...; got ${maskKey(String(key))}`);
    }
  }
  if (!/^pk_test_[A-Za-z0-9_]+$/.test(options.publishableKey)) {
    throw new OptionsError('publishableKey must be a test-mode key starting with pk_test_');
  }
  if (!/^whsec_[A-Za-z0-9_]+$/.test(options.webhookSecret)) {
    throw new OptionsError('webhookSecret must start with whsec_');
  }
  for (const [name, value] of [
    ['webhookUrl', options.webhookUrl],
    ['publicUrl', options.publicUrl],
  ] as const) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OptionsError(`${name} must be an absolute http(s) URL (got "${value}")`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OptionsError(`${name} must use http or https`);
  }
}
