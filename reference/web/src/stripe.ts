/**
 * Stripe.js comes from the URL the server's /config names (the emulator's shim locally, Stripe's
 * CDN in a real deployment), so no host is written into the bundle.
 */

export type EmbeddedCheckout = { mount(target: HTMLElement | string): void; destroy(): void; unmount?(): void };

type EmbeddedOptions = { fetchClientSecret: () => Promise<string> };

type StripeInstance = {
  createEmbeddedCheckoutPage?: (options: EmbeddedOptions) => Promise<EmbeddedCheckout>;
  initEmbeddedCheckout?: (options: EmbeddedOptions) => Promise<EmbeddedCheckout>;
};

type StripeFactory = (publishableKey: string) => StripeInstance;

declare global {
  interface Window {
    Stripe?: StripeFactory;
  }
}

let loading: Promise<StripeFactory> | null = null;

export function loadStripe(jsUrl: string): Promise<StripeFactory> {
  if (window.Stripe) return Promise.resolve(window.Stripe);
  if (loading) return loading;
  loading = new Promise<StripeFactory>((resolve, reject) => {
    const script = document.createElement('script');
    script.src = jsUrl;
    script.async = true;
    script.onload = () => {
      if (window.Stripe) resolve(window.Stripe);
      else reject(new Error('Stripe.js loaded but did not define Stripe.'));
    };
    script.onerror = () => {
      script.remove();
      reject(new Error('Could not load Stripe.js. Check your connection and reload the page.'));
    };
    document.head.appendChild(script);
  }).catch((error: unknown) => {
    // A failed load may be retried by the next visit instead of staying failed for the session.
    loading = null;
    throw error;
  });
  return loading;
}

/** `createEmbeddedCheckoutPage` is the current name (ui_mode `embedded_page`); older Stripe.js has `initEmbeddedCheckout`. */
export function createEmbeddedCheckout(stripe: StripeInstance, clientSecret: string): Promise<EmbeddedCheckout> {
  const options: EmbeddedOptions = { fetchClientSecret: async () => clientSecret };
  if (stripe.createEmbeddedCheckoutPage) return stripe.createEmbeddedCheckoutPage(options);
  if (stripe.initEmbeddedCheckout) return stripe.initEmbeddedCheckout(options);
  return Promise.reject(new Error('This Stripe.js does not support embedded checkout.'));
}
