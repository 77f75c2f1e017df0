import { useCallback, useEffect, useState } from 'react';
import { api, errorMessage } from '../api';
import { dollarsCompact, perMonth, spendSourceText, toNumber, usdFine } from '../format';
import { hasPageFault } from '../faults';
import { Link } from '../router';
import type { Spend, Subscription } from '../types';

type Loadable<T> = { data: T | null; error: string | null };

export function BillingPage() {
  const [subscription, setSubscription] = useState<Loadable<Subscription>>({ data: null, error: null });
  const [spend, setSpend] = useState<Loadable<Spend>>({ data: null, error: null });

  const load = useCallback(async (cancelled: () => boolean) => {
    await Promise.all([
      api<Subscription>('GET', '/billing/subscription').then(
        (data) => !cancelled() && setSubscription({ data, error: null }),
        (error: unknown) => !cancelled() && setSubscription({ data: null, error: errorMessage(error) }),
      ),
      api<Spend>('GET', '/billing/spend').then(
        (data) => !cancelled() && setSpend({ data, error: null }),
        (error: unknown) => !cancelled() && setSpend({ data: null, error: errorMessage(error) }),
      ),
    ]);
  }, []);

  useEffect(() => {
    let cancelled = false;
    void load(() => cancelled);
    return () => {
      cancelled = true;
    };
  }, [load]);

  const sub = subscription.data;
  const limits = sub?.limits ?? null;

  return (
    <div className="page">
      <h1>Billing</h1>

      <section className="card" aria-labelledby="plan-heading">
        <h2 id="plan-heading">Subscription</h2>
        {subscription.error ? (
          <p className="error" role="alert">
            Could not load your subscription: {subscription.error}
          </p>
        ) : !sub ? (
          <p className="muted loading">Loading subscription…</p>
        ) : (
          <div className="plan-summary">
            <div>
              <p className="muted small">Current plan</p>
              <p className="plan-name" data-testid="current-plan">
                {sub.plan_name ?? sub.plan_slug}
              </p>
              <p className={`status-badge status-${sub.status}`}>{sub.status}</p>
            </div>
            {limits && (
              <dl className="limits">
                {limits.max_node_instances !== undefined && (
                  <div>
                    <dt>Instances</dt>
                    <dd>up to {limits.max_node_instances}</dd>
                  </div>
                )}
                {limits.max_monthly_provisioning_usd !== undefined && (
                  <div>
                    <dt>Provisioning</dt>
                    <dd>up to {dollarsCompact(toNumber(limits.max_monthly_provisioning_usd))}/mo</dd>
                  </div>
                )}
              </dl>
            )}
            {sub.plan_slug !== 'pro_cloud' && (
              <Link to="/checkout?plan=pro_cloud" className="btn btn-primary">
                Upgrade to Pro Cloud
              </Link>
            )}
          </div>
        )}
      </section>

      <section className="card" aria-labelledby="spend-heading">
        <div className="card-title-row">
          <h2 id="spend-heading">Live spend</h2>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => void load(() => false)}>
            Refresh
          </button>
        </div>
        {spend.error ? (
          <p className="error" role="alert">
            Could not load live spend: {spend.error}
          </p>
        ) : !spend.data ? (
          <p className="muted loading">Loading spend…</p>
        ) : (
          <SpendTracker spend={spend.data} />
        )}
      </section>
    </div>
  );
}

export function SpendTracker({ spend }: { spend: Spend }) {
  const monthly = toNumber(spend.monthly_run_rate_usd);
  const today = toNumber(spend.today_usd);
  const monthToDate = toNumber(spend.month_to_date_usd);
  return (
    <div className="spend" data-testid="live-spend-tracker">
      <div className="stat">
        <p className="stat-label">Monthly run-rate</p>
        <p className="stat-value" data-testid="live-spend-monthly" data-usd={monthly.toFixed(2)}>
          {perMonth(monthly)}
        </p>
      </div>
      <div className="stat">
        <p className="stat-label">Today</p>
        <p className="stat-value" data-testid="live-spend-today" data-usd={usdFine(today)}>
          ${usdFine(hasPageFault('billing_today_shows_month_to_date') ? monthToDate : today)}
        </p>
      </div>
      <div className="stat">
        <p className="stat-label">Month to date</p>
        <p className="stat-value">${usdFine(monthToDate)}</p>
      </div>
      <p className="muted small spend-source">
        Source: <span data-testid="live-spend-source">{spendSourceText(spend.source)}</span>
      </p>
    </div>
  );
}
