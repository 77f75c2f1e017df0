/**
 * The self-test's verdicts and record: what a run's Playwright report says failed (at which step,
 * with which diagnosis), whether that is the fault caught where it should be, whether a variant is
 * detected with its hint and accepted by its settings, and the summary written as selftest.json
 * and selftest.md.
 */
import { availableParallelism } from 'node:os';
import { FAULTS, type FaultName } from '@m1/reference/faults';
import type { VariantName } from '@m1/reference/variants';
import { countsOf, failingSteps, type Attachment, type Counts, type SuiteReport } from './lib/report';
import type { Ports } from './lib/stack';
import { EXPECTATIONS, NO_ROW, SELFTEST_PROVISION_TIMEOUT_MS, type Expectation } from './selftest-faults';
import { VARIANT_EXPECTATIONS } from './selftest-variants';

// ───────────────────────────────────────────────────────────────────── what the report says

export type FailedTest = {
  project: string;
  /** describe titles and the test title, " › " apart. */
  test: string;
  /** The failing test.step chain, outermost first (empty when the test failed outside any step). */
  steps: string[];
  /** test › steps: what the expectation's `step` is matched against. */
  where: string;
  error: string;
  /** The text of the diagnosis attachment, or null when the failure has none. */
  diagnosis: string | null;
  startTime: string;
};

export type SuiteOutcome = { counts: Counts; failures: FailedTest[]; skipped: string[]; errors: string[] };

// Playwright colours its error messages.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function firstLines(text: string, lines = 3, max = 400): string {
  const clean = text.replace(ANSI, '').split('\n').map((l) => l.trimEnd()).filter(Boolean).slice(0, lines).join(' / ');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function diagnosisText(attachments: Attachment[], readAttachment: (path: string) => string | undefined): string | null {
  const found = attachments.find((a) => /diagnosis/i.test(a.name));
  if (!found) return null;
  if (found.body !== undefined) return Buffer.from(found.body, 'base64').toString('utf8');
  if (found.path !== undefined) return readAttachment(found.path) ?? null;
  return null;
}

/** The failures (earliest first, each with its failing step chain and diagnosis), the skipped tests and the errors of a run. */
export function outcomeOf(report: SuiteReport, readAttachment: (path: string) => string | undefined = () => undefined): SuiteOutcome {
  const failures: FailedTest[] = [];
  const skipped: string[] = [];
  for (const test of report.tests) {
    if (test.outcome === 'skipped') skipped.push(`${test.project}: ${test.title}`);
    if (test.outcome !== 'unexpected') continue;
    const result = test.results.at(-1);
    const steps = failingSteps(result?.steps ?? []);
    failures.push({
      project: test.project,
      test: test.title,
      steps,
      where: [test.title, ...steps].join(' › '),
      error: firstLines(result?.error ?? `ended ${result?.status ?? 'without a result'}`),
      diagnosis: diagnosisText(result?.attachments ?? [], readAttachment),
      startTime: result?.startTime ?? '',
    });
  }
  failures.sort((a, b) => a.startTime.localeCompare(b.startTime));
  return { counts: countsOf(report), failures, skipped, errors: report.errors.map((e) => firstLines(e)) };
}

// ───────────────────────────────────────────────────────────────────── judging

export type RunStatus = 'passed' | 'failed' | 'crashed' | 'not_run';

export type RunResult = {
  name: string;
  kind: 'clean' | 'fault';
  description: string;
  grep: string | null;
  expectedStep: string | null;
  expectedDiagnosis: string | null;
  status: RunStatus;
  /** Why the run produced no verdict (stack did not start, suite timed out, no report). */
  crash: string | null;
  counts: Counts | null;
  failures: FailedTest[];
  skipped: string[];
  /** Fault runs: the failure at the expected step, else the first failure. */
  caughtBy: FailedTest | null;
  /** Fault runs: the suite failed at the expected step. Clean runs: null. */
  detected: boolean | null;
  /** Fault runs: that failure's diagnosis matches the expected one. */
  diagnosisOk: boolean | null;
  /** The stand-in for the daily meter schedule, run before the suite. */
  meterRun: string | null;
  /** How the stack was stopped. */
  stop: string | null;
  seconds: number;
  ok: boolean;
};

