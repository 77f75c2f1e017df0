import { describe, expect, it } from 'vitest';
import { REDACTED, isSecretKey, redact, redactedJson } from './evidence';

describe('redact', () => {
  const secrets = ['vk_test_platform_pool', 'sk_test_m1_reference'];

  it('replaces values under secret-looking keys', () => {
    expect(
      redact(
        { api_key: 'ABC', password: 'p', client_secret: 'cs_1', credentials: 'enc', access_token: 't', password_digest: 'd', keep: 'ok' },
        secrets,
      ),
    ).toEqual({ api_key: REDACTED, password: REDACTED, client_secret: REDACTED, credentials: REDACTED, access_token: REDACTED, password_digest: REDACTED, keep: 'ok' });
  });

  it('cuts known secret values out of any string, however deep', () => {
    const out = redact({ rows: [{ note: 'key vk_test_platform_pool used', nested: { msg: 'Bearer sk_test_m1_reference' } }] }, secrets);
    expect(JSON.stringify(out)).not.toContain('vk_test_platform_pool');
    expect(JSON.stringify(out)).not.toContain('sk_test_m1_reference');
    expect(out).toEqual({ rows: [{ note: `key ${REDACTED} used`, nested: { msg: `Bearer ${REDACTED}` } }] });
  });

  it('keeps ordinary ids and empty secret fields readable', () => {
    expect(redact({ stripe_customer_id: 'cus_1', session_id: 'cs_test_1', last_error: null, password: '' }, secrets)).toEqual({
      stripe_customer_id: 'cus_1',
      session_id: 'cs_test_1',
      last_error: null,
      password: '',
    });
    expect(isSecretKey('provider_instance_id')).toBe(false);
    expect(isSecretKey('publishable_key')).toBe(false);
    // A credential row as the suite reads it (never its encrypted `credentials` column) stays readable.
    expect(isSecretKey('credential')).toBe(false);
  });

  it('serialises dates, bigints and cycles without throwing', () => {
    const cyclic: Record<string, unknown> = { when: new Date('2026-01-02T03:04:05Z'), big: 10n };
    cyclic.self = cyclic;
    expect(redact(cyclic, secrets)).toEqual({ when: '2026-01-02T03:04:05.000Z', big: '10', self: '[circular]' });
  });

  it('gives pretty JSON', () => {
    expect(JSON.parse(redactedJson({ a: 1 }, []))).toEqual({ a: 1 });
  });
});
