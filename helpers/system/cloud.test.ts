import { describe, expect, it } from 'vitest';
import type { Queries } from '../clients/queries';
import type { VultrClient, VultrJournal } from '../clients/vultr';
import { Cloud, footprintProblem } from './cloud';

const instance = (id: string) => ({ id, status: 'active', power_status: 'running', region: 'ewr', plan: 'vc2-1c-1gb', tags: [] });

describe('footprintProblem', () => {
  it('holds when the account has the instances it should and no create call', () => {
    expect(footprintProblem({ instances: [instance('i1')], createCalls: [] }, 1)).toBeNull();
    expect(footprintProblem({ instances: [], createCalls: null }, 0)).toBeNull();
  });

  it('names an extra instance and every create call the journal attributes to the account', () => {
    expect(footprintProblem({ instances: [instance('i1'), instance('i2')], createCalls: [] }, 1)).toBe('2 instance(s) at Vultr for the account (i1, i2), expected 1');
    expect(
      footprintProblem({ instances: [], createCalls: [{ method: 'POST', path: '/v2/instances', status: 202, time: '2026-01-01T10:00:00Z', tags: ['powernode'] }] }, 0),
    ).toBe('1 create call(s) the emulator journal attributes to the account: 202 at 2026-01-01T10:00:00Z [powernode]');
  });
});

/** A Vultr account's client, as far as Cloud asks it: its instances and its GET /account. */
function fakeVultr(instances: { id: string; tags: string[] }[], email: string) {
  const full = instances.map((i) => instance(i.id)).map((i, n) => ({ ...i, tags: instances[n]!.tags }));
  return {
    account: async () => ({ name: email.split('@')[0], email }),
    instance: async (id: string) => full.find((i) => i.id === id) ?? null,
    instancesByTag: async (tag: string) => full.filter((i) => i.tags.includes(tag)),
    allInstances: async () => full,
  } as unknown as VultrClient;
}

const noJournal = {} as VultrJournal;
const noQueries = {} as Queries;

describe('Cloud across Vultr accounts', () => {
  const pool = fakeVultr([{ id: 'p1', tags: ['account:a1'] }, { id: 'p2', tags: ['account:other'] }], 'platform@powernode.test');
  const isolation = fakeVultr([{ id: 'i1', tags: ['account:a2'] }], 'account-2@powernode.test');
  const cloud = new Cloud(
    [
      { key: 'VULTR_API_KEY', client: pool },
      { key: 'VULTR_ISOLATION_API_KEY', client: isolation },
    ],
    noJournal,
    noQueries,
    { isLocalTarget: true },
  );

  it("counts the run's tagged instances in every account, for the instance cap", async () => {
    expect((await cloud.taggedInstanceIds(['a1', 'a2'])).sort()).toEqual(['i1', 'p1']);
    expect((await cloud.taggedInstanceIds(['a1', 'a2', 'a3', 'a4'])).sort()).toEqual(['i1', 'p1']);
  });

  it('reads one account through its key, and says when the suite holds no such key', async () => {
    expect(await cloud.under('VULTR_ISOLATION_API_KEY').instance('i1')).toMatchObject({ id: 'i1' });
    expect(await cloud.under('VULTR_API_KEY').instance('i1')).toBeNull();
    const poolOnly = new Cloud([{ key: 'VULTR_API_KEY', client: pool }], noJournal, noQueries, { isLocalTarget: false });
    expect(() => poolOnly.under('VULTR_ISOLATION_API_KEY')).toThrow('VULTR_ISOLATION_API_KEY is not set: the suite holds no key of that Vultr account');
  });

  it("proves the pool's key could see the instance before its 404 counts: another account, a listing, the tag", async () => {
    const held = { ...instance('i1'), tags: ['powernode', 'account:a2'] };
    const holder = { name: 'account-2', email: 'account-2@powernode.test' };
    const proof = await cloud.under('VULTR_API_KEY').sightProof(held, 'a2', holder);
    expect(proof).toEqual({
      problem: null,
      how: 'VULTR_API_KEY opens the Vultr account platform@powernode.test (GET /account), whose listing answers (2 instance(s)); the instance i1 carries account:a2, which the tag listing filters by',
    });
    expect((await cloud.under('VULTR_API_KEY').sightProof({ ...held, tags: ['powernode'] }, 'a2', holder)).problem).toMatch(/does not carry account:a2/);
    expect((await cloud.under('VULTR_API_KEY').sightProof(held, 'a2', { name: 'p', email: 'platform@powernode.test' })).problem).toMatch(/the very account that holds the instance/);
  });
});