export type RunEvidence =
  | { kind: 'report'; outcome: SuiteOutcome }
  | { kind: 'crash'; reason: string }
  | { kind: 'not_run' };

/** A run to judge: a clean one must pass; a fault one must fail where its expectation says. */
export type Judged =
  | { name: string; kind: 'clean'; description?: string }
  | { name: string; kind: 'fault'; expectation: Expectation; fault?: FaultName; description?: string };

export function judgeRun(run: Judged, evidence: RunEvidence, extra: { seconds: number; meterRun?: string | null; stop?: string | null } = { seconds: 0 }): RunResult {
  const fault = run.kind === 'fault' ? run : undefined;
  const base: RunResult = {
    name: run.name,
    kind: run.kind,
    description: run.description ?? (fault?.fault ? FAULTS[fault.fault] : 'no fault, the whole suite'),
    grep: fault ? fault.expectation.grep.source : null,
    expectedStep: fault ? fault.expectation.step.source : null,
    expectedDiagnosis: fault ? fault.expectation.diagnosis.source : null,
    status: 'not_run',
    crash: null,
    counts: null,
    failures: [],
    skipped: [],
    caughtBy: null,
    detected: fault ? false : null,
    diagnosisOk: fault ? false : null,
    meterRun: extra.meterRun ?? null,
    stop: extra.stop ?? null,
    seconds: extra.seconds,
    ok: false,
  };
  if (evidence.kind === 'not_run') return base;
  if (evidence.kind === 'crash') return { ...base, status: 'crashed', crash: evidence.reason };

  const { counts, failures, skipped, errors } = evidence.outcome;
  const ran = counts.expected + counts.unexpected + counts.flaky;
  if (ran === 0) {
    return { ...base, status: 'crashed', crash: errors.length > 0 ? `no test ran: ${errors.join('; ')}` : 'no test ran', counts, skipped };
  }
  const failed = counts.unexpected > 0 || failures.length > 0 || errors.length > 0;
  const status: RunStatus = failed ? 'failed' : 'passed';
  const judged = { ...base, status, counts, failures, skipped };
  if (!fault) return { ...judged, ok: !failed && counts.flaky === 0 };

  const caughtBy = failures.find((f) => fault.expectation.step.test(f.where)) ?? null;
  const detected = caughtBy !== null;
  return {
    ...judged,
    caughtBy: caughtBy ?? failures[0] ?? null,
    detected,
    diagnosisOk: detected ? fault.expectation.diagnosis.test(caughtBy.diagnosis ?? '') : false,
    ok: detected,
  };
}

// ───────────────────────────────────────────────────────────────────── the report

/** One variant: detected with the default profile (at its step, with its hint), accepted with its settings. */
export type VariantResult = {
  name: VariantName;
  description: string;
  detection: RunResult;
  acceptance: RunResult;
  /** The settings the acceptance run added to the default profile. */
  settings: Record<string, string>;
  seconds: number;
  ok: boolean;
};

/** A variant's verdict: caught at the step with the hint, and then passing with its settings. */
export function judgeVariant(name: VariantName, description: string, detection: RunResult, acceptance: RunResult, settings: Record<string, string>): VariantResult {
  const ok = detection.detected === true && detection.diagnosisOk === true && acceptance.ok;
  return { name, description, detection, acceptance, settings, seconds: detection.seconds + acceptance.seconds, ok };
}

/** The all-variants run passes only in full: every test ran (pre-flight, funnel, negative paths, verification, rollback) and passed. */
export function judgeInFull(result: RunResult): RunResult {
  if (!result.ok || (result.counts?.skipped ?? 0) === 0) return result;
  return { ...result, ok: false, status: 'failed', crash: `${result.counts?.skipped} test(s) did not run` };
}

