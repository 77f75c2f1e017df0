/**
 * Sign-up, log-in and access tokens. The account and its owner are created in one transaction;
 * the account bootstrap runs after that commits (CONTRACT 6.2), as Rails' after_create_commit does.
 */
import type pg from 'pg';
import { hashPassword, newAccessToken, tokenDigest, verifyPassword } from '../../lib/crypto';
import { bootstrapAccount } from '../../rules/bootstrap';
import { ApiError, validationFailed } from '../http/errors';
import { inTransaction, isUniqueViolation } from './db';

export const TOKEN_TTL_DAYS = 30;

export type UserView = { id: string; email: string; name: string; account_id: string };
export type AccountView = { id: string; name: string };

export type RegisterInput = { email: string; password: string; name: string; account_name?: string };
export type BootstrapMode = 'run' | 'skip' | 'six_templates';

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mailer's job.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normaliseRegistration(input: RegisterInput): RegisterInput {
  const email = input.email.trim().toLowerCase();
  const name = input.name.trim();
  const accountName = input.account_name?.trim();
  const problems: Record<string, string> = {};
  if (!EMAIL.test(email) || email.length > 254) problems.email = 'Email must be a valid email address.';
  if (input.password.length < 8) problems.password = 'Password must be at least 8 characters.';
  if (name.length < 1 || name.length > 100) problems.name = 'Name must be 1 to 100 characters.';
  if (accountName !== undefined && accountName.length > 100) problems.account_name = 'Account name must be at most 100 characters.';
  if (Object.keys(problems).length > 0) throw validationFailed(problems);
  return { email, password: input.password, name, account_name: accountName || undefined };
}

export async function issueToken(db: pg.Pool | pg.PoolClient, userId: string, accountId: string): Promise<string> {
  const token = newAccessToken();
  await db.query(
    `INSERT INTO access_tokens (user_id, account_id, token_digest, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(days => $4))`,
    [userId, accountId, tokenDigest(token), TOKEN_TTL_DAYS],
  );
  return token;
}

export async function register(
  pool: pg.Pool,
  raw: RegisterInput,
  bootstrap: BootstrapMode,
  onBootstrapError: (error: unknown) => void,
): Promise<{ access_token: string; user: UserView; account: AccountView }> {
  const input = normaliseRegistration(raw);
  const passwordDigest = await hashPassword(input.password);
  const created = await inTransaction(pool, async (client) => {
    const account = await client.query<AccountView>(`INSERT INTO accounts (name) VALUES ($1) RETURNING id, name`, [
      input.account_name ?? `${input.name}'s account`,
    ]);
    const accountRow = account.rows[0]!;
    let user: pg.QueryResult<UserView>;
    try {
      user = await client.query<UserView>(
        `INSERT INTO users (account_id, email, name, password_digest) VALUES ($1, $2, $3, $4)
         RETURNING id, email, name, account_id`,
        [accountRow.id, input.email, input.name, passwordDigest],
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new ApiError(409, 'email_taken', 'An account with this email already exists');
      throw error;
    }
    const userRow = user.rows[0]!;
    const token = await issueToken(client, userRow.id, accountRow.id);
    return { access_token: token, user: userRow, account: accountRow };
  });

  if (bootstrap !== 'skip') {
    try {
      await bootstrapAccount(pool, created.account.id, { sixTemplates: bootstrap === 'six_templates' });
    } catch (error) {
      // The account exists either way; a failed bootstrap is visible in bootstrapped_at and the log.
      onBootstrapError(error);
    }
  }
  return created;
}

let dummyDigest: string | undefined;

export async function login(pool: pg.Pool, emailRaw: string, password: string): Promise<{ access_token: string; user: UserView }> {
  const email = emailRaw.trim().toLowerCase();
  const { rows } = await pool.query<UserView & { password_digest: string }>(
    `SELECT id, email, name, account_id, password_digest FROM users WHERE email = $1`,
    [email],
  );
  const row = rows[0];
  // An unknown email still pays for one scrypt, so timing does not reveal which emails exist.
  dummyDigest ??= await hashPassword('not-a-real-password');
  const valid = await verifyPassword(password, row ? row.password_digest : dummyDigest);
  if (!row || !valid) throw new ApiError(401, 'invalid_credentials', 'Email or password is incorrect');
  const token = await issueToken(pool, row.id, row.account_id);
  return { access_token: token, user: { id: row.id, email: row.email, name: row.name, account_id: row.account_id } };
}

export async function me(pool: pg.Pool, userId: string): Promise<{ user: UserView; account: AccountView }> {
  const { rows } = await pool.query<UserView & { account_name: string }>(
    `SELECT u.id, u.email, u.name, u.account_id, a.name AS account_name
       FROM users u JOIN accounts a ON a.id = u.account_id WHERE u.id = $1`,
    [userId],
  );
  const row = rows[0];
  if (!row) throw new ApiError(401, 'unauthorized', 'Missing or invalid access token');
  return { user: { id: row.id, email: row.email, name: row.name, account_id: row.account_id }, account: { id: row.account_id, name: row.account_name } };
}
