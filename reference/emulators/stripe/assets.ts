/**
 * What the browser loads from the emulator: the Stripe.js stand-in (at /v3 and the versioned
 * paths stripe-js asks for), and the checkout page that runs inside its iframe.
 */
import { readFileSync } from 'node:fs';
import type { Reply } from '../http-kit';
import { unrecognizedUrl } from './errors';

const ASSETS = new URL('./assets/', import.meta.url);
const STRIPE_JS = readFileSync(new URL('stripe.js', ASSETS), 'utf8');
const CHECKOUT_HTML = readFileSync(new URL('checkout.html', ASSETS), 'utf8');
const CHECKOUT_JS = readFileSync(new URL('checkout.js', ASSETS), 'utf8');
const CONFIG_SLOT = 'var CONFIG = __EMULATOR_CONFIG__;';
if (!STRIPE_JS.includes(CONFIG_SLOT)) throw new Error(`assets/stripe.js lost its "${CONFIG_SLOT}" line`);

const JS = 'application/javascript; charset=utf-8';
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "base-uri 'none'",
  'frame-ancestors *',
].join('; ');

export class BrowserAssets {
  private readonly stripeJs: string;

  /** `publicUrl` is where the browser reaches the emulator; `publishableKey` the only key Stripe() accepts. */
  constructor(publicUrl: string, publishableKey: string) {
    const config = { origin: new URL(publicUrl).origin, frameUrl: `${publicUrl}/v3/embedded-checkout`, publishableKeys: [publishableKey] };
    this.stripeJs = STRIPE_JS.replace(CONFIG_SLOT, `var CONFIG = ${JSON.stringify(config)};`);
  }

  /** The asset at this path, or undefined when the path is not an asset's. */
  serve(method: string, path: string): Reply | undefined {
    const found = this.find(path);
    if (!found) return undefined;
    if (method !== 'GET' && method !== 'HEAD') throw unrecognizedUrl(method, path);
    return found;
  }

  private find(path: string): Reply | undefined {
    if (path === '/v3' || path === '/v3/' || /^\/(basil|clover|dahlia|endive)\/stripe\.js$/.test(path)) return asset(this.stripeJs, JS);
    if (path === '/v3/embedded-checkout') return asset(CHECKOUT_HTML, 'text/html; charset=utf-8', { 'content-security-policy': PAGE_CSP });
    if (path === '/v3/embedded-checkout.js') return asset(CHECKOUT_JS, JS);
    return undefined;
  }
}

function asset(text: string, contentType: string, headers: Record<string, string> = {}): Reply {
  return { status: 200, body: text, headers: { 'content-type': contentType, 'cache-control': 'no-cache', ...headers } };
}