export type Summary = {
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  selection: string;
  /** The Playwright config the runs used (the project's, unless --config named another). */
  playwrightConfig: string;
  machine: { cpus: number; node: string };
  provisionTimeoutMs: number;
  ports: Ports;
  runs: RunResult[];
  /** CONTRACT 9's variants, one row each, and the run with all of them on. */
  variants: VariantResult[];
  allVariants: RunResult | null;
  slowestFault: { name: string; seconds: number } | null;
  undetected: string[];
  cleanFailures: string[];
  /** Variants not detected with their hint, or not accepted by their settings; "all variants" when that run failed. */
  variantFailures: string[];
  ok: boolean;
};

export function summarize(
  runs: RunResult[],
  meta: Pick<Summary, 'startedAt' | 'finishedAt' | 'wallSeconds' | 'selection' | 'playwrightConfig' | 'ports'>,
  variantTable: { variants: VariantResult[]; allVariants: RunResult | null } = { variants: [], allVariants: null },
): Summary {
  const faults = runs.filter((r) => r.kind === 'fault' && r.status !== 'not_run');
  const slowest = faults.reduce<RunResult | null>((a, b) => (a === null || b.seconds > a.seconds ? b : a), null);
  const undetected = runs.filter((r) => r.kind === 'fault' && r.status !== 'not_run' && !r.ok).map((r) => r.name);
  const cleanFailures = runs.filter((r) => r.kind === 'clean' && r.status !== 'not_run' && !r.ok).map((r) => r.name);
  const { variants, allVariants } = variantTable;
  const variantFailures = [
    ...variants.filter((v) => !v.ok).map((v) => v.name),
    ...(allVariants && !allVariants.ok ? ['all variants'] : []),
  ];
  const notRun =
    runs.filter((r) => r.status === 'not_run').length +
    variants.filter((v) => v.detection.status === 'not_run' || v.acceptance.status === 'not_run').length +
    (allVariants?.status === 'not_run' ? 1 : 0);
  const { ports, ...times } = meta;
  return {
    ...times,
    machine: { cpus: availableParallelism(), node: process.version },
    provisionTimeoutMs: SELFTEST_PROVISION_TIMEOUT_MS,
    ports,
    runs,
    variants,
    allVariants,
    slowestFault: slowest ? { name: slowest.name, seconds: slowest.seconds } : null,
    undetected,
    cleanFailures,
    variantFailures,
    ok: undetected.length === 0 && cleanFailures.length === 0 && variantFailures.length === 0 && notRun === 0,
  };
}

/** Makes text safe inside a Markdown table cell. */
export function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

const code = (text: string | null) => (text === null ? '' : `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|')}\``);
const mark = (value: boolean | null) => (value === null ? '' : value ? '✓' : '✗');
const secs = (s: number) => s.toFixed(1);

function failingStepCell(run: RunResult): string {
  if (run.status === 'not_run') return 'not run';
  if (run.status === 'crashed') return `crashed: ${cell(run.crash ?? '')}`;
  if (run.status === 'passed') return '— (the suite passed)';
  const f = run.caughtBy;
  if (!f) return 'failed (no failing test in the report)';
  const step = f.steps.at(-1);
  const text = step ? `${step} (in ${f.test})` : f.test;
  return cell(run.detected ? text : `${text}; not the expected step: ${f.error}`);
}

