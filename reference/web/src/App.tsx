import { useEffect, type ReactNode } from 'react';
import { clearToken, getToken, loginPath } from './api';
import { Link, navigate, useLocation } from './router';
import { ToastProvider } from './components/Toasts';
import { RegisterPage } from './pages/RegisterPage';
import { LoginPage } from './pages/LoginPage';
import { CheckoutPage } from './pages/CheckoutPage';
import { CheckoutReturnPage } from './pages/CheckoutReturnPage';
import { ProvisionPage } from './pages/ProvisionPage';
import { BillingPage } from './pages/BillingPage';
import { CredentialsPage } from './pages/CredentialsPage';
import { chatRoute } from './variants';

type Route = { title: string; auth: boolean; render: () => ReactNode; wide?: boolean };

/** The chat's path is `/new`, or `/app/system/provision` under the route_core variant (and then `/new` is no page). */
export function routes(): Record<string, Route> {
  return {
    '/auth/register': { title: 'Create your account', auth: false, render: () => <RegisterPage /> },
    '/login': { title: 'Log in', auth: false, render: () => <LoginPage /> },
    '/checkout': { title: 'Checkout', auth: true, render: () => <CheckoutPage /> },
    '/checkout/return': { title: 'Confirming payment', auth: true, render: () => <CheckoutReturnPage /> },
    [chatRoute()]: { title: 'New deployment', auth: true, render: () => <ProvisionPage />, wide: true },
    '/settings/billing': { title: 'Billing', auth: true, render: () => <BillingPage /> },
    '/settings/cloud-credentials': { title: 'Cloud credentials', auth: true, render: () => <CredentialsPage /> },
  };
}

export function App() {
  const location = useLocation();
  const token = getToken();
  const route = routes()[location.pathname];
  const redirect = redirectFor(location.pathname, location.path, route, token);

  useEffect(() => {
    if (redirect) navigate(redirect, { replace: true });
  }, [redirect]);

  useEffect(() => {
    document.title = route ? `${route.title} · Powernode` : 'Not found · Powernode';
  }, [route]);

  return (
    <ToastProvider>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <TopNav signedIn={Boolean(token)} pathname={location.pathname} />
      <main id="main" className={route?.wide ? 'main main-wide' : 'main'}>
        {redirect ? null : route ? route.render() : <NotFound />}
      </main>
    </ToastProvider>
  );
}

function redirectFor(pathname: string, path: string, route: Route | undefined, token: string | null): string | null {
  if (pathname === '/') return token ? chatRoute() : '/login';
  if (route?.auth && !token) return loginPath(path);
  return null;
}

function navLinks(): { to: string; label: string }[] {
  return [
    { to: chatRoute(), label: 'Provision' },
    { to: '/settings/billing', label: 'Billing' },
    { to: '/settings/cloud-credentials', label: 'Cloud credentials' },
  ];
}

function TopNav({ signedIn, pathname }: { signedIn: boolean; pathname: string }) {
  function logOut(): void {
    clearToken();
    navigate('/login', { replace: true });
  }

  return (
    <header className="topnav">
      <Link to={signedIn ? chatRoute() : '/login'} className="brand" aria-label="Powernode home">
        <span className="brand-mark" aria-hidden="true">
          ⚡
        </span>
        Powernode
      </Link>
      {signedIn ? (
        <nav aria-label="Main" className="topnav-links">
          {navLinks().map((link) => (
            <Link key={link.to} to={link.to} aria-current={pathname === link.to ? 'page' : undefined}>
              {link.label}
            </Link>
          ))}
          <button type="button" className="btn btn-ghost btn-small" onClick={logOut}>
            Log out
          </button>
        </nav>
      ) : (
        <nav aria-label="Account" className="topnav-links">
          <Link to="/login" aria-current={pathname === '/login' ? 'page' : undefined}>
            Log in
          </Link>
          <Link to="/auth/register" aria-current={pathname === '/auth/register' ? 'page' : undefined}>
            Sign up
          </Link>
        </nav>
      )}
    </header>
  );
}

function NotFound() {
  return (
    <section className="card narrow">
      <h1>Page not found</h1>
      <p className="muted">There is nothing at this address.</p>
      <Link to="/" className="btn btn-primary">
        Go home
      </Link>
    </section>
  );
}
