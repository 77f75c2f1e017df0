/**
 * The runbook's Troubleshooting table, driven by live probes: when a test fails, the suite checks
 * the usual suspects (AI quota, worker, platform credential, plan limits) and what else a failure
 * of this funnel comes from (backend down or answering 5xx, schema, Vultr and Stripe reachability,
 * webhook delivery, a provisioning that timed out), and attaches which rows apply, with the first
 * action for each. A probe that could not run is listed as such; it never hides the failure.
 */
import { stalePlans } from '../preflight/health';
import { hintText, WORKER_HEALTH_URL_MISSING, type VariantHint } from './variant-hints';

/** How GET /account answered the suite's VULTR_API_KEY. */
export type VultrReachability = { outcome: 'accepted' | 'rejected' | 'rate_limited' | 'unreachable'; detail: string };

/** A NodeInstance of the failing test's identities that did not reach running in time. */
export type StuckInstance = {
  name: string;
  status: string;
  ageSeconds: number;
  /** What Vultr says of its instance now. */
  vultr:
    | { kind: 'not_created' }
    | { kind: 'gone'; id: string }
    | { kind: 'found'; id: string; status: string; power_status: string; server_status: string }
    | { kind: 'unreadable'; id: string; error: string };
};

/** What the probes saw; `undefined` means the probe itself could not run (or was not asked to). */
export type ProbeResults = {
  backendUp?: boolean;
  /** 5xx answers in the backend log since the failing test started. */
  serverErrors?: { source: string; count: number; lines: string[] };
  missingSchema?: string[];
  aiQuota?: { current: number; limit: number } | null;
  workerStatus?: string | null;
  /** What WORKER_HEALTH_URL answered when it held no worker state (a 404 is no worker down). */
  workerHealthAnswer?: number;
  activePlatformCredentials?: number;
  /** Active platform-pool credentials Vultr keeps refusing (RUNBOOK pre-flight 3), with their last error. */
  unhealthyPlatformCredentials?: string[];
  vultrApi?: VultrReachability;
  stripeApi?: { reachable: boolean; detail: string };
  /** Events created since the test started that Stripe has not delivered to every endpoint. */
  undeliveredWebhooks?: { id: string; type: string }[];
  stuckInstances?: StuckInstance[];
  planLimits?: { slug: string; limits: Record<string, unknown> | null }[];
  /** Known CONTRACT 9 variants the target looks like (variant-hints.ts). */
  hints?: VariantHint[];
  probeErrors: string[];
};

export type Finding = {
  symptom: string;
  likelyCause: string;
  firstAction: string;
  seen: string;
  /** Evidence lines shown under the finding (e.g. the matching log lines). */
  details?: string[];
};

