/**
 * The gate every Approve click passes through, so the run's instance cap counts what really exists
 * and two approvals can never both pass it before either has created anything.
 *
 * - **Serialised.** An approval holds the run's approve lock (a Postgres advisory lock on the
 *   target's database, so it holds across the workers' processes) from its count until its effect
 *   is visible: a NodeInstance row for the mission, or the mission settled (refused, failed), or
 *   a bound passed.
 * - **Counted from what exists.** The run's instances at Vultr found by its accounts' tags, plus
 *   its NodeInstance rows in any status but terminated: `error` and rows with no Vultr id yet count.
 * - **Shared state.** Approvals hold the platform pool's lock shared; the test that switches the
 *   pool off holds it exclusively (see platform-pool.ts), so an approval in another worker or
 *   another shard on the same target waits instead of meeting a pool that is off.
 */
import type pg from 'pg';
import { approveRefusal, ApproveRefused, type GuardConfig } from './guards';

/** A held lock; `release` is safe to call twice. */
export type Held = { release(): Promise<void> };

export type Locks = {
  exclusive(name: string): Promise<Held>;
  shared(name: string): Promise<Held>;
};

export const PLATFORM_POOL_LOCK = 'm1-e2e:platform-pool';
export const approveLock = (runId: string) => `m1-e2e:approve:${runId}`;

/** The names this process holds exclusively: its own approvals must not wait on itself. */
const heldHere = new Set<string>();

/**
 * Session-level advisory locks, each on a connection of its own held until release. Keys are
 * 64-bit hashes of the names, so every process (and shard) pointed at one database agrees.
 */
export function advisoryLocks(pool: Pick<pg.Pool, 'connect'>): Locks {
  const take = async (name: string, mode: 'exclusive' | 'shared'): Promise<Held> => {
    if (mode === 'shared' && heldHere.has(name)) return { release: () => Promise.resolve() };
    const client = await pool.connect();
    try {
      await client.query(mode === 'exclusive' ? 'SELECT pg_advisory_lock(hashtextextended($1, 0))' : 'SELECT pg_advisory_lock_shared(hashtextextended($1, 0))', [name]);
    } catch (error) {
      client.release();
      throw error;
    }
    if (mode === 'exclusive') heldHere.add(name);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (mode === 'exclusive') heldHere.delete(name);
        try {
          await client.query(mode === 'exclusive' ? 'SELECT pg_advisory_unlock(hashtextextended($1, 0))' : 'SELECT pg_advisory_unlock_shared(hashtextextended($1, 0))', [name]);
        } finally {
          client.release();
        }
      },
    };
  };
  return { exclusive: (name) => take(name, 'exclusive'), shared: (name) => take(name, 'shared') };
}

export type RunCreations = {
  /** Vultr instance ids carrying one of the run's account tags. */
  taggedInstanceIds: string[];
  /** The run's NodeInstance rows in any status but terminated. */
  rows: { provider_instance_id: string | null }[];
};

/** What the run holds: the union of its tagged instances and its rows' Vultr ids, plus rows with no id yet. */
export function countRunCreations(creations: RunCreations): number {
  const ids = new Set(creations.taggedInstanceIds);
  let withoutId = 0;
  for (const row of creations.rows) {
    if (row.provider_instance_id) ids.add(row.provider_instance_id);
    else withoutId += 1;
  }
  return ids.size + withoutId;
}

export type ApprovalGateDeps = {
  config: GuardConfig;
  runId: string;
  locks: Locks;
  creations: () => Promise<RunCreations>;
  /** True once the approval's effect is visible: a NodeInstance row for the mission, or the mission settled. */
  effectVisible: (missionId: string) => Promise<boolean>;
  /** Past this, the lock is released anyway (a mission that neither creates a row nor settles). */
  settleTimeoutMs: number;
  pollMs?: number;
};

export type ApprovalGate = <T extends { missionId: string; status: number }>(click: () => Promise<T>) => Promise<T>;

export function approvalGate(deps: ApprovalGateDeps): ApprovalGate {
  return async (click) => {
    const pool = await deps.locks.shared(PLATFORM_POOL_LOCK);
    let approve: Held | undefined;
    try {
      approve = await deps.locks.exclusive(approveLock(deps.runId));
      const refusal = approveRefusal(deps.config, countRunCreations(await deps.creations()));
      if (refusal) throw new ApproveRefused(refusal);
      const approval = await click();
      // A refused approval (402, 422) creates nothing; an accepted one holds the gate until it has.
      if (approval.status >= 200 && approval.status < 300) {
        const deadline = Date.now() + deps.settleTimeoutMs;
        while (!(await deps.effectVisible(approval.missionId)) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, deps.pollMs ?? 100));
        }
      }
      return approval;
    } finally {
      await approve?.release();
      await pool.release();
    }
  };
}
