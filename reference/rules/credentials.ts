/**
 * Credential resolution (CONTRACT 6.7 b): the account's own active Pro Cloud key wins; without
 * one, the active platform-pool key; without either, nothing — and provisioning must not start.
 */

export const SCOPE_ACCOUNT = 0;
export const SCOPE_PLATFORM_POOL = 1;

export type CredentialCandidate = {
  id: string;
  scope: number;
  account_id: string | null;
  is_active: boolean;
  created_at: Date;
};

export type ResolvedCredential = { id: string; scope: 'account' | 'platform_pool' };

function newestFirst(a: CredentialCandidate, b: CredentialCandidate): number {
  return b.created_at.getTime() - a.created_at.getTime();
}

export function chooseCredential(candidates: CredentialCandidate[], accountId: string): ResolvedCredential | null {
  const active = candidates.filter((c) => c.is_active);
  const own = active.filter((c) => c.scope === SCOPE_ACCOUNT && c.account_id === accountId).sort(newestFirst)[0];
  if (own) return { id: own.id, scope: 'account' };
  const pool = active.filter((c) => c.scope === SCOPE_PLATFORM_POOL && c.account_id === null).sort(newestFirst)[0];
  if (pool) return { id: pool.id, scope: 'platform_pool' };
  return null;
}

type Queryable = { query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

/** The candidates visible to an account: its own pro_cloud keys and the platform pool's. */
export async function loadCredentialCandidates(db: Queryable, accountId: string): Promise<CredentialCandidate[]> {
  const { rows } = await db.query(
    `SELECT c.id, c.scope, c.account_id, c.is_active, c.created_at
       FROM system_provider_credentials c
       JOIN system_providers p ON p.id = c.provider_id
      WHERE p.provider_type = 'pro_cloud' AND p.enabled
        AND ((c.scope = 0 AND c.account_id = $1) OR (c.scope = 1 AND c.account_id IS NULL))`,
    [accountId],
  );
  return rows as CredentialCandidate[];
}

export async function resolveCredential(db: Queryable, accountId: string): Promise<ResolvedCredential | null> {
  return chooseCredential(await loadCredentialCandidates(db, accountId), accountId);
}
