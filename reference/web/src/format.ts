/** Pure formatting rules behind the texts of CONTRACT 3 ("$5.04/mo", "1→1 · flat", "Low risk · 12"). */
import type { Brief, RiskSeverity } from './types';

/** The API may send numerics as strings (Postgres numeric); anything unreadable counts as 0. */
export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : 0;
}

/** "$10" for whole dollars, "$10.50" otherwise. */
export function dollarsCompact(usd: number): string {
  return Number.isInteger(usd) ? `$${usd}` : `$${usd.toFixed(2)}`;
}

export function dollars2(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

export function perMonth(usd: number): string {
  return `${dollars2(usd)}/mo`;
}

/** Between 2 and 4 decimals: a daily share like 0.168 keeps its precision, whole cents stay short. */
export function usdFine(usd: number): string {
  let text = usd.toFixed(4);
  while (text.endsWith('0') && text.length - text.indexOf('.') > 3) text = text.slice(0, -1);
  return text;
}

export function planPrice(priceCents: number): string {
  if (priceCents === 0) return '$0/mo';
  return `${dollarsCompact(priceCents / 100)}/mo`;
}

export type BriefKey = 'intent' | 'use_case' | 'scale' | 'regions' | 'budget_cap_usd_monthly';

export const BRIEF_FIELDS: { key: BriefKey; label: string }[] = [
  { key: 'intent', label: 'Intent' },
  { key: 'use_case', label: 'Use case' },
  { key: 'scale', label: 'Scale' },
  { key: 'regions', label: 'Regions' },
  { key: 'budget_cap_usd_monthly', label: 'Budget cap' },
];

/** The `data-value` attribute: strings as they are, numbers as number text, the rest as JSON. */
export function rawValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * `data-value` of a brief row. Postgres jsonb hands objects back with its own key order
 * (target before initial), so scale is re-ordered to read as written: initial, target, growth.
 */
export function briefRawValue(key: BriefKey, brief: Brief): string | undefined {
  const value = brief[key];
  if (key === 'scale' && value && typeof value === 'object') {
    const { initial, target, growth_profile, ...rest } = value as NonNullable<Brief['scale']>;
    return rawValue({ initial, target, growth_profile, ...rest });
  }
  return rawValue(value);
}

/** `core` is public Powernode's Brief Card (the brief_core variant): scale reads "1→1 users · flat". */
export type BriefStyle = 'runbook' | 'core';

export function displayBriefValue(key: BriefKey, brief: Brief, style: BriefStyle = 'runbook'): string | undefined {
  switch (key) {
    case 'intent':
    case 'use_case':
      return brief[key] || undefined;
    case 'scale': {
      const scale = brief.scale;
      if (!scale) return undefined;
      const initial = scale.initial ?? '?';
      const target = scale.target ?? initial;
      const span = style === 'core' ? `${initial}→${target} users` : `${initial}→${target}`;
      return scale.growth_profile ? `${span} · ${scale.growth_profile}` : span;
    }
    case 'regions':
      return brief.regions && brief.regions.length > 0 ? brief.regions.join(', ') : undefined;
    case 'budget_cap_usd_monthly':
      return typeof brief.budget_cap_usd_monthly === 'number' ? `${dollarsCompact(brief.budget_cap_usd_monthly)}/mo` : undefined;
  }
}

/** "$5.04 of $10/mo": the run-rate to the cent, the cap as written. */
export function costCapText(runRateUsd: number, capUsd: number): string {
  return `${dollars2(runRateUsd)} of ${dollarsCompact(capUsd)}/mo`;
}

const SEVERITY_LABEL: Record<RiskSeverity, string> = { low: 'Low', med: 'Med', high: 'High' };

export function riskText(severity: RiskSeverity, score: number): string {
  return `${SEVERITY_LABEL[severity] ?? severity} risk · ${score}`;
}

export function collapseNote(original: number, collapsed: number): string {
  return `Merged ${original} redundant steps into ${collapsed}`;
}

export function spendSourceText(source: string): string {
  return source.replace(/_/g, ' ');
}

/** Human copy for a QuotaGuard denial when the server sends no message of its own. */
export function upgradeCopy(reason: string | undefined, limits: Record<string, unknown> | undefined, planSlug = 'free'): string {
  const planName = planSlug === 'free' ? 'Free' : planSlug.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
  const maxInstances = limits ? toNumber(limits.max_node_instances) : 0;
  const maxUsd = limits ? toNumber(limits.max_monthly_provisioning_usd) : 0;
  if (reason === 'max_monthly_provisioning_usd' && maxUsd > 0) {
    return `${planName} plan limit reached: ${dollarsCompact(maxUsd)}/mo of provisioning`;
  }
  if (maxInstances > 0) return `${planName} plan limit reached: ${maxInstances} instance${maxInstances === 1 ? '' : 's'}`;
  return `${planName} plan limit reached`;
}
