/**
 * Three-step signup. All entered values live in one state object so moving between steps (or
 * being sent back to a step by a server error) never loses what was typed.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, ApiError, errorMessage, setToken } from '../api';
import { Link, navigate } from '../router';
import type { AuthAnswer } from '../types';

type Step = 1 | 2 | 3;
type Fields = { email: string; password: string; name: string; account_name: string };

const MIN_PASSWORD = 8;
const DUPLICATE_EMAIL = 'An account with this email already exists';
const FIELD_STEP: Record<string, Step> = { email: 1, password: 2, name: 3, account_name: 3 };

function clientErrors(step: Step, fields: Fields): string[] {
  if (step === 1) {
    if (!fields.email.trim()) return ['Enter your email address.'];
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(fields.email.trim())) return ['Enter a valid email address, like you@example.com.'];
  }
  if (step === 2 && fields.password.length < MIN_PASSWORD) {
    return [`Use at least ${MIN_PASSWORD} characters for your password.`];
  }
  if (step === 3 && !fields.name.trim()) return ['Enter your name.'];
  return [];
}

/**
 * Server 422 details come keyed by field; each value may be a string, a list of strings or a
 * nested object. Returns the messages and the earliest step they concern.
 */
export function serverFieldErrors(details: Record<string, unknown> | undefined): { step: Step; messages: string[] } {
  const messages: string[] = [];
  let step: Step = 3;
  const source = details && typeof details.fields === 'object' && details.fields !== null ? (details.fields as Record<string, unknown>) : details;
  for (const [field, value] of Object.entries(source ?? {})) {
    const texts = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
    if (texts.length === 0) continue;
    const label = field.replace(/_/g, ' ');
    for (const text of texts) messages.push(text.toLowerCase().startsWith(label) ? text : `${capitalise(label)}: ${text}`);
    const fieldStep = FIELD_STEP[field];
    if (fieldStep && fieldStep < step) step = fieldStep;
  }
  return { step, messages };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function RegisterPage() {
  const [step, setStep] = useState<Step>(1);
  const [fields, setFields] = useState<Fields>({ email: '', password: '', name: '', account_name: '' });
  const [errors, setErrors] = useState<string[]>([]);
  const [submitting, setSubmitting] = useState(false);
  const firstInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    firstInput.current?.focus();
  }, [step]);

  function update(key: keyof Fields, value: string): void {
    setFields((current) => ({ ...current, [key]: value }));
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (submitting) return;
    const problems = clientErrors(step, fields);
    setErrors(problems);
    if (problems.length > 0) return;
    if (step < 3) {
      setStep((step + 1) as Step);
      return;
    }
    setSubmitting(true);
    try {
      const body: Record<string, string> = { email: fields.email.trim(), password: fields.password, name: fields.name.trim() };
      if (fields.account_name.trim()) body.account_name = fields.account_name.trim();
      const answer = await api<AuthAnswer>('POST', '/auth/register', body);
      setToken(answer.access_token);
      navigate('/checkout?plan=free');
    } catch (error) {
      setSubmitting(false);
      if (error instanceof ApiError && (error.code === 'email_taken' || error.status === 409)) {
        setStep(1);
        setErrors([DUPLICATE_EMAIL]);
      } else if (error instanceof ApiError && error.status === 422) {
        const found = serverFieldErrors(error.details);
        setStep(found.step);
        setErrors(found.messages.length > 0 ? found.messages : [error.message]);
      } else {
        setErrors([errorMessage(error)]);
      }
    }
  }

  return (
    <section className="card narrow auth-card">
      <h1>Create your account</h1>
      <p className="muted">Step {step} of 3</p>
      <ol className="stepper" aria-label="Signup progress">
        {(['Email', 'Password', 'Your name'] as const).map((label, index) => (
          <li key={label} className={index + 1 === step ? 'current' : index + 1 < step ? 'done' : ''} aria-current={index + 1 === step ? 'step' : undefined}>
            {label}
          </li>
        ))}
      </ol>
      <form noValidate onSubmit={onSubmit} data-testid="register-step" data-step={String(step)} className="form">
        {step === 1 && (
          <div className="field">
            <label htmlFor="register-email">Email</label>
            <input
              ref={firstInput}
              id="register-email"
              data-testid="register-email-input"
              type="email"
              autoComplete="email"
              value={fields.email}
              onChange={(e) => update('email', e.target.value)}
              aria-invalid={errors.length > 0 || undefined}
              aria-describedby={errors.length > 0 ? 'register-errors' : undefined}
            />
          </div>
        )}
        {step === 2 && (
          <div className="field">
            <label htmlFor="register-password">Password</label>
            <input
              ref={firstInput}
              id="register-password"
              data-testid="register-password-input"
              type="password"
              autoComplete="new-password"
              minLength={MIN_PASSWORD}
              value={fields.password}
              onChange={(e) => update('password', e.target.value)}
              aria-invalid={errors.length > 0 || undefined}
              aria-describedby={errors.length > 0 ? 'register-errors password-hint' : 'password-hint'}
            />
            <p id="password-hint" className="hint">
              At least {MIN_PASSWORD} characters.
            </p>
          </div>
        )}
        {step === 3 && (
          <>
            <div className="field">
              <label htmlFor="register-name">Your name</label>
              <input
                ref={firstInput}
                id="register-name"
                data-testid="register-name-input"
                type="text"
                autoComplete="name"
                value={fields.name}
                onChange={(e) => update('name', e.target.value)}
                aria-invalid={errors.length > 0 || undefined}
                aria-describedby={errors.length > 0 ? 'register-errors' : undefined}
              />
            </div>
            <div className="field">
              <label htmlFor="register-account-name">
                Account name <span className="muted">(optional)</span>
              </label>
              <input
                id="register-account-name"
                data-testid="register-account-name-input"
                type="text"
                autoComplete="organization"
                value={fields.account_name}
                onChange={(e) => update('account_name', e.target.value)}
              />
            </div>
          </>
        )}

        {errors.length > 0 && (
          <div id="register-errors" className="form-errors" data-testid="register-error" role="alert">
            {errors.map((text) => (
              <p key={text} className="error">
                {text}
              </p>
            ))}
          </div>
        )}

        <div className="form-actions">
          {step > 1 && (
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setErrors([]);
                setStep((step - 1) as Step);
              }}
            >
              Back
            </button>
          )}
          {step < 3 ? (
            <button type="submit" className="btn btn-primary" data-testid="register-next-btn">
              Continue
            </button>
          ) : (
            <button type="submit" className="btn btn-primary" data-testid="register-submit-btn" disabled={submitting} aria-busy={submitting}>
              Create account
            </button>
          )}
        </div>
      </form>
      <p className="muted small">
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </section>
  );
}
