import { dollarsCompact, toNumber, upgradeCopy } from '../format';
import { Link } from '../router';
import { hasPageFault } from '../faults';

export type UpgradeRequired = {
  reason: string;
  message: string;
  planSlug: string;
  limits: Record<string, unknown> | undefined;
  usage: Record<string, unknown> | undefined;
};

/** Public Powernode's paywall: the worker's chat message (paywall_in_chat), its text and its metadata. */
export type ChatUpgrade = { message: string; reason: string; cap: number | null; upgradeUrl: string | null };

export function chatLimitText(reason: string, cap: number): string {
  if (reason === 'max_active_instances_exceeded') return `Limit: ${cap} ${cap === 1 ? 'instance' : 'instances'}`;
  return `Limit: ${dollarsCompact(cap)}/mo of provisioning`;
}

/** Inline on the assistant's message; the CTA goes where the message says, else to /checkout. */
export function ChatUpgradeCard({ upgrade }: { upgrade: ChatUpgrade }) {
  return (
    <section className="card upgrade-card" data-testid="upgrade-required-card" data-reason={upgrade.reason} aria-label="Upgrade required">
      <div className="upgrade-icon" aria-hidden="true">
        ⤴
      </div>
      <div className="upgrade-body">
        <h2>Upgrade required</h2>
        {upgrade.cap !== null && <p className="upgrade-limits small">{chatLimitText(upgrade.reason, upgrade.cap)}</p>}
        <p className="muted small">Nothing was created and nothing was charged.</p>
        <div className="upgrade-actions">
          <Link to={upgrade.upgradeUrl || '/checkout'} className="btn btn-primary" data-testid="upgrade-required-cta">
            Upgrade plan
          </Link>
        </div>
      </div>
    </section>
  );
}

export function UpgradeRequiredCard({ upgrade, onDismiss }: { upgrade: UpgradeRequired; onDismiss: () => void }) {
  const headline = hasPageFault('paywall_headline_generic')
    ? 'You have reached a limit.'
    : upgrade.message || upgradeCopy(upgrade.reason, upgrade.limits, upgrade.planSlug);
  const maxInstances = upgrade.limits?.max_node_instances;
  const maxUsd = upgrade.limits?.max_monthly_provisioning_usd;
  const usedInstances = upgrade.usage?.node_instance_count;
  const usedUsd = upgrade.usage?.monthly_provisioning_usd;

  return (
    <section className="card upgrade-card" data-testid="upgrade-required-card" data-reason={upgrade.reason} aria-labelledby="upgrade-title">
      <div className="upgrade-icon" aria-hidden="true">
        ⤴
      </div>
      <div className="upgrade-body">
        <h2 id="upgrade-title">Upgrade required</h2>
        <p>{headline}</p>
        {(maxInstances !== undefined || maxUsd !== undefined) && (
          <ul className="upgrade-limits small">
            {maxInstances !== undefined && (
              <li className={upgrade.reason === 'max_node_instances' ? 'hit' : ''}>
                Instances: {usedInstances !== undefined ? `${toNumber(usedInstances)} of ` : 'up to '}
                {toNumber(maxInstances)}
              </li>
            )}
            {maxUsd !== undefined && (
              <li className={upgrade.reason === 'max_monthly_provisioning_usd' ? 'hit' : ''}>
                Monthly provisioning: {usedUsd !== undefined ? `$${toNumber(usedUsd).toFixed(2)} of ` : 'up to '}
                {dollarsCompact(toNumber(maxUsd))}/mo
              </li>
            )}
          </ul>
        )}
        <p className="muted small">Nothing was created and nothing was charged.</p>
        <div className="upgrade-actions">
          <Link to="/checkout?plan=pro_cloud" className="btn btn-primary" data-testid="upgrade-required-cta">
            {hasPageFault('paywall_cta_text_wrong') ? 'Upgrade' : 'Upgrade to Pro Cloud'}
          </Link>
          <button type="button" className="btn btn-ghost" onClick={onDismiss}>
            Not now
          </button>
        </div>
      </div>
    </section>
  );
}
