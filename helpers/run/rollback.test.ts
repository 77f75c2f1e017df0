import { describe, expect, it } from 'vitest';
import { foundNothing, formatRollbackReport, rollback, rollbackFailures, type RollbackCloud, type RollbackStore, type RollbackVultrAccount } from './rollback';
import { sqlLike } from '../clients/sql-like.testkit';

type Node = { id: string; account_id: string; provider_instance_id: string | null; status: string };

/** An in-memory DB and Vultr holding a run's accounts, one stranger, and their instances. */
function world() {
  const users = [
    { account_id: 'acc-funnel', email: 'e2e+run1-funnel-w0r0t0-aaaaaa@e2e.test', created_at: new Date('2026-01-01T10:00:00Z') },
    { account_id: 'acc-user', email: 'e2e+run1-user-w1r0t0-bbbbbb@e2e.test', created_at: new Date('2026-01-01T11:00:00Z') },
    { account_id: 'acc-old', email: 'e2e+run0-user-w0r0t0-cccccc@e2e.test', created_at: new Date('2025-12-31T10:00:00Z') },
    { account_id: 'acc-human', email: 'alice@e2e.test', created_at: new Date('2025-01-01T10:00:00Z') },
  ];
  let nodes: Node[] = [
    { id: 'n1', account_id: 'acc-funnel', provider_instance_id: 'v-funnel', status: 'running' },
    { id: 'n2', account_id: 'acc-user', provider_instance_id: null, status: 'error' },
    { id: 'n3', account_id: 'acc-human', provider_instance_id: 'v-human', status: 'running' },
    { id: 'n4', account_id: 'acc-old', provider_instance_id: 'v-gone', status: 'running' },
  ];
  const missions: { id: string; account_id: string; status: string }[] = [];
  let usage = [
    { id: 'u1', account_id: 'acc-funnel', node_instance_id: 'n1' },
    { id: 'u2', account_id: 'acc-human', node_instance_id: 'n3' },
  ];

  const vultr = new Map<string, string[]>([
    ['v-funnel', ['powernode', 'account:acc-funnel']],
    ['v-orphan', ['powernode', 'account:acc-user']],
    ['v-human', ['powernode', 'account:acc-human']],
  ]);
  const store: RollbackStore = {
    async accountsByEmailPattern(pattern, createdBefore) {
      return users.filter((u) => sqlLike(pattern, u.email) && (!createdBefore || u.created_at < createdBefore));
    },
    async accountsByEmails(emails) {
      return users.filter((u) => emails.includes(u.email));
    },
    async nodeInstances(ids) {
      return nodes.filter((n) => ids.includes(n.account_id));
    },
    async usageRecords(ids) {
      return usage.filter((u) => ids.includes(u.account_id));
    },
    async inFlightMissions(ids, statuses) {
      return missions.filter((m) => ids.includes(m.account_id) && statuses.includes(m.status));
    },
    async deleteNodeInstanceRows(ids) {
      const [records, instances] = [usage.length, nodes.length];
      usage = usage.filter((u) => !ids.includes(u.node_instance_id));
      nodes = nodes.filter((n) => !ids.includes(n.id));
      return { nodeInstances: instances - nodes.length, usageRecords: records - usage.length };
    },
  };
  const cloud: RollbackCloud = {
    async instancesByTag(tag) {
      return [...vultr].filter(([, tags]) => tags.includes(tag)).map(([id]) => ({ id }));
    },
    async allInstances() {
      return [...vultr].map(([id, tags]) => ({ id, tags }));
    },
    async instance(id) {
      return vultr.has(id) ? { id } : null;
    },
    async deleteInstance(id) {
      return vultr.delete(id) ? 'deleted' : 'already_gone';
    },
  };
  return { store, cloud, clouds: pool(cloud), vultr, missions, nodes: () => nodes, usage: () => usage, setNodes: (next: Node[]) => void (nodes = next) };
}

/** The platform pool's Vultr account alone: what the rollback sweeps when no isolation key is set. */
function pool(cloud: RollbackCloud): RollbackVultrAccount[] {
  return [{ key: 'VULTR_API_KEY', cloud }];
}

