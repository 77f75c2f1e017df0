import { describe, expect, it } from 'vitest';
import { sqlLike as like } from '../clients/sql-like.testkit';
import { anyRunEmailPattern, identityEmail, identitySlug, newCredentials, runEmailPattern } from './identity-emails';

describe('identity naming', () => {
  const seed = { label: 'funnel', workerIndex: 2, repeatEachIndex: 1, retry: 0 };

  it('names the role, worker, repeat and retry, then a random suffix', () => {
    expect(identitySlug(seed, 'a1b2c3')).toBe('funnel-w2r1t0-a1b2c3');
  });

  it('gives different e-mails to repeats, workers, retries and calls', () => {
    const slugs = new Set([
      identitySlug(seed, 'aaaaaa'),
      identitySlug({ ...seed, repeatEachIndex: 2 }, 'aaaaaa'),
      identitySlug({ ...seed, workerIndex: 3 }, 'aaaaaa'),
      identitySlug({ ...seed, retry: 1 }, 'aaaaaa'),
      identitySlug(seed),
      identitySlug(seed),
    ]);
    expect(slugs.size).toBe(6);
  });

  it('refuses labels that would blur the funnel prefix', () => {
    expect(() => identitySlug({ ...seed, label: 'funnel-x' })).toThrow(/label/);
    expect(() => identitySlug({ ...seed, label: '' })).toThrow(/label/);
    expect(() => identitySlug({ ...seed, label: 'Funnel' })).toThrow(/label/);
  });

  it('builds a lower-case e-mail in the run namespace', () => {
    expect(identityEmail('mabc1234', 'funnel-w0r0t0-abc123', 'E2E.Powernode.test')).toBe('e2e+mabc1234-funnel-w0r0t0-abc123@e2e.powernode.test');
  });

  it('refuses a local part longer than 64 characters', () => {
    expect(() => identityEmail('a'.repeat(24), `funnel-w0r0t0-${'b'.repeat(40)}`, 'e2e.powernode.test')).toThrow(/64/);
  });

  it('gives fresh random passwords', () => {
    const a = newCredentials('run1', 'user-w0r0t0-aaaaaa', 'e2e.powernode.test');
    const b = newCredentials('run1', 'user-w0r0t0-aaaaaa', 'e2e.powernode.test');
    expect(a.email).toBe(b.email);
    expect(a.password).not.toBe(b.password);
    expect(a.password.length).toBeGreaterThanOrEqual(16);
  });
});

describe('run e-mail patterns', () => {
  const domain = 'e2e.powernode.test';
  const run = runEmailPattern('run1', domain);
  const funnel = runEmailPattern('run1', domain, 'funnel');

  it("matches the run's identities and nothing else", () => {
    expect(like(run, 'e2e+run1-funnel-w0r0t0-abc123@e2e.powernode.test')).toBe(true);
    expect(like(run, 'e2e+run1-user-w1r2t0-abc123@e2e.powernode.test')).toBe(true);
    expect(like(run, 'e2e+run12-user-w1r2t0-abc123@e2e.powernode.test')).toBe(false);
    expect(like(run, 'e2e+run1-user@other.test')).toBe(false);
    expect(like(run, 'e2eXrun1-user@e2e.powernode.test')).toBe(false);
    expect(like(run, 'someone@e2e.powernode.test')).toBe(false);
  });

  it('escapes LIKE wildcards in the domain', () => {
    const pattern = runEmailPattern('run1', 'e2e_test.example');
    expect(like(pattern, 'e2e+run1-user-w0r0t0-a@e2e_test.example')).toBe(true);
    expect(like(pattern, 'e2e+run1-user-w0r0t0-a@e2eXtest.example')).toBe(false);
  });

  it("narrows to one label (the funnel's)", () => {
    expect(like(funnel, 'e2e+run1-funnel-w0r0t0-abc123@e2e.powernode.test')).toBe(true);
    expect(like(funnel, 'e2e+run1-user-w0r0t0-abc123@e2e.powernode.test')).toBe(false);
  });

  it('--older-than covers every run of the suite, only in its domain', () => {
    const any = anyRunEmailPattern(domain);
    expect(like(any, 'e2e+anyrun-user-w0r0t0-a@e2e.powernode.test')).toBe(true);
    expect(like(any, 'alice@e2e.powernode.test')).toBe(false);
    expect(like(any, 'e2e+anyrun-user@example.com')).toBe(false);
  });
});
