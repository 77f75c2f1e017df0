/**
 * Safety checks run before every Approve click: an approve may create a real, billed instance.
 * The run refuses to approve against a remote backend or a non-loopback Vultr unless
 * ALLOW_REAL_CLOUD=1 (a remote backend creates VMs with its own key, whatever VULTR_API_URL says),
 * and never holds more than MAX_INSTANCES_PER_RUN instances at the cloud at once.
 */
import { isLoopbackUrl, type Config } from '../config';

export class ApproveRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApproveRefused';
  }
}

export type GuardConfig = Pick<Config, 'BASE_URL' | 'VULTR_API_URL' | 'ALLOW_REAL_CLOUD' | 'MAX_INSTANCES_PER_RUN'>;

/** Why this target may not create VMs without ALLOW_REAL_CLOUD=1, or null when it may. */
export function realCloudRefusal(config: Pick<Config, 'BASE_URL' | 'VULTR_API_URL' | 'ALLOW_REAL_CLOUD'>): string | null {
  if (config.ALLOW_REAL_CLOUD) return null;
  if (!isLoopbackUrl(config.BASE_URL)) {
    return `refusing to approve: BASE_URL (${new URL(config.BASE_URL).host}) is not on this machine, and its backend creates billed VMs with its own Vultr key; set ALLOW_REAL_CLOUD=1 to allow it`;
  }
  if (!isLoopbackUrl(config.VULTR_API_URL)) {
    return `refusing to approve: VULTR_API_URL (${new URL(config.VULTR_API_URL).host}) is a real cloud; set ALLOW_REAL_CLOUD=1 to let this run create billed instances`;
  }
  return null;
}

export function approveRefusal(config: GuardConfig, liveInstancesInRun: number): string | null {
  const realCloud = realCloudRefusal(config);
  if (realCloud) return realCloud;
  const repetitions = Math.max(1, Number(process.env.E2E_REPEAT_EACH ?? 1) || 1);
  const cap = config.MAX_INSTANCES_PER_RUN * repetitions;
  if (liveInstancesInRun + 1 > cap) {
    return `refusing to approve: this run already holds ${liveInstancesInRun} cloud instance(s) and its cap is ${cap} (MAX_INSTANCES_PER_RUN ${config.MAX_INSTANCES_PER_RUN} × ${repetitions} repetition(s)); raise it or roll back (npm run rollback -- --run-id <id>)`;
  }
  return null;
}

/** Why the run may not switch off state the target shares (the platform pool), or null when it may. */
export function sharedStateRefusal(config: Pick<Config, 'isLocalTarget' | 'ALLOW_SHARED_STATE_CHANGES'>): string | null {
  if (config.isLocalTarget || config.ALLOW_SHARED_STATE_CHANGES) return null;
  return 'skipped: switching off the platform-pool credential changes state this target shares with colleagues; set ALLOW_SHARED_STATE_CHANGES=1 to run it (it is always put back)';
}