const options = { domain: 'e2e.test' };

describe('rollback', () => {
  it('lists the Vultr account once, not one tag per account, when a run has many accounts', async () => {
    const w = world();
    const extra = ['acc-x1', 'acc-x2', 'acc-x3'].map((id, i) => ({ account_id: id, email: `e2e+run1-user-w${i + 2}r0t0-dddddd@e2e.test` }));
    const store = {
      ...w.store,
      async accountsByEmailPattern(pattern: string, createdBefore?: Date) {
        return [...(await w.store.accountsByEmailPattern(pattern, createdBefore)), ...extra];
      },
    };
    w.vultr.set('v-x2', ['account:acc-x2']);
    const calls: string[] = [];
    const cloud: RollbackCloud = {
      instancesByTag: async (tag) => {
        calls.push(`tag ${tag}`);
        return w.cloud.instancesByTag(tag);
      },
      allInstances: async () => {
        calls.push('all');
        return w.cloud.allInstances();
      },
      instance: (id) => w.cloud.instance(id),
      deleteInstance: (id) => w.cloud.deleteInstance(id),
    };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store, clouds: pool(cloud) }, options);
    expect(calls).toEqual(['all']);
    expect(report.cloudInstances.map((i) => [i.id, i.accountId, i.foundVia.join('+')]).sort()).toEqual([
      ['v-funnel', 'acc-funnel', 'db+tag'],
      ['v-orphan', 'acc-user', 'tag'],
      ['v-x2', 'acc-x2', 'tag'],
    ]);
    expect([...w.vultr.keys()], "the stranger's instance is untouched").toEqual(['v-human']);
  });

  it('waits for a mission the worker is still provisioning before deleting anything', async () => {
    const w = world();
    const mission = { id: 'm1', account_id: 'acc-funnel', status: 'running' };
    w.missions.push(mission);
    let polls = 0;
    const store = {
      ...w.store,
      async inFlightMissions(ids: string[], statuses: readonly string[]) {
        if (++polls === 3) mission.status = 'completed';
        return w.store.inFlightMissions(ids, statuses);
      },
    };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store, clouds: w.clouds }, { ...options, settleTimeoutMs: 5_000, settlePollMs: 1 });
    expect(polls).toBe(3);
    expect(report.problems).toEqual([]);
    expect(report.nodeInstances).toBe(2);
  });

  it('says so when a mission never settles, and still removes what it can', async () => {
    const w = world();
    w.missions.push({ id: 'm1', account_id: 'acc-funnel', status: 'approved' });
    const report = await rollback({ kind: 'run', runId: 'run1' }, w, { ...options, settleTimeoutMs: 5, settlePollMs: 1 });
    expect(rollbackFailures(report)).toEqual([
      'mission m1 still approved: the worker may still create a Vultr instance; run rollback again once it settles',
    ]);
    expect(report.nodeInstances).toBe(2);
  });

  it("destroys a run's instances found by DB id and by tag, then its rows", async () => {
    const w = world();
    const report = await rollback({ kind: 'run', runId: 'run1' }, w, options);
    expect(report.accounts.map((a) => a.id).sort()).toEqual(['acc-funnel', 'acc-user']);
    expect(report.cloudInstances).toEqual([
      { id: 'v-funnel', accountId: 'acc-funnel', foundVia: ['db', 'tag'], keys: ['VULTR_API_KEY'], outcome: 'deleted' },
      { id: 'v-orphan', accountId: 'acc-user', foundVia: ['tag'], keys: ['VULTR_API_KEY'], outcome: 'deleted' },
    ]);
    expect(report).toMatchObject({ nodeInstances: 2, usageRecords: 1 });
    expect([...w.vultr.keys()]).toEqual(['v-human']);
    expect(w.nodes().map((n) => n.id).sort()).toEqual(['n3', 'n4']);
    expect(rollbackFailures(report)).toEqual([]);
  });

  it('is idempotent: the second run finds nothing to do', async () => {
    const w = world();
    await rollback({ kind: 'run', runId: 'run1' }, w, options);
    const again = await rollback({ kind: 'run', runId: 'run1' }, w, options);
    expect(foundNothing(again)).toBe(true);
    expect(again.accounts).toHaveLength(2);
  });

  it('keeps the row of an id Vultr answers 404 for when the suite never saw it exist, and says so', async () => {
    const w = world();
    const report = await rollback({ kind: 'older-than', ageMs: 60 * 60_000 }, w, { ...options, now: new Date('2026-01-01T00:00:00Z') });
    expect(report.accounts.map((a) => a.id)).toEqual(['acc-old']);
    expect(report.cloudInstances).toEqual([
      {
        id: 'v-gone',
        accountId: 'acc-old',
        foundVia: ['db'],
        keys: [],
        outcome: 'unknown',
        error: 'Vultr answers 404 for an id the suite never saw exist (another Vultr account, or a wrong id in the row)',
      },
    ]);
    expect(report.nodeInstances).toBe(0);
    expect(w.nodes().map((n) => n.id)).toContain('n4');
    expect(rollbackFailures(report)).toEqual([
      'kept NodeInstance n4 (Vultr v-gone): Vultr instance v-gone unknown: Vultr answers 404 for an id the suite never saw exist (another Vultr account, or a wrong id in the row)',
    ]);
    expect(foundNothing(report)).toBe(false);
  });

  it('counts a 404 as gone once the suite has seen the instance exist (listed by its tag)', async () => {
    const w = world();
    const store = { ...w.store };
    const cloud: RollbackCloud = { ...w.cloud, deleteInstance: async (id) => (w.vultr.delete(id) ? 'already_gone' : 'already_gone') };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store, clouds: pool(cloud) }, options);
    expect(report.cloudInstances.map((i) => [i.id, i.outcome])).toEqual([
      ['v-funnel', 'already_gone'],
      ['v-orphan', 'already_gone'],
    ]);
    expect(report.nodeInstances).toBe(2);
    expect(report.kept).toEqual([]);
  });

  it('keeps the rows of an instance whose deletion failed, and names them', async () => {
    const w = world();
    const cloud: RollbackCloud = {
      ...w.cloud,
      deleteInstance: async (id) => {
        if (id === 'v-funnel') throw new Error('Vultr DELETE /v2/instances/v-funnel answered 500');
        return w.cloud.deleteInstance(id);
      },
    };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: pool(cloud) }, options);
    expect(w.nodes().map((n) => n.id).sort()).toEqual(['n1', 'n3', 'n4']);
    expect(w.usage().map((u) => u.id)).toEqual(['u1', 'u2']);
    expect(report.kept).toEqual([
      {
        nodeInstanceId: 'n1',
        accountId: 'acc-funnel',
        providerInstanceId: 'v-funnel',
        status: 'running',
        reason: 'deleting Vultr instance v-funnel failed: Vultr DELETE /v2/instances/v-funnel answered 500',
      },
    ]);
    expect(formatRollbackReport(report)).toContain('kept NodeInstance n1 (running, Vultr v-funnel): deleting Vultr instance v-funnel failed');
  });

  it('waits for a row still in flight, and keeps it when it does not settle', async () => {
    const w = world();
    w.setNodes([...w.nodes(), { id: 'n5', account_id: 'acc-user', provider_instance_id: null, status: 'pending' }]);
    const report = await rollback({ kind: 'run', runId: 'run1' }, w, { ...options, settleTimeoutMs: 5, settlePollMs: 1 });
    expect(report.kept.map((k) => [k.nodeInstanceId, k.reason])).toEqual([['n5', 'still pending with no Vultr id yet: the worker may still create its VM']]);
    expect(w.nodes().map((n) => n.id)).toContain('n5');
    expect(report.nodeInstances).toBe(2);
  });

  it('waits for every configured in-flight mission status (public Powernode: executing)', async () => {
    const w = world();
    w.missions.push({ id: 'm1', account_id: 'acc-funnel', status: 'executing' });
    const reference = await rollback({ kind: 'run', runId: 'run1' }, world(), { ...options, settleTimeoutMs: 5, settlePollMs: 1 });
    expect(reference.problems).toEqual([]);
    const core = await rollback({ kind: 'run', runId: 'run1' }, w, { ...options, settleTimeoutMs: 5, settlePollMs: 1, inFlightMissionStatuses: ['executing'] });
    expect(core.problems).toEqual(['mission m1 still executing: the worker may still create a Vultr instance; run rollback again once it settles']);
  });

  it('keeps a row with no Vultr id when its account could not be listed: a VM of it may be unseen', async () => {
    const w = world();
    const cloud: RollbackCloud = {
      ...w.cloud,
      instancesByTag: async (tag) => {
        if (tag === 'account:acc-user') throw new Error('Vultr GET /v2/instances answered 503');
        return w.cloud.instancesByTag(tag);
      },
    };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: pool(cloud) }, options);
    expect(report.kept.map((k) => k.nodeInstanceId)).toEqual(['n2']);
    expect(w.nodes().map((n) => n.id)).toContain('n2');
  });

  it('--older-than sweeps only the runs it is given (this checkout\'s), unless all', async () => {
    const w = world();
    const now = new Date('2030-01-01T00:00:00Z');
    const mine = await rollback({ kind: 'older-than', ageMs: 0, runIds: ['run0'] }, w, { ...options, now, dryRun: true });
    expect(mine.accounts.map((a) => a.id)).toEqual(['acc-old']);
    const none = await rollback({ kind: 'older-than', ageMs: 0, runIds: [] }, w, { ...options, now, dryRun: true });
    expect(none.accounts).toEqual([]);
  });

  it('--older-than never reaches accounts outside the suite namespace', async () => {
    const w = world();
    const report = await rollback({ kind: 'older-than', ageMs: 0 }, w, { ...options, now: new Date('2030-01-01T00:00:00Z') });
    expect(report.accounts.map((a) => a.id).sort()).toEqual(['acc-funnel', 'acc-old', 'acc-user']);
    expect(w.vultr.has('v-human')).toBe(true);
    expect(w.usage()).toEqual([{ id: 'u2', account_id: 'acc-human', node_instance_id: 'n3' }]);
  });

  it('a dry run changes nothing and says what it would do', async () => {
    const w = world();
    const report = await rollback({ kind: 'run', runId: 'run1' }, w, { ...options, dryRun: true });
    expect(report.cloudInstances.map((i) => i.outcome)).toEqual(['would_delete', 'would_delete']);
    expect(report).toMatchObject({ nodeInstances: 2, usageRecords: 1 });
    expect(w.vultr.size).toBe(3);
    expect(w.nodes()).toHaveLength(4);
    expect(formatRollbackReport(report)).toMatch(/dry run, nothing changed/);
  });

  it('rolls back only the e-mails a test tracked', async () => {
    const w = world();
    const report = await rollback({ kind: 'emails', emails: ['e2e+run1-user-w1r0t0-bbbbbb@e2e.test'] }, w, options);
    expect(report.cloudInstances.map((i) => i.id)).toEqual(['v-orphan']);
    expect(w.vultr.has('v-funnel')).toBe(true);
  });

  it('keeps going when Vultr fails, and reports it', async () => {
    const w = world();
    const failing: RollbackCloud = {
      instancesByTag: async () => {
        throw new Error('Vultr GET /v2/instances answered 500');
      },
      allInstances: async () => {
        throw new Error('Vultr GET /v2/instances answered 500');
      },
      instance: async () => {
        throw new Error('Vultr GET /v2/instances/v-funnel answered 500');
      },
      deleteInstance: async () => {
        throw new Error('Vultr DELETE answered 500');
      },
    };
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: pool(failing) }, options);
    expect(report.cloudInstances).toEqual([
      { id: 'v-funnel', accountId: 'acc-funnel', foundVia: ['db'], keys: [], outcome: 'failed', error: 'Vultr GET /v2/instances/v-funnel answered 500' },
    ]);
    // Nothing is confirmed gone, and no account could be listed: every row stays.
    expect(report.nodeInstances).toBe(0);
    expect(report.kept.map((k) => k.nodeInstanceId).sort()).toEqual(['n1', 'n2']);
    expect(rollbackFailures(report)).toHaveLength(5);
  });

  it('finds nothing for a run that created nothing', async () => {
    const report = await rollback({ kind: 'run', runId: 'nosuchrun' }, world(), options);
    expect(report.accounts).toEqual([]);
    expect(foundNothing(report)).toBe(true);
  });
});

