/**
 * The stack's variants (reference/lib/variants.ts, CONTRACT 9) as the page learns them: the server
 * puts the active names in `<meta name="powernode-variants" content="a,b">` in the HTML shell, so
 * they are known before the first render. No tag means none: the runbook's page.
 */
import { shellList } from './shell-meta';

export type WebVariant =
  | 'route_core'
  | 'cost_730h'
  | 'step_executing'
  | 'mission_api_core'
  | 'errors_flat'
  | 'paywall_in_chat'
  | 'login_ids_core'
  | 'step_stream_core'
  | 'brief_core';

export const VARIANTS_META = 'powernode-variants';

/** Public Powernode core's route of the provisioning chat. */
export const CORE_CHAT_ROUTE = '/app/system/provision';

const variants = shellList<WebVariant>(VARIANTS_META);

export function hasVariant(name: WebVariant): boolean {
  return variants.has(name);
}

/** For tests: the page as if the shell named these variants. */
export function setVariantsForTests(names: readonly WebVariant[]): void {
  variants.setForTests(names);
}

/** Where the provisioning chat lives. */
export function chatRoute(): string {
  return hasVariant('route_core') ? CORE_CHAT_ROUTE : '/new';
}
