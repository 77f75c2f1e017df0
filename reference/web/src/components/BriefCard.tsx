import { BRIEF_FIELDS, briefRawValue, costCapText, displayBriefValue, toNumber } from '../format';
import type { Brief, Spend } from '../types';
import { hasPageFault } from '../faults';
import { hasVariant } from '../variants';

/** The free plan's provisioning limit (CONTRACT 6.7), which the `cost_cap_text_wrong` fault shows instead of the cap. */
const FREE_PLAN_PROVISIONING_LIMIT_USD = 20;

type Props = { brief: Brief | null; missing: string[]; spend: Spend | null; spendError: string | null };

/** The self-test's defects: a row that reads otherwise than the data-value beside it. */
function faultyRowText(key: string, brief: Brief): string | undefined {
  if (key === 'budget_cap_usd_monthly' && hasPageFault('brief_budget_text_wrong') && typeof brief.budget_cap_usd_monthly === 'number') {
    return `$${brief.budget_cap_usd_monthly * 2}/mo`;
  }
  if (key === 'regions' && hasPageFault('brief_regions_text_wrong')) return 'us-west-1';
  if (key === 'scale' && hasPageFault('brief_scale_text_wrong')) return '1→3 · linear';
  return undefined;
}

export function BriefCard({ brief, missing, spend, spendError }: Props) {
  const cap = brief && typeof brief.budget_cap_usd_monthly === 'number' ? brief.budget_cap_usd_monthly : null;
  const style = hasVariant('brief_core') ? 'core' : 'runbook';

  return (
    <section className="card brief-card" data-testid="brief-card" aria-labelledby="brief-title">
      <h2 id="brief-title">{style === 'core' ? 'Project brief' : 'Brief'}</h2>
      {!brief ? (
        <p className="muted empty">Describe what you want to run. The details you give will be captured here.</p>
      ) : (
        <dl className="brief-fields">
          {BRIEF_FIELDS.map(({ key, label }) => {
            const shown = faultyRowText(key, brief) ?? displayBriefValue(key, brief, style);
            return (
              <div key={key} className="brief-row" data-testid={`brief-field-${key}`} data-value={briefRawValue(key, brief)}>
                <dt>{label}</dt>
                <dd className={shown ? '' : 'muted'}>{shown ?? (missing.includes(key) ? 'Needed' : '—')}</dd>
              </div>
            );
          })}
        </dl>
      )}

      {cap !== null && <CostCap cap={cap} spend={spend} spendError={spendError} />}
    </section>
  );
}

function CostCap({ cap, spend, spendError }: { cap: number; spend: Spend | null; spendError: string | null }) {
  if (!spend) {
    return (
      <div className="cost-cap">
        <p className="cost-cap-label">Monthly spend</p>
        {spendError ? (
          <p className="error small" role="alert">
            Spend unavailable: {spendError}
          </p>
        ) : (
          <p className="muted small">Loading spend…</p>
        )}
      </div>
    );
  }
  const runRate = toNumber(spend.monthly_run_rate_usd);
  const share = cap > 0 ? Math.min(100, (runRate / cap) * 100) : 100;
  const level = share >= 100 ? 'over' : share >= 80 ? 'near' : 'ok';
  return (
    <div className="cost-cap">
      <p className="cost-cap-label" id="cost-cap-label">
        Monthly spend against your budget cap
      </p>
      <div
        className={`cost-cap-bar cap-${level}`}
        data-testid="brief-cost-cap"
        role="progressbar"
        aria-labelledby="cost-cap-label"
        aria-valuemin={0}
        aria-valuemax={hasPageFault('cost_cap_max_wrong') ? 100 : cap}
        // Always two decimals ("5.04", "0.00"): the attribute mirrors the spend endpoint to the cent.
        aria-valuenow={runRate.toFixed(2) as unknown as number}
        aria-valuetext={costCapText(runRate, cap)}
      >
        <span className="cost-cap-track" aria-hidden="true">
          <span className="cost-cap-fill" style={{ width: `${share}%` }} />
        </span>
        <span className="cost-cap-text">{costCapText(runRate, hasPageFault('cost_cap_text_wrong') ? FREE_PLAN_PROVISIONING_LIMIT_USD : cap)}</span>
      </div>
    </div>
  );
}