/** A Vultr account of its own, as the emulator and Vultr keep one per key: its instances, and the calls made to it. */
function account(instances: [string, string[]][]) {
  const vultr = new Map(instances);
  const calls: string[] = [];
  const cloud: RollbackCloud = {
    async instancesByTag(tag) {
      calls.push(`list ${tag}`);
      return [...vultr].filter(([, tags]) => tags.includes(tag)).map(([id]) => ({ id }));
    },
    async allInstances() {
      calls.push('list all');
      return [...vultr].map(([id, tags]) => ({ id, tags }));
    },
    async instance(id) {
      calls.push(`get ${id}`);
      return vultr.has(id) ? { id } : null;
    },
    async deleteInstance(id) {
      calls.push(`delete ${id}`);
      return vultr.delete(id) ? 'deleted' : 'already_gone';
    },
  };
  return { vultr, calls, cloud };
}

const unreachable: RollbackCloud = {
  instancesByTag: async () => {
    throw new Error('Vultr GET /v2/instances answered 503');
  },
  allInstances: async () => {
    throw new Error('Vultr GET /v2/instances answered 503');
  },
  instance: async (id) => {
    throw new Error(`Vultr GET /v2/instances/${id} answered 503`);
  },
  deleteInstance: async (id) => {
    throw new Error(`Vultr DELETE /v2/instances/${id} answered 503`);
  },
};

