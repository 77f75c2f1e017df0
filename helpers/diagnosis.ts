/**
 * The runbook's Troubleshooting table, driven by live probes: when a test fails, the suite checks
 * the usual suspects (AI quota, worker, platform credential, plan limits, backend, schema) and
 * attaches which rows of the table apply, with the runbook's first action for each.
 */
import { RUNBOOK_PLAN_LIMITS } from './runbook';

/** What the probes saw; `undefined` means the probe itself could not run. */
export type ProbeResults = {
  backendUp?: boolean;
  missingSchema?: string[];
  aiQuota?: { current: number; limit: number } | null;
  workerStatus?: string | null;
  activePlatformCredentials?: number;
  vultrKeyValid?: boolean;
  planLimits?: { slug: string; limits: Record<string, unknown> | null }[];
  probeErrors: string[];
};

export type Finding = { symptom: string; likelyCause: string; firstAction: string; seen: string };

export function stalePlans(plans: { slug: string; limits: Record<string, unknown> | null }[]): string[] {
  const stale: string[] = [];
  for (const [slug, expected] of Object.entries(RUNBOOK_PLAN_LIMITS)) {
    const row = plans.find((p) => p.slug === slug);
    if (!row) {
      stale.push(`${slug} (no plan row)`);
      continue;
    }
    const wrong = Object.entries(expected).filter(([key, value]) => row.limits?.[key] !== value);
    if (wrong.length > 0) stale.push(`${slug} (${wrong.map(([k, v]) => `${k} is ${JSON.stringify(row.limits?.[k] ?? null)}, expected ${v}`).join('; ')})`);
  }
  return stale;
}

export function diagnose(probes: ProbeResults): Finding[] {
  const findings: Finding[] = [];
  if (probes.backendUp === false) {
    findings.push({
      symptom: 'Any step fails at once',
      likelyCause: 'Backend down',
      firstAction: 'Start the backend (npm run stack for the reference stack) and check GET /up',
      seen: 'GET /up did not answer 200',
    });
  }
  if (probes.missingSchema && probes.missingSchema.length > 0) {
    findings.push({
      symptom: 'Any step fails with a database error',
      likelyCause: 'Pending migrations',
      firstAction: 'Apply pending migrations (pre-flight item 1)',
      seen: `missing: ${probes.missingSchema.join(', ')}`,
    });
  }
  if (probes.aiQuota && probes.aiQuota.current >= probes.aiQuota.limit) {
    findings.push({
      symptom: 'Brief Card never populates',
      likelyCause: 'AI provider quota exhausted',
      firstAction: "Check Ai::Provider.find_by(name: 'pro_cloud').current_quota_usage (ai_providers row pro_cloud)",
      seen: `current_quota_usage ${probes.aiQuota.current} of quota_limit ${probes.aiQuota.limit}`,
    });
  }
  if (probes.workerStatus !== undefined && probes.workerStatus !== 'ok') {
    findings.push({
      symptom: 'Approve produces 5xx',
      likelyCause: 'Worker not running',
      firstAction: 'sudo systemctl status powernode-worker@default (reference stack: check .stack/logs/worker.log)',
      seen: probes.workerStatus === null ? 'worker health endpoint did not answer' : `worker health status "${probes.workerStatus}"`,
    });
  }
  if (probes.activePlatformCredentials === 0 || probes.vultrKeyValid === false) {
    findings.push({
      symptom: 'Vultr instance never created',
      likelyCause: 'Provider credentials missing',
      firstAction: 'Re-register the Vultr API key per pre-flight item 3 (Settings → Cloud Credentials)',
      seen: [
        probes.activePlatformCredentials === 0 ? 'no active platform-pool credential' : '',
        probes.vultrKeyValid === false ? 'VULTR_API_KEY rejected by GET /account' : '',
      ]
        .filter(Boolean)
        .join('; '),
    });
  }
  const stale = probes.planLimits ? stalePlans(probes.planLimits) : [];
  if (stale.length > 0) {
    findings.push({
      symptom: 'UpgradeRequiredCard never fires',
      likelyCause: 'Stale plan limits',
      firstAction: 'Re-run pre-flight item 2 (or PREFLIGHT_FIX=1)',
      seen: stale.join('; '),
    });
  }
  return findings;
}

export function formatDiagnosis(findings: Finding[], probeErrors: string[]): string {
  const lines: string[] = [];
  if (findings.length === 0) lines.push('No row of the runbook troubleshooting table matches the live state.');
  for (const f of findings) {
    lines.push(`Symptom: ${f.symptom}`, `  likely cause: ${f.likelyCause}`, `  seen: ${f.seen}`, `  first action: ${f.firstAction}`);
  }
  for (const e of probeErrors) lines.push(`(probe failed: ${e})`);
  return lines.join('\n');
}
