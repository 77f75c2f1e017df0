/**
 * Error toasts live above the routes so a message raised just before a navigation stays visible.
 * They stay until dismissed: a failed provision must not vanish before it is read.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from 'react';

type Toast = { id: number; text: string };
type ToastApi = { showError: (text: string) => void };

const ToastContext = createContext<ToastApi | null>(null);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);

  const dismiss = useCallback((id: number) => {
    setToasts((current) => current.filter((t) => t.id !== id));
  }, []);

  const showError = useCallback((text: string) => {
    const id = nextId.current++;
    // The same text twice (a retried request, a replayed event) is shown once.
    setToasts((current) => (current.some((t) => t.text === text) ? current : [...current, { id, text }]));
  }, []);

  const api = useMemo<ToastApi>(() => ({ showError }), [showError]);

  return (
    <ToastContext.Provider value={api}>
      {children}
      <div className="toasts">
        {toasts.map((toast) => (
          <div key={toast.id} className="toast" data-testid="toast" role="alert">
            <span className="toast-text">{toast.text}</span>
            {/* The × is drawn by CSS so the toast's text is only the message. */}
            <button type="button" className="toast-close" aria-label="Dismiss message" onClick={() => dismiss(toast.id)} />
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToasts(): ToastApi {
  const api = useContext(ToastContext);
  if (!api) throw new Error('useToasts outside ToastProvider');
  return api;
}