describe('rollback across Vultr accounts (the platform pool and the account-isolation key)', () => {
  /** The world above, plus the account-isolation test's user with a VM made with its own key, in the second account. */
  function twoAccounts() {
    const w = world();
    w.setNodes([...w.nodes(), { id: 'n6', account_id: 'acc-user', provider_instance_id: 'v-iso', status: 'running' }]);
    const isolation = account([['v-iso', ['powernode', 'account:acc-user']]]);
    const poolCalls: string[] = [];
    // The pool's key answers 404 for the other account's instance, as Vultr does: on GET and on DELETE.
    const poolCloud: RollbackCloud = {
      instancesByTag: (tag) => w.cloud.instancesByTag(tag),
      allInstances: () => w.cloud.allInstances(),
      instance: (id) => w.cloud.instance(id),
      deleteInstance: async (id) => {
        poolCalls.push(`delete ${id}`);
        return w.cloud.deleteInstance(id);
      },
    };
    const clouds = (isolationCloud: RollbackCloud = isolation.cloud): RollbackVultrAccount[] => [
      { key: 'VULTR_API_KEY', cloud: poolCloud },
      { key: 'VULTR_ISOLATION_API_KEY', cloud: isolationCloud },
    ];
    return { ...w, isolation, poolCalls, clouds };
  }

  it("destroys the isolation key's VM with that key, never taking the pool's 404 for gone", async () => {
    const w = twoAccounts();
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: w.clouds() }, options);

    expect(report.cloudInstances.find((i) => i.id === 'v-iso')).toEqual({
      id: 'v-iso',
      accountId: 'acc-user',
      foundVia: ['db', 'tag'],
      keys: ['VULTR_ISOLATION_API_KEY'],
      outcome: 'deleted',
    });
    expect(w.isolation.vultr.size, 'the VM is gone from the account that held it').toBe(0);
    expect(w.poolCalls, "the pool's key never deletes what it never saw").not.toContain('delete v-iso');
    expect(w.nodes().map((n) => n.id).sort()).toEqual(['n3', 'n4']);
    expect(rollbackFailures(report)).toEqual([]);
    expect(formatRollbackReport(report)).toContain('v-iso [account acc-user, via db+tag, Vultr account of VULTR_ISOLATION_API_KEY]: deleted');
  });

  it("keeps the row when the pool's key answers 404 and the isolation key's account cannot be asked", async () => {
    const w = twoAccounts();
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: w.clouds(unreachable) }, options);

    expect(report.cloudInstances.find((i) => i.id === 'v-iso')).toEqual({
      id: 'v-iso',
      accountId: 'acc-user',
      foundVia: ['db'],
      keys: [],
      outcome: 'failed',
      error: 'Vultr GET /v2/instances/v-iso answered 503',
    });
    expect(w.nodes().map((n) => n.id), "the VM may still run in the isolation key's account: its row stays").toContain('n6');
    // Nor is a row with no Vultr id deleted: the account was listed with one key of two.
    expect(report.kept.map((k) => k.nodeInstanceId).sort()).toEqual(['n2', 'n6']);
    expect(report.problems).toEqual(['listing Vultr instances tagged account:acc-funnel with VULTR_ISOLATION_API_KEY: Vultr GET /v2/instances answered 503', 'listing Vultr instances tagged account:acc-user with VULTR_ISOLATION_API_KEY: Vultr GET /v2/instances answered 503']);
    // What the pool's key saw and deleted still goes.
    expect(w.nodes().map((n) => n.id)).not.toContain('n1');
  });

  it('finds by GET, under whichever key holds it, an instance its row names but no tag listing showed', async () => {
    const w = twoAccounts();
    w.isolation.vultr.set('v-iso', ['powernode']);
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: w.clouds() }, options);
    expect(report.cloudInstances.find((i) => i.id === 'v-iso')).toMatchObject({ foundVia: ['db'], keys: ['VULTR_ISOLATION_API_KEY'], outcome: 'deleted' });
    expect(w.isolation.calls).toEqual(['list account:acc-funnel', 'list account:acc-user', 'get v-iso', 'delete v-iso']);
  });

  it('calls an id unknown only when every key answers 404 for it, naming the keys', async () => {
    const w = twoAccounts();
    w.isolation.vultr.clear();
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: w.clouds() }, options);
    expect(report.cloudInstances.find((i) => i.id === 'v-iso')).toMatchObject({
      keys: [],
      outcome: 'unknown',
      error: 'Vultr answers 404 under every key (VULTR_API_KEY, VULTR_ISOLATION_API_KEY) for an id the suite never saw exist (another Vultr account, or a wrong id in the row)',
    });
    expect(w.nodes().map((n) => n.id)).toContain('n6');
  });

  it('lists every account once per key when a run has many accounts, and is idempotent across both', async () => {
    const w = twoAccounts();
    const extra = ['acc-x1', 'acc-x2', 'acc-x3'].map((id, i) => ({ account_id: id, email: `e2e+run1-user-w${i + 2}r0t0-dddddd@e2e.test` }));
    const store = {
      ...w.store,
      async accountsByEmailPattern(pattern: string, createdBefore?: Date) {
        return [...(await w.store.accountsByEmailPattern(pattern, createdBefore)), ...extra];
      },
    };
    w.isolation.vultr.set('v-x3', ['account:acc-x3']);
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store, clouds: w.clouds() }, options);
    expect(w.isolation.calls.filter((c) => c.startsWith('list'))).toEqual(['list all']);
    expect(report.cloudInstances.filter((i) => i.keys.includes('VULTR_ISOLATION_API_KEY')).map((i) => i.id).sort()).toEqual(['v-iso', 'v-x3']);
    expect(foundNothing(await rollback({ kind: 'run', runId: 'run1' }, { store, clouds: w.clouds() }, options))).toBe(true);
  });

  it('a dry run says which account holds each instance, and touches neither', async () => {
    const w = twoAccounts();
    const report = await rollback({ kind: 'run', runId: 'run1' }, { store: w.store, clouds: w.clouds() }, { ...options, dryRun: true });
    expect(report.cloudInstances.map((i) => [i.id, i.keys.join('+'), i.outcome])).toEqual([
      ['v-funnel', 'VULTR_API_KEY', 'would_delete'],
      ['v-iso', 'VULTR_ISOLATION_API_KEY', 'would_delete'],
      ['v-orphan', 'VULTR_API_KEY', 'would_delete'],
    ]);
    expect(w.isolation.calls.filter((c) => c.startsWith('delete'))).toEqual([]);
  });
});
