/**
 * The self-test's faults that live in the page (reference/lib/faults.ts PAGE_FAULTS): the server
 * names the active ones in `<meta name="powernode-faults" content="a,b">`. No tag means none, which
 * is every run but a self-test's.
 */
import { shellList } from './shell-meta';

export type PageFault =
  | 'billing_today_shows_month_to_date'
  | 'cost_cap_max_wrong'
  | 'risk_badge_text_wrong'
  | 'paywall_cta_text_wrong'
  | 'paywall_pill_for_refused_mission'
  | 'brief_budget_text_wrong'
  | 'pill_count_stale'
  | 'brief_regions_text_wrong'
  | 'brief_scale_text_wrong'
  | 'cost_cap_text_wrong'
  | 'paywall_headline_generic';

export const FAULTS_META = 'powernode-faults';

const faults = shellList<PageFault>(FAULTS_META);

export function hasPageFault(name: PageFault): boolean {
  return faults.has(name);
}

/** For tests: the page as if the shell named these faults. */
export function setPageFaultsForTests(names: readonly PageFault[]): void {
  faults.setForTests(names);
}
