import { useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, setToken } from '../api';
import { Link, navigate, safeNextPath, useLocation } from '../router';
import type { AuthAnswer } from '../types';
import { chatRoute, hasVariant } from '../variants';

/** The runbook's login test ids, or public Powernode core's (login_ids_core). */
export function loginIds(): { email: string; password: string; submit: string; submitText: string } {
  return hasVariant('login_ids_core')
    ? { email: 'email-input', password: 'password-input', submit: 'login-submit-btn', submitText: 'Sign in to Dashboard' }
    : { email: 'login-email-input', password: 'login-password-input', submit: 'login-submit-btn', submitText: 'Log in' };
}

export function LoginPage() {
  const location = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const ids = loginIds();

  async function onSubmit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (submitting) return;
    if (!email.trim() || !password) {
      setError('Enter your email and password.');
      return;
    }
    setSubmitting(true);
    setError(null);
    try {
      const answer = await api<AuthAnswer>('POST', '/auth/login', { email: email.trim(), password });
      setToken(answer.access_token);
      navigate(safeNextPath(location.search.get('next'), chatRoute()), { replace: true });
    } catch (caught) {
      setSubmitting(false);
      setError(
        caught instanceof ApiError && caught.status === 401 ? 'Incorrect email or password.' : errorMessage(caught),
      );
    }
  }

  return (
    <section className="card narrow auth-card">
      <h1>Log in</h1>
      <form noValidate onSubmit={onSubmit} className="form">
        <div className="field">
          <label htmlFor="login-email">Email</label>
          <input
            id="login-email"
            data-testid={ids.email}
            type="email"
            autoComplete="email"
            autoFocus
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">Password</label>
          <input
            id="login-password"
            data-testid={ids.password}
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </div>
        {error && (
          <p className="error form-errors" data-testid="login-error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" data-testid={ids.submit} disabled={submitting} aria-busy={submitting}>
            {ids.submitText}
          </button>
        </div>
      </form>
      <p className="muted small">
        New here? <Link to="/auth/register">Create an account</Link>
      </p>
    </section>
  );
}