export function renderMarkdown(summary: Summary): string {
  const lines: string[] = [];
  const faults = summary.runs.filter((r) => r.kind === 'fault');
  const cleans = summary.runs.filter((r) => r.kind === 'clean');
  const caught = faults.filter((r) => r.ok).length;
  const judged = faults.filter((r) => r.status !== 'not_run').length;
  lines.push(
    '# Self-test: does the suite catch the defects it exists to catch?',
    '',
    `Generated by \`npx tsx harness/selftest.ts\` (${summary.selection}) on ${summary.startedAt}.`,
    '',
    `- Verdict: **${summary.ok ? 'pass' : 'FAIL'}**: ${caught} of ${faults.length} faults caught at the expected step` +
      (judged < faults.length ? ` (${faults.length - judged} not run)` : '') +
      `; clean runs ${cleans.filter((r) => r.ok).length} of ${cleans.length} passed` +
      (summary.variants.length > 0 || summary.allVariants
        ? `; variants ${summary.variants.filter((v) => v.ok).length} of ${summary.variants.length} detected and accepted` +
          (summary.allVariants ? `, all variants on ${summary.allVariants.ok ? 'passed' : 'FAILED'}` : '')
        : '') +
      '.',
    `- Wall time: ${secs(summary.wallSeconds)} s on ${summary.machine.cpus} cores (Node ${summary.machine.node})` +
      (summary.slowestFault ? `; slowest fault: ${summary.slowestFault.name} (${secs(summary.slowestFault.seconds)} s).` : '.'),
    `- Each run: a fresh reference stack (\`--fresh\`, its own STACK_DIR, ports ${summary.ports.base}-${summary.ports.postgres}), ` +
      `PROVISION_TIMEOUT_MS=${summary.provisionTimeoutMs} for the stack and the suite alike, one run of the worker's daily meter job ` +
      `(POST /jobs/meter?wait=1) standing in for its schedule, then the suite through ${summary.playwrightConfig} with a JSON reporter and video off.`,
    '- Detected ✓: the suite failed at the expected step. Diagnosis ✓: that failure\'s diagnosis attachment matches the expected cause ' +
      `(\`${NO_ROW.source}\` where the runbook has no row for the defect).`,
    '',
    '## Clean runs',
    '',
    '| run | result | passed | failed | did not run | seconds |',
    '|---|---|---|---|---|---|',
  );
  for (const r of cleans) {
    const result = r.status === 'crashed' ? `crashed: ${cell(r.crash ?? '')}` : r.status === 'not_run' ? 'not run' : r.ok ? '✓ passed' : '✗ failed';
    lines.push(`| ${r.name} | ${result} | ${r.counts?.expected ?? ''} | ${r.counts?.unexpected ?? ''} | ${r.counts?.skipped ?? ''} | ${secs(r.seconds)} |`);
  }
  for (const r of cleans) {
    for (const f of r.failures) lines.push('', `- ${r.name} failed: ${cell(f.where)}: ${cell(f.error)}`);
    if (r.skipped.length > 0) lines.push('', `- ${r.name}: did not run: ${r.skipped.map(cell).join('; ')}`);
  }
  lines.push(
    '',
    '## Faults',
    '',
    '| fault | description | expected step | failing step | detected | diagnosis | seconds |',
    '|---|---|---|---|---|---|---|',
  );
  for (const r of faults) {
    lines.push(
      `| ${r.name} | ${cell(r.description)} | ${code(r.expectedStep)} | ${failingStepCell(r)} | ${r.status === 'not_run' ? '' : mark(r.detected)} | ${r.status === 'not_run' ? '' : mark(r.diagnosisOk)} | ${r.status === 'not_run' ? '' : secs(r.seconds)} |`,
    );
  }
  const misdiagnosed = faults.filter((r) => r.detected && !r.diagnosisOk);
  if (misdiagnosed.length > 0) {
    lines.push('', '### Diagnoses that missed', '');
    for (const r of misdiagnosed) {
      lines.push(`- ${r.name}: expected ${code(r.expectedDiagnosis)}; the diagnosis said: ${cell(r.caughtBy?.diagnosis ?? '(no diagnosis attachment)')}`);
    }
  }
  const notes = faults.filter((r) => EXPECTATIONS[r.name as FaultName]?.note);
  if (notes.length > 0) {
    lines.push('', '### Notes', '');
    for (const r of notes) lines.push(`- ${r.name}: ${EXPECTATIONS[r.name as FaultName].note}`);
  }
  if (summary.variants.length > 0 || summary.allVariants) lines.push(...variantSection(summary));
  lines.push('');
  return lines.join('\n');
}

