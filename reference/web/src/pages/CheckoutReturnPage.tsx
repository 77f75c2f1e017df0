/**
 * Stripe sends the buyer here after paying. The server confirms the session with Stripe on each
 * GET, so a few quick polls cover the moment between the redirect and the confirmation.
 */
import { useEffect, useState } from 'react';
import { api, errorMessage } from '../api';
import { Link, navigate, safeNextPath, useLocation } from '../router';
import type { CheckoutSessionStatus } from '../types';
import type { CheckoutNotice } from './CheckoutPage';
import { chatRoute } from '../variants';

const POLL_INTERVAL_MS = 800;
const POLL_ATTEMPTS = 10;

function sessionPlan(sessionId: string): string {
  try {
    return window.sessionStorage.getItem(`m1.checkout.${sessionId}`) ?? 'free';
  } catch {
    return 'free';
  }
}

export function CheckoutReturnPage() {
  const location = useLocation();
  const sessionId = location.search.get('session_id') ?? '';
  const [error, setError] = useState<string | null>(sessionId ? null : 'This page needs a checkout session. Start the checkout again.');

  useEffect(() => {
    if (!sessionId) return;
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    async function poll(attempt: number): Promise<void> {
      const session = await api<CheckoutSessionStatus>('GET', `/billing/checkout_sessions/${encodeURIComponent(sessionId)}`);
      if (cancelled) return;
      if (session.status === 'complete') {
        navigate(safeNextPath(session.redirect_to ?? null, chatRoute()), { replace: true });
        return;
      }
      if (attempt + 1 >= POLL_ATTEMPTS) {
        const state: CheckoutNotice = { notice: 'Your payment has not been completed yet. Please finish the checkout below.' };
        navigate(`/checkout?plan=${encodeURIComponent(sessionPlan(sessionId))}`, { replace: true, state });
        return;
      }
      timer = setTimeout(() => {
        poll(attempt + 1).catch(fail);
      }, POLL_INTERVAL_MS);
    }

    function fail(caught: unknown): void {
      if (!cancelled) setError(errorMessage(caught));
    }

    poll(0).catch(fail);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [sessionId]);

  return (
    <section className="card narrow center">
      {error ? (
        <div role="alert" className="error-panel">
          <p>{error}</p>
          <p>
            <Link to={`/checkout?plan=${encodeURIComponent(sessionId ? sessionPlan(sessionId) : 'free')}`}>Back to checkout</Link>
          </p>
        </div>
      ) : (
        <>
          <div className="spinner" aria-hidden="true" />
          <h1 aria-live="polite">Confirming your payment…</h1>
          <p className="muted">This only takes a moment.</p>
        </>
      )}
    </section>
  );
}
