/**
 * Evidence for the report: the DB rows, cloud instances and Stripe objects behind an assertion,
 * attached as JSON with secrets removed. Playwright does no redaction of its own, so everything
 * attached goes through `redact` first: values under secret-looking keys are replaced whole, and any
 * known secret value (config keys, identity passwords, access tokens) is cut out of every string.
 */
import type { TestInfo } from '@playwright/test';

export const REDACTED = '[redacted]';

/** Keys whose values are secrets whatever they hold. */
const SECRET_KEY = /(api_?key|password|passwd|client_secret|credentials$|secret$|^secret|token|authorization|cookie|digest|private_key)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  return out;
}

/** A deep copy of `value` that is safe to attach: JSON-shaped, with secrets replaced. */
export function redact(value: unknown, secrets: readonly string[]): unknown {
  const seen = new WeakSet<object>();
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v, secrets);
    if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? v.toString() : v;
    if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (Array.isArray(v)) return v.map(walk);
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(v)) {
      if (typeof inner === 'function') continue;
      out[key] = isSecretKey(key) && inner !== null && inner !== undefined && inner !== '' ? REDACTED : walk(inner);
    }
    return out;
  };
  return walk(value);
}

export function redactedJson(value: unknown, secrets: readonly string[]): string {
  return JSON.stringify(redact(value, secrets), null, 2);
}

/** Per-test evidence: knows the run's secrets and collects the test's own (passwords, tokens). */
export class Evidence {
  private readonly secrets: string[];

  constructor(
    private readonly testInfo: TestInfo,
    configSecrets: readonly string[],
  ) {
    this.secrets = [...configSecrets];
  }

  addSecret(value: string): void {
    if (value && !this.secrets.includes(value)) this.secrets.push(value);
  }

  /** Long secrets first, so a secret containing another is removed whole. */
  private get ordered(): string[] {
    return [...this.secrets].sort((a, b) => b.length - a.length);
  }

  redactText(text: string): string {
    return scrub(text, this.ordered);
  }

  async attach(name: string, value: unknown): Promise<void> {
    await this.testInfo.attach(name, { body: redactedJson(value, this.ordered), contentType: 'application/json' });
  }
}
