import type pg from 'pg';

export type Db = pg.Pool | pg.PoolClient;

export { inTransaction } from '../../db/transaction';

export const UNIQUE_VIOLATION = '23505';

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e?.code === UNIQUE_VIOLATION && (constraint === undefined || e.constraint === constraint);
}
