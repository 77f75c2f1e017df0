// The emulated Vultr accounts: one per API key. At Vultr a key belongs to one account and sees
// only that account's instances (another account's id answers 404), and GET /account describes
// the key's own account. The stack hands the emulator one key per account it emulates: the
// platform pool's, and a second account's for the suite's account-isolation test (RUNBOOK
// pre-flight 3). An account is known by a digest of its key, so neither the state file nor the
// journal ever holds a key.
import { createHash } from 'node:crypto';
import { ACCOUNT } from './catalog';

/** What GET /v2/account answers for a key (research/external-apis.md 1.6). */
export type AccountProfile = Omit<typeof ACCOUNT, 'name' | 'email'> & { name: string; email: string };

export interface EmulatedAccount {
  /** Owner of the account's instances in the store; a digest of the key, never the key. */
  id: string;
  profile: AccountProfile;
}

export function accountIdOf(key: string): string {
  return `acct-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/**
 * One account per distinct key, in the order given. The first key's account is the one the
 * contract describes (the platform's); each other key gets an account of its own, with its own
 * name and e-mail, so a test can tell the accounts apart by GET /account.
 */
export function accountsFor(keys: readonly string[]): Map<string, EmulatedAccount> {
  const accounts = new Map<string, EmulatedAccount>();
  for (const key of keys) {
    if (key === '' || accounts.has(key)) continue;
    const n = accounts.size + 1;
    const profile: AccountProfile =
      n === 1 ? { ...ACCOUNT } : { ...ACCOUNT, name: `Powernode Reference account ${n}`, email: `account-${n}@powernode.test` };
    accounts.set(key, { id: accountIdOf(key), profile });
  }
  return accounts;
}
