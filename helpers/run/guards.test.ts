import { describe, expect, it } from 'vitest';
import { approveRefusal, sharedStateRefusal } from './guards';

const local = { BASE_URL: 'http://127.0.0.1:3100', VULTR_API_URL: 'http://127.0.0.1:3101/v2', ALLOW_REAL_CLOUD: false, MAX_INSTANCES_PER_RUN: 3 };

describe('approve guard', () => {
  it('lets the local emulator approve while under the instance budget', () => {
    expect(approveRefusal(local, 2)).toBeNull();
  });

  it('refuses once the run holds MAX_INSTANCES_PER_RUN instances', () => {
    expect(approveRefusal(local, 2)).toBeNull();
    expect(approveRefusal(local, 3)).toMatch(/cap is 3 \(MAX_INSTANCES_PER_RUN 3 × 1 repetition/);
  });

  it('scales the cap with --repeat-each', () => {
    process.env.E2E_REPEAT_EACH = '3';
    try {
      expect(approveRefusal(local, 8)).toBeNull();
      expect(approveRefusal(local, 9)).toMatch(/cap is 9/);
    } finally {
      delete process.env.E2E_REPEAT_EACH;
    }
  });

  it('refuses a real cloud without ALLOW_REAL_CLOUD=1', () => {
    const real = { ...local, VULTR_API_URL: 'https://api.vultr.com/v2' };
    expect(approveRefusal(real, 0)).toMatch(/ALLOW_REAL_CLOUD=1/);
    expect(approveRefusal({ ...real, ALLOW_REAL_CLOUD: true }, 0)).toBeNull();
  });

  it('refuses a remote backend without ALLOW_REAL_CLOUD=1, whatever VULTR_API_URL says', () => {
    // The backend creates VMs with its own key: a local VULTR_API_URL does not make it free.
    const remote = { ...local, BASE_URL: 'https://dev.powernode.example' };
    expect(approveRefusal(remote, 0)).toMatch(/^refusing to approve: BASE_URL \(dev\.powernode\.example\) is not on this machine.*ALLOW_REAL_CLOUD=1/);
    expect(approveRefusal({ ...remote, VULTR_API_URL: 'https://api.vultr.com/v2' }, 0)).toMatch(/BASE_URL/);
    expect(approveRefusal({ ...remote, ALLOW_REAL_CLOUD: true }, 0)).toBeNull();
  });

});

describe('shared-state guard', () => {
  it('lets a local target switch the pool off, and a remote one only with ALLOW_SHARED_STATE_CHANGES=1', () => {
    expect(sharedStateRefusal({ isLocalTarget: true, ALLOW_SHARED_STATE_CHANGES: false })).toBeNull();
    expect(sharedStateRefusal({ isLocalTarget: false, ALLOW_SHARED_STATE_CHANGES: false })).toMatch(/^skipped: .*set ALLOW_SHARED_STATE_CHANGES=1/);
    expect(sharedStateRefusal({ isLocalTarget: false, ALLOW_SHARED_STATE_CHANGES: true })).toBeNull();
  });
});
