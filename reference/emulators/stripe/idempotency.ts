/**
 * Stripe's idempotency: the first response to a POST with an `Idempotency-Key` is stored and
 * replayed for the same key (same secret key, path and parameters) with `Idempotent-Replayed: true`.
 * The same key with other parameters is an `idempotency_error`. Requests that fail validation are
 * not stored (Stripe saves a result only once the endpoint started executing), so they can be fixed
 * and retried with the same key. Keys are kept 24 hours.
 */
import { StripeError } from './errors';

export interface StoredResponse {
  status: number;
  body: string;
}

interface Entry {
  fingerprint: string;
  response: StoredResponse;
  storedAt: number;
}

const TTL_MS = 24 * 60 * 60 * 1000;
const MAX_KEY_LENGTH = 255;

export class IdempotencyCache {
  private readonly entries = new Map<string, Entry>();

  /** The stored response to replay, or undefined when the request should run. */
  lookup(apiKey: string, idempotencyKey: string, fingerprint: string): StoredResponse | undefined {
    if (idempotencyKey.length > MAX_KEY_LENGTH) {
      throw new StripeError(
        400,
        'invalid_request_error',
        `Invalid Idempotency-Key: the key must be ${MAX_KEY_LENGTH} characters or fewer.`,
      );
    }
    this.prune();
    const entry = this.entries.get(slot(apiKey, idempotencyKey));
    if (!entry) return undefined;
    if (entry.fingerprint !== fingerprint) {
      throw new StripeError(
        400,
        'idempotency_error',
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
      );
    }
    return entry.response;
  }

  store(apiKey: string, idempotencyKey: string, fingerprint: string, response: StoredResponse): void {
    this.entries.set(slot(apiKey, idempotencyKey), { fingerprint, response, storedAt: Date.now() });
  }

  /** Whether Stripe would have saved this outcome: the endpoint ran (success, card error, or a crash). */
  static shouldStore(status: number): boolean {
    return status < 400 || status === 402 || status >= 500;
  }

  private prune(): void {
    const cutoff = Date.now() - TTL_MS;
    for (const [key, entry] of this.entries) {
      if (entry.storedAt >= cutoff) break;
      this.entries.delete(key);
    }
  }
}

function slot(apiKey: string, idempotencyKey: string): string {
  return `${apiKey}\u0000${idempotencyKey}`;
}
