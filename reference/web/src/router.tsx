/**
 * A history-based router small enough to read in one sitting: `navigate` wraps pushState /
 * replaceState, `useLocation` re-renders on both our own navigations and the browser's back/forward.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react';

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) window.addEventListener('popstate', notify);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) window.removeEventListener('popstate', notify);
  };
}

/** The snapshot must be a stable primitive for useSyncExternalStore; history.state is read beside it. */
function snapshot(): string {
  return window.location.href;
}

export type Location = { pathname: string; search: URLSearchParams; path: string; state: unknown };

export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const url = new URL(href);
  const pathname = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  return { pathname, search: url.searchParams, path: pathname + url.search, state: window.history.state as unknown };
}

export function navigate(to: string, options: { replace?: boolean; state?: unknown } = {}): void {
  const target = new URL(to, window.location.href);
  if (target.origin !== window.location.origin) {
    window.location.assign(target.href);
    return;
  }
  const state = options.state ?? null;
  if (options.replace) window.history.replaceState(state, '', target.href);
  else window.history.pushState(state, '', target.href);
  window.scrollTo(0, 0);
  notify();
}

/**
 * Only same-origin paths are followed after login (`/login?next=`), so the parameter cannot
 * send a user to another site.
 */
export function safeNextPath(next: string | null, fallback: string): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  return next;
}

type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & { to: string; replace?: boolean };

export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  function handleClick(event: MouseEvent<HTMLAnchorElement>): void {
    onClick?.(event);
    // Let the browser handle new-tab/window clicks and anything a handler already claimed.
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(to, { replace });
  }
  return (
    <a href={to} onClick={handleClick} {...rest}>
      {children}
    </a>
  );
}
