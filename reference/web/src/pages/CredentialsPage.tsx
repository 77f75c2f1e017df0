import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, errorMessage } from '../api';
import type { Credential } from '../types';

const SCOPE_LABEL: Record<Credential['scope'], string> = { account: 'Your account', platform_pool: 'Platform pool' };

export function CredentialsPage() {
  const [credentials, setCredentials] = useState<Credential[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [apiKey, setApiKey] = useState('');
  const [saving, setSaving] = useState(false);
  const [formError, setFormError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [toggling, setToggling] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const answer = await api<{ credentials: Credential[] }>('GET', '/system/provider_credentials');
      setCredentials(answer.credentials);
      setListError(null);
    } catch (error) {
      setListError(errorMessage(error));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function onSave(event: FormEvent<HTMLFormElement>): Promise<void> {
    event.preventDefault();
    if (saving) return;
    const key = apiKey.trim();
    setSaved(null);
    if (!key) {
      setFormError('Paste your Vultr API key.');
      return;
    }
    setSaving(true);
    setFormError(null);
    try {
      const answer = await api<{ credential: Credential }>('POST', '/system/provider_credentials', { provider_type: 'pro_cloud', api_key: key });
      setApiKey('');
      setSaved(`Saved key ending in ${answer.credential.key_last4}.`);
      await load();
    } catch (error) {
      setFormError(errorMessage(error));
    } finally {
      setSaving(false);
    }
  }

  async function setActive(credential: Credential, isActive: boolean): Promise<void> {
    // Flip at once so the switch answers the click; the server's answer (or the old value) follows.
    const replace = (next: Partial<Credential>) =>
      setCredentials((current) => current?.map((c) => (c.id === credential.id ? { ...c, ...next } : c)) ?? null);
    replace({ is_active: isActive });
    setToggling(credential.id);
    setListError(null);
    try {
      const answer = await api<{ credential?: Credential }>('PATCH', `/system/provider_credentials/${encodeURIComponent(credential.id)}`, {
        is_active: isActive,
      });
      if (answer.credential) replace(answer.credential);
    } catch (error) {
      replace({ is_active: credential.is_active });
      setListError(`Could not update the key: ${errorMessage(error)}`);
    } finally {
      setToggling(null);
    }
  }

  return (
    <div className="page">
      <h1>Cloud credentials</h1>
      <p className="muted">
        Provisioning uses your own Vultr API key when one is active, and the platform pool otherwise. Keys are stored
        encrypted; only their last four characters are ever shown.
      </p>

      <section className="card" aria-labelledby="add-key-heading">
        <h2 id="add-key-heading">Add a Vultr API key</h2>
        <form className="form inline-form" onSubmit={onSave} noValidate>
          <div className="field grow">
            <label htmlFor="credential-api-key">Vultr API key</label>
            <input
              id="credential-api-key"
              data-testid="credential-api-key-input"
              type="password"
              autoComplete="off"
              spellCheck={false}
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
              aria-invalid={formError ? true : undefined}
              aria-describedby={formError ? 'credential-form-error' : undefined}
            />
          </div>
          <button type="submit" className="btn btn-primary" data-testid="credential-save-btn" disabled={saving} aria-busy={saving}>
            Save key
          </button>
        </form>
        {formError && (
          <p id="credential-form-error" className="error" role="alert">
            {formError}
          </p>
        )}
        {saved && (
          <p className="success" role="status">
            {saved}
          </p>
        )}
      </section>

      <section className="card" aria-labelledby="keys-heading">
        <h2 id="keys-heading">Keys</h2>
        {listError && (
          <p className="error" role="alert">
            {listError}
          </p>
        )}
        {!credentials && !listError && <p className="muted loading">Loading keys…</p>}
        {credentials && credentials.length === 0 && <p className="muted">No keys yet.</p>}
        {credentials && credentials.length > 0 && (
          <ul className="credential-list">
            {credentials.map((credential) => (
              <li
                key={credential.id}
                className="credential-row"
                data-testid="credential-row"
                data-scope={credential.scope}
                data-active={String(credential.is_active)}
              >
                <div className="credential-main">
                  <p className="credential-key">
                    <span className="muted">{credential.provider_type === 'pro_cloud' ? 'Vultr' : credential.provider_type}</span>{' '}
                    <code>…{credential.key_last4}</code>
                  </p>
                  <p className="muted small">
                    {SCOPE_LABEL[credential.scope] ?? credential.scope}
                    {credential.consecutive_failures > 0 && ` · ${credential.consecutive_failures} failed calls`}
                    {credential.last_error && ` · last error: ${credential.last_error}`}
                  </p>
                </div>
                {credential.scope === 'account' ? (
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      data-testid="credential-active-toggle"
                      checked={credential.is_active}
                      disabled={toggling === credential.id}
                      onChange={(e) => void setActive(credential, e.target.checked)}
                      aria-label={`Use key ending in ${credential.key_last4}`}
                    />
                    <span className="switch-track" aria-hidden="true" />
                    <span className="switch-text">{credential.is_active ? 'Active' : 'Disabled'}</span>
                  </label>
                ) : (
                  <span className={`status-badge ${credential.is_active ? 'status-active' : 'status-inactive'}`}>
                    {credential.is_active ? 'Active' : 'Disabled'} · managed by the operator
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