function settingsCell(settings: Record<string, string>): string {
  return Object.entries(settings)
    .map(([name, value]) => code(`${name}=${value}`))
    .join(', ');
}

function acceptanceCell(run: RunResult): string {
  if (run.status === 'not_run') return 'not run';
  if (run.status === 'crashed') return `crashed: ${cell(run.crash ?? '')}`;
  const counts = run.counts ? ` (${run.counts.expected} passed${run.counts.unexpected ? `, ${run.counts.unexpected} failed` : ''}${run.counts.skipped ? `, ${run.counts.skipped} did not run` : ''})` : '';
  return `${run.ok ? '✓ passed' : '✗ failed'}${counts}`;
}

/** CONTRACT 9's variants: each detected with the default profile and its hint, then accepted by its settings; then all of them on. */
function variantSection(summary: Summary): string[] {
  const { variants, allVariants } = summary;
  const detected = variants.filter((v) => v.detection.detected && v.detection.diagnosisOk).length;
  const accepted = variants.filter((v) => v.acceptance.ok).length;
  const lines = [
    '',
    '## Variants (CONTRACT 9: public Powernode\'s known differences)',
    '',
    `- ${detected} of ${variants.length} detected with the right hint; ${accepted} of ${variants.length} accepted by their settings` +
      (allVariants ? `; all variants on, TARGET_PROFILE=powernode-core: ${allVariants.ok ? 'passed in full' : 'FAILED'}.` : '.'),
    '- Each variant: one fresh reference stack with `--variants=<it>`. First the suite with the default profile (the tests in --grep): it must ' +
      'fail at the expected step, and that failure\'s diagnosis must carry the variant\'s hint naming the setting. Then the whole suite with that ' +
      'setting only (the powernode-core profile\'s value; for the log and the worker, the reference stack\'s command): it must pass.',
    '',
    '| variant | default profile: expected step | failing step | detected | hint | accepted with | whole suite | seconds |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const v of variants) {
    const d = v.detection;
    lines.push(
      `| ${v.name} | ${code(d.expectedStep)} | ${failingStepCell(d)} | ${d.status === 'not_run' ? '' : mark(d.detected)} | ${d.status === 'not_run' ? '' : mark(d.diagnosisOk)} | ${settingsCell(v.settings)} | ${acceptanceCell(v.acceptance)} | ${secs(v.seconds)} |`,
    );
  }
  if (allVariants) {
    lines.push(`| **all twelve** | — | — | | | \`TARGET_PROFILE=powernode-core\` and the reference's log and worker commands | ${acceptanceCell(allVariants)} | ${secs(allVariants.seconds)} |`);
  }
  const hintMissed = variants.filter((v) => v.detection.detected && !v.detection.diagnosisOk);
  if (hintMissed.length > 0) {
    lines.push('', '### Hints that missed', '');
    for (const v of hintMissed) lines.push(`- ${v.name}: expected ${code(v.detection.expectedDiagnosis)}; the diagnosis said: ${cell(v.detection.caughtBy?.diagnosis ?? '(no diagnosis attachment)')}`);
  }
  const failedRuns = [...variants.map((v) => ({ name: v.name, run: v.acceptance })), ...(allVariants ? [{ name: 'all twelve', run: allVariants }] : [])];
  for (const { name, run } of failedRuns) {
    for (const f of run.failures) lines.push('', `- ${name}, accepted run, failed: ${cell(f.where)}: ${cell(f.error)}`);
    if (run.skipped.length > 0) lines.push('', `- ${name}, accepted run, did not run: ${run.skipped.map(cell).join('; ')}`);
  }
  const notes = variants.filter((v) => VARIANT_EXPECTATIONS[v.name].note);
  if (notes.length > 0) {
    lines.push('', '### Notes on the variants', '');
    for (const v of notes) lines.push(`- ${v.name}: ${VARIANT_EXPECTATIONS[v.name].note}`);
  }
  return lines;
}

