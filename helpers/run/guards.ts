/**
 * Safety checks run before every Approve click: an approve may create a real, billed instance.
 * The run refuses to approve against a non-loopback Vultr unless ALLOW_REAL_CLOUD=1, and never
 * holds more than MAX_INSTANCES_PER_RUN instances at the cloud at once.
 */
import { isLoopbackUrl, type Config } from '../config';

export class ApproveRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApproveRefused';
  }
}

export function approveRefusal(
  config: Pick<Config, 'VULTR_API_URL' | 'ALLOW_REAL_CLOUD' | 'MAX_INSTANCES_PER_RUN'>,
  liveInstancesInRun: number,
): string | null {
  if (!isLoopbackUrl(config.VULTR_API_URL) && !config.ALLOW_REAL_CLOUD) {
    return `refusing to approve: VULTR_API_URL (${new URL(config.VULTR_API_URL).host}) is a real cloud; set ALLOW_REAL_CLOUD=1 to let this run create billed instances`;
  }
  const repetitions = Math.max(1, Number(process.env.E2E_REPEAT_EACH ?? 1) || 1);
  const cap = config.MAX_INSTANCES_PER_RUN * repetitions;
  if (liveInstancesInRun + 1 > cap) {
    return `refusing to approve: this run already holds ${liveInstancesInRun} cloud instance(s) and its cap is ${cap} (MAX_INSTANCES_PER_RUN ${config.MAX_INSTANCES_PER_RUN} × ${repetitions} repetition(s)); raise it or roll back (npm run rollback -- --run-id <id>)`;
  }
  return null;
}

export async function assertMayApprove(
  config: Pick<Config, 'VULTR_API_URL' | 'ALLOW_REAL_CLOUD' | 'MAX_INSTANCES_PER_RUN'>,
  countLiveInstancesInRun: () => Promise<number>,
): Promise<void> {
  const refusal = approveRefusal(config, await countLiveInstancesInRun());
  if (refusal) throw new ApproveRefused(refusal);
}
