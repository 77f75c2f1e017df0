/**
 * Test identities: `e2e+<runId>-<slug>@<E2E_EMAIL_DOMAIN>`. The slug names the identity's role
 * (a label), the worker, the repeat and the retry, plus a random suffix, so two tests, two repeats
 * (`--repeat-each`) or two identities in one test never share an e-mail. Rollback and verification
 * find a run's accounts by the e-mail prefix alone, so nothing else may ever match it.
 */
import { randomBytes } from 'node:crypto';
import { likeLiteral } from '../clients/queries';

/** The funnel identity's label; verification finds the funnel's accounts by it. */
export const FUNNEL_LABEL = 'funnel';

const LABEL = /^[a-z][a-z0-9]{0,15}$/;
const LOCAL_PART_MAX = 64;

export type SlugSeed = { label: string; workerIndex: number; repeatEachIndex: number; retry: number };

export function identitySlug(seed: SlugSeed, suffix: string = randomBytes(3).toString('hex')): string {
  if (!LABEL.test(seed.label)) throw new Error(`identity label "${seed.label}" must be 1-16 lower-case letters or digits, starting with a letter`);
  if (!/^[a-z0-9]+$/.test(suffix)) throw new Error('identity suffix must be lower-case letters or digits');
  return `${seed.label}-w${seed.workerIndex}r${seed.repeatEachIndex}t${seed.retry}-${suffix}`;
}

export function identityEmail(runId: string, slug: string, domain: string): string {
  const email = `e2e+${runId}-${slug}@${domain}`.toLowerCase();
  const localPart = email.slice(0, email.indexOf('@'));
  if (localPart.length > LOCAL_PART_MAX) throw new Error(`identity e-mail local part is longer than ${LOCAL_PART_MAX} characters: ${email}`);
  return email;
}

/** LIKE pattern for every identity of one run, or of one label within the run. */
export function runEmailPattern(runId: string, domain: string, label?: string): string {
  const prefix = label ? `e2e+${runId}-${label}-` : `e2e+${runId}-`;
  return `${likeLiteral(prefix.toLowerCase())}%@${likeLiteral(domain.toLowerCase())}`;
}

/** LIKE pattern for every identity any run of this suite ever made (used with --older-than). */
export function anyRunEmailPattern(domain: string): string {
  return `${likeLiteral('e2e+')}%@${likeLiteral(domain.toLowerCase())}`;
}

export type Credentials = { email: string; password: string; name: string; accountName: string };

/** Fresh sign-up details; the password is random per identity and is treated as a secret in evidence. */
export function newCredentials(runId: string, slug: string, domain: string): Credentials {
  return {
    email: identityEmail(runId, slug, domain),
    password: `E2e-${randomBytes(12).toString('base64url')}!`,
    name: `E2E ${slug}`,
    accountName: `E2E ${runId} ${slug}`,
  };
}