export function diagnose(probes: ProbeResults): Finding[] {
  const findings: Finding[] = [];
  // A hint explains what would otherwise read as a defect: a column public Powernode keeps
  // elsewhere is no pending migration, a health URL it does not have is no worker down.
  const explained = new Set((probes.hints ?? []).flatMap((h) => h.explains ?? []));
  const missingSchema = (probes.missingSchema ?? []).filter((item) => !explained.has(item));
  if (probes.backendUp === false) {
    findings.push({
      symptom: 'Any step fails at once',
      likelyCause: 'Backend down',
      firstAction: 'Start the backend (npm run stack for the reference stack) and check GET /up',
      seen: 'GET /up did not answer 200',
    });
  }
  if (probes.serverErrors && probes.serverErrors.count > 0) {
    const { count, source, lines } = probes.serverErrors;
    findings.push({
      symptom: 'A step fails with a server error',
      likelyCause: 'Backend answered 5xx',
      firstAction: 'Read the backend log around these lines (journalctl -u powernode-backend@default; reference stack: .stack/logs/backend.log, stack traces in .stack/logs/api.out.log)',
      seen: `${count} 5xx answer${count === 1 ? '' : 's'} in ${source} since the test started${count > lines.length ? ` (the first ${lines.length} below)` : ''}`,
      details: lines,
    });
  }
  if (missingSchema.length > 0) {
    findings.push({
      symptom: 'Any step fails with a database error',
      likelyCause: 'Pending migrations',
      firstAction: 'Apply pending migrations (pre-flight item 1)',
      seen: `missing: ${missingSchema.join(', ')}`,
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
  if (probes.workerStatus !== undefined && probes.workerStatus !== 'ok' && !explained.has(WORKER_HEALTH_URL_MISSING)) {
    findings.push({
      symptom: 'Approve produces 5xx',
      likelyCause: 'Worker not running',
      firstAction: 'sudo systemctl status powernode-worker@default (reference stack: check .stack/logs/worker.log)',
      seen: probes.workerStatus === null ? 'worker health endpoint did not answer' : `worker health status "${probes.workerStatus}"`,
    });
  }
  const keyRejected = probes.vultrApi?.outcome === 'rejected';
  const unhealthy = probes.unhealthyPlatformCredentials ?? [];
  if (probes.activePlatformCredentials === 0 || keyRejected || unhealthy.length > 0) {
    findings.push({
      symptom: 'Vultr instance never created',
      likelyCause: 'Provider credentials missing',
      firstAction: 'Re-register the Vultr API key per pre-flight item 3 (Settings → Cloud Credentials)',
      seen: [
        probes.activePlatformCredentials === 0 ? 'no active platform-pool credential' : '',
        keyRejected ? `VULTR_API_KEY rejected by GET /account (${probes.vultrApi!.detail})` : '',
        unhealthy.length > 0 ? named(unhealthy) : '',
      ]
        .filter(Boolean)
        .join('; '),
    });
  }
  if (probes.vultrApi?.outcome === 'unreachable') {
    findings.push({
      symptom: 'Vultr instance never created',
      likelyCause: 'Vultr API unreachable',
      firstAction: 'Check the network path to VULTR_API_URL (DNS, proxy, firewall) with GET /v2/account; reference stack: is the Vultr emulator up (.stack/logs/vultr.log)?',
      seen: probes.vultrApi.detail,
    });
  }
  if (probes.vultrApi?.outcome === 'rate_limited') {
    findings.push({
      symptom: 'Vultr instance never created',
      likelyCause: 'Vultr API rate limited',
      firstAction: 'Vultr allows 30 requests/s per source IP: stop whatever else calls Vultr from this IP, wait a minute, then re-run',
      seen: probes.vultrApi.detail,
    });
  }
  if (probes.stuckInstances && probes.stuckInstances.length > 0) {
    findings.push({
      symptom: 'Instance never reaches running',
      likelyCause: 'Provisioning timed out',
      firstAction:
        'Look at the instance in Vultr (GET /v2/instances/:id) and at the worker log (reference stack: .stack/logs/worker.log); destroy it per the Rollback section before retrying',
      seen: probes.stuckInstances.map(describeStuck).join('; '),
    });
  }
  if (probes.stripeApi && !probes.stripeApi.reachable) {
    findings.push({
      symptom: 'Checkout never completes',
      likelyCause: 'Stripe API unreachable',
      firstAction: 'Check the network path to STRIPE_API_BASE (DNS, proxy, firewall); reference stack: is the Stripe emulator up (.stack/logs/stripe.log)?',
      seen: probes.stripeApi.detail,
    });
  }
  if (probes.undeliveredWebhooks && probes.undeliveredWebhooks.length > 0) {
    findings.push({
      symptom: 'Stripe events never reach the backend',
      likelyCause: 'Stripe webhook not delivered',
      firstAction:
        'Check the webhook endpoint in the Stripe dashboard (URL must be <BASE_URL>/api/v1/billing/stripe/webhook, signing secret STRIPE_WEBHOOK_SECRET) and its failed deliveries',
      seen: `not delivered: ${named(probes.undeliveredWebhooks.map((e) => `${e.type} ${e.id}`))}`,
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

const MAX_NAMED = 5;

function named(items: string[]): string {
  const more = items.length - MAX_NAMED;
  return items.slice(0, MAX_NAMED).join(', ') + (more > 0 ? ` and ${more} more` : '');
}

function describeStuck(instance: StuckInstance): string {
  const where = `NodeInstance ${instance.name} is ${instance.status} ${instance.ageSeconds} s after it was created`;
  const vultr = instance.vultr;
  switch (vultr.kind) {
    case 'not_created':
      return `${where}; no Vultr instance was created`;
    case 'gone':
      return `${where}; its Vultr instance ${vultr.id} is gone (404)`;
    case 'found':
      return `${where}; last Vultr status of ${vultr.id}: status ${vultr.status}, power_status ${vultr.power_status}, server_status ${vultr.server_status}`;
    case 'unreadable':
      return `${where}; Vultr instance ${vultr.id} could not be read (${vultr.error})`;
  }
}

export function formatDiagnosis(findings: Finding[], probeErrors: string[], hints: VariantHint[] = []): string {
  const lines: string[] = [];
  if (findings.length === 0) lines.push('No row of the runbook troubleshooting table matches the live state.');
  for (const f of findings) {
    lines.push(`Symptom: ${f.symptom}`, `  likely cause: ${f.likelyCause}`, `  seen: ${f.seen}`);
    for (const detail of f.details ?? []) lines.push(`    ${detail}`);
    lines.push(`  first action: ${f.firstAction}`);
  }
  for (const h of hints) lines.push(`Known variant (${h.variant}): ${hintText(h)}`);
  for (const e of probeErrors) lines.push(`(probe failed: ${e})`);
  return lines.join('\n');
}

/** One line per finding, per known-variant hint and per failed probe, for the list reporter and the report's annotations. */
export function diagnosisLines(findings: Finding[], probeErrors: string[], hints: VariantHint[] = []): string[] {
  const lines = findings.map((f) => `diagnosis: ${f.symptom} → ${f.likelyCause} → ${f.firstAction} (${f.seen})`);
  if (findings.length === 0) lines.push('diagnosis: no row of the runbook troubleshooting table matches the live state');
  for (const h of hints) lines.push(`diagnosis: known variant (${h.variant}): ${hintText(h)}`);
  for (const e of probeErrors) lines.push(`diagnosis: probe failed: ${e}`);
  return lines;
}
