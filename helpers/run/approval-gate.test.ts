import { describe, expect, it } from 'vitest';
import { approvalGate, countRunCreations, PLATFORM_POOL_LOCK, type Held, type Locks, type RunCreations } from './approval-gate';
import { ApproveRefused } from './guards';

/** Advisory-lock semantics in memory: exclusive waits for everyone, shared waits only for exclusive. */
function memoryLocks(): Locks & { log: string[] } {
  const state = new Map<string, { exclusive: boolean; shared: number; waiters: (() => void)[] }>();
  const log: string[] = [];
  const entry = (name: string) => {
    let e = state.get(name);
    if (!e) state.set(name, (e = { exclusive: false, shared: 0, waiters: [] }));
    return e;
  };
  const wake = (name: string) => entry(name).waiters.splice(0).forEach((w) => w());
  const take = async (name: string, mode: 'exclusive' | 'shared'): Promise<Held> => {
    const e = entry(name);
    while (e.exclusive || (mode === 'exclusive' && e.shared > 0)) await new Promise<void>((resolve) => e.waiters.push(resolve));
    if (mode === 'exclusive') e.exclusive = true;
    else e.shared += 1;
    log.push(`take ${mode} ${name}`);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        if (mode === 'exclusive') e.exclusive = false;
        else e.shared -= 1;
        log.push(`release ${mode} ${name}`);
        wake(name);
      },
    };
  };
  return { log, exclusive: (n) => take(n, 'exclusive'), shared: (n) => take(n, 'shared') };
}

const config = { BASE_URL: 'http://127.0.0.1:3100', VULTR_API_URL: 'http://127.0.0.1:3101/v2', ALLOW_REAL_CLOUD: false, MAX_INSTANCES_PER_RUN: 1 };

/** A target where an approved mission's NodeInstance row appears a little after the 202. */
function target() {
  const world: RunCreations = { taggedInstanceIds: [], rows: [] };
  const rowsOf = new Set<string>();
  return {
    world,
    creations: async () => structuredClone(world),
    effectVisible: async (missionId: string) => rowsOf.has(missionId),
    approve: (missionId: string) => async () => {
      setTimeout(() => {
        world.rows.push({ provider_instance_id: null });
        rowsOf.add(missionId);
      }, 20);
      return { missionId, status: 202 };
    },
  };
}

describe('countRunCreations', () => {
  it('counts tagged instances and rows once each, and rows with no Vultr id yet', () => {
    expect(countRunCreations({ taggedInstanceIds: ['v1', 'v2'], rows: [{ provider_instance_id: 'v1' }, { provider_instance_id: 'v3' }, { provider_instance_id: null }] })).toBe(4);
    expect(countRunCreations({ taggedInstanceIds: [], rows: [] })).toBe(0);
  });
});

describe('approvalGate', () => {
  it('serialises two approvals: the second counts the first one\'s row and is refused at the cap', async () => {
    const t = target();
    const locks = memoryLocks();
    const gate = approvalGate({ config, runId: 'r1', locks, creations: t.creations, effectVisible: t.effectVisible, settleTimeoutMs: 2_000, pollMs: 5 });
    const results = await Promise.allSettled([gate(t.approve('m1')), gate(t.approve('m2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(ApproveRefused);
    expect(t.world.rows).toHaveLength(1);
  });

  it('without the lock, both would have passed the check: the count alone is not enough', async () => {
    const t = target();
    const noLock: Locks = { exclusive: async () => ({ release: async () => undefined }), shared: async () => ({ release: async () => undefined }) };
    const gate = approvalGate({ config, runId: 'r1', locks: noLock, creations: t.creations, effectVisible: t.effectVisible, settleTimeoutMs: 2_000, pollMs: 5 });
    const results = await Promise.allSettled([gate(t.approve('m1')), gate(t.approve('m2'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });

  it('counts an instance found only by its tag, and a row in error', async () => {
    const t = target();
    t.world.taggedInstanceIds.push('v-orphan');
    const gate = approvalGate({ config, runId: 'r1', locks: memoryLocks(), creations: t.creations, effectVisible: t.effectVisible, settleTimeoutMs: 100 });
    await expect(gate(t.approve('m1'))).rejects.toThrow(/already holds 1 cloud instance/);
  });

  it('holds the platform pool shared, so the pool-off test (exclusive) waits for it and it for the test', async () => {
    const t = target();
    const locks = memoryLocks();
    const poolOff = await locks.exclusive(PLATFORM_POOL_LOCK);
    const gate = approvalGate({ config: { ...config, MAX_INSTANCES_PER_RUN: 5 }, runId: 'r1', locks, creations: t.creations, effectVisible: t.effectVisible, settleTimeoutMs: 500, pollMs: 5 });
    let approved = false;
    const pending = gate(t.approve('m1')).then(() => (approved = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(approved).toBe(false);
    await poolOff.release();
    await pending;
    expect(approved).toBe(true);
    expect(locks.log.at(-1)).toBe(`release shared ${PLATFORM_POOL_LOCK}`);
  });

  it('lets a refused approval (402) go at once, and releases every lock when the click throws', async () => {
    const locks = memoryLocks();
    const t = target();
    const gate = approvalGate({ config, runId: 'r1', locks, creations: t.creations, effectVisible: async () => false, settleTimeoutMs: 60_000 });
    const started = Date.now();
    await gate(async () => ({ missionId: 'm1', status: 402 }));
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(gate(async () => Promise.reject(new Error('click failed')))).rejects.toThrow('click failed');
    expect(locks.log.filter((l) => l.startsWith('take')).length).toBe(locks.log.filter((l) => l.startsWith('release')).length);
  });
});
