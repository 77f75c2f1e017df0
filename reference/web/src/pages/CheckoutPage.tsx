import { useEffect, useRef, useState } from 'react';
import { api, errorMessage } from '../api';
import { loadConfig } from '../config';
import { planPrice } from '../format';
import { Link, useLocation } from '../router';
import { createEmbeddedCheckout, loadStripe, type EmbeddedCheckout } from '../stripe';
import type { CheckoutSession, Plan } from '../types';

export type CheckoutNotice = { notice: string };

function noticeFrom(state: unknown): string | null {
  if (typeof state === 'object' && state !== null && typeof (state as CheckoutNotice).notice === 'string') {
    return (state as CheckoutNotice).notice;
  }
  return null;
}

/** Remembers which plan a session was for, so the return page can send the buyer back to it. */
export function rememberSessionPlan(sessionId: string, planSlug: string): void {
  try {
    window.sessionStorage.setItem(`m1.checkout.${sessionId}`, planSlug);
  } catch {
    // Storage can be unavailable (privacy modes); the return page then falls back to the free plan.
  }
}

export function CheckoutPage() {
  const location = useLocation();
  const planSlug = location.search.get('plan') ?? '';
  const notice = noticeFrom(location.state);
  const containerRef = useRef<HTMLDivElement>(null);
  const [plan, setPlan] = useState<Plan | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [mounted, setMounted] = useState(false);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let cancelled = false;
    let checkout: EmbeddedCheckout | null = null;
    setError(null);
    setMounted(false);
    setPlan(null);

    async function start(): Promise<void> {
      if (!planSlug) throw new Error('No plan was chosen. Pick a plan to continue.');
      const config = await loadConfig();
      if (cancelled) return;
      const chosen = config.plans.find((p) => p.slug === planSlug);
      if (!chosen) throw new Error(`There is no plan called "${planSlug}".`);
      setPlan(chosen);

      const [session, Stripe] = await Promise.all([
        api<CheckoutSession>('POST', '/billing/checkout_sessions', { plan_slug: planSlug }),
        loadStripe(config.stripe.js_url),
      ]);
      if (cancelled) return;
      rememberSessionPlan(session.session_id, planSlug);
      const created = await createEmbeddedCheckout(Stripe(session.publishable_key || config.stripe.publishable_key), session.client_secret);
      if (cancelled || !containerRef.current) {
        created.destroy();
        return;
      }
      checkout = created;
      created.mount(containerRef.current);
      setMounted(true);
    }

    start().catch((caught: unknown) => {
      if (!cancelled) setError(errorMessage(caught));
    });

    return () => {
      cancelled = true;
      checkout?.destroy();
    };
  }, [planSlug, attempt]);

  return (
    <section className="card checkout-card">
      <header className="checkout-header">
        <div>
          <p className="eyebrow">Checkout</p>
          <h1>{plan ? `${plan.name} plan` : 'Your plan'}</h1>
        </div>
        {plan && (
          <p className="price" aria-label={`Price: ${planPrice(plan.price_cents)}`}>
            {planPrice(plan.price_cents)}
          </p>
        )}
      </header>
      {plan && plan.price_cents === 0 && (
        <p className="muted">Free to start. Your card is kept on file for later usage; you are not charged today.</p>
      )}
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {error && (
        <div className="error-panel" role="alert">
          <p>{error}</p>
          <p className="error-actions">
            <button type="button" className="btn btn-ghost btn-small" onClick={() => setAttempt((n) => n + 1)}>
              Try again
            </button>
            {planSlug !== 'free' && <Link to="/checkout?plan=free">Continue with the Free plan</Link>}
          </p>
        </div>
      )}
      {!error && !mounted && (
        <p className="muted loading" aria-live="polite">
          Loading secure checkout…
        </p>
      )}
      <div ref={containerRef} className="stripe-container" data-testid="stripe-embedded-checkout" hidden={Boolean(error)} />
    </section>
  );
}
