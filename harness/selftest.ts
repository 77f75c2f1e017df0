/**
 * `npm run selftest`: proves the suite catches the defects it exists to catch.
 *
 * For every fault of the reference stack (reference/lib/faults.ts) it starts a fresh stack with
 * that fault on its own ports, runs the suite's tests named in harness/selftest-faults.ts against
 * it, and reads Playwright's JSON report: did the run fail, at the expected step, and does the
 * failure diagnosis name the expected cause. Two clean runs (no fault, the whole suite) must pass.
 * Writes reports/selftest.md and reports/selftest.json (a partial run, --only or --subset, writes
 * them to reports/tmp/selftest/ instead, leaving the whole matrix's record alone); exits 1 when a
 * fault goes undetected or a clean run fails, 2 on a bad flag.
 *
 * Runs are sequential (the stack and a browser on a 2-core machine), each bounded in time; every
 * stack is stopped by its PID and its ports checked free before the next one starts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { configFile, flagValue, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { busyPorts } from '@m1/reference/probe';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEFAULT_DATABASE_URL } from '@m1/reference/stack';
import { FAULTS, isFaultName, type FaultName } from '@m1/reference/faults';
import { CI_SUBSET, EXPECTATIONS, NO_ROW, SELFTEST_PROVISION_TIMEOUT_MS, type Expectation } from './selftest-faults';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_DIR = join(ROOT, 'reference');
const WORK_DIR = join(ROOT, 'reports', 'tmp', 'selftest');
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

/** The self-test's own ports (never the real stack's 3100-3103 / 54329). */
export const PORTS = { base: 4181, vultr: 4182, stripe: 4183, worker: 4184, postgres: 4185 } as const;

const STACK_START_TIMEOUT_MS = 120_000;
const STACK_STOP_TIMEOUT_MS = 30_000;
const SUITE_TIMEOUT_MS = 300_000;
const METER_RUN_TIMEOUT_MS = 20_000;

// ───────────────────────────────────────────────────────────────────── flags

export const USAGE = `usage: npx tsx harness/selftest.ts [--only=name,...] [--subset=ci] [--keep-going] [--config=file] [--help]

Starts a fresh reference stack per fault (ports ${PORTS.base}-${PORTS.postgres}), runs the suite against it and
checks that the suite fails at the expected step with the expected diagnosis; two clean runs
must pass. Writes reports/selftest.md and reports/selftest.json (--only and --subset write
reports/tmp/selftest/selftest.md and .json).

  --only=a,b     run only these (fault names, or "clean" for one clean run)
  --subset=ci    one clean run and a fixed third of the faults (harness/selftest-faults.ts)
  --keep-going   run everything even after a failure (default: stop at the first)
  --config=file  the Playwright config to run (default: playwright.config.ts), e.g. a proposed project graph
  --help         this text`;

export { UsageError };

export type Options = { only: string[] | undefined; subset: 'ci' | undefined; keepGoing: boolean; config: string; help: boolean };

const DEFAULT_CONFIG = 'playwright.config.ts';

const EXAMPLES: Record<string, string> = { '--only': 'cost_730h', '--subset': 'ci', '--config': DEFAULT_CONFIG };

export function parseFlags(argv: string[]): Options {
  const options: Options = { only: undefined, subset: undefined, keepGoing: false, config: DEFAULT_CONFIG, help: false };
  const valueOf = (name: string, i: number) => flagValue(argv, i, name, EXAMPLES[name]!);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--keep-going') options.keepGoing = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const [value, next] = valueOf('--only', i);
      i = next;
      const names = [...new Set(value.split(',').map((s) => s.trim()).filter(Boolean))];
      if (names.length === 0) throw new UsageError('--only expects a comma list of fault names (or "clean"), e.g. --only=cost_730h');
      const unknown = names.filter((n) => n !== 'clean' && !isFaultName(n));
      if (unknown.length > 0) throw new UsageError(`--only: unknown fault(s) ${unknown.join(', ')}; known: clean, ${Object.keys(FAULTS).join(', ')}`);
      options.only = names;
    } else if (arg === '--subset' || arg.startsWith('--subset=')) {
      const [value, next] = valueOf('--subset', i);
      i = next;
      if (value !== 'ci') throw new UsageError(`--subset: unknown subset "${value}"; the one subset is ci`);
      options.subset = 'ci';
    } else if (arg === '--config' || arg.startsWith('--config=')) {
      const [value, next] = valueOf('--config', i);
      i = next;
      options.config = configFile(value);
    } else throw new UsageError(`unknown argument "${arg}" (try --help)`);
  }
  if (options.only && options.subset) throw new UsageError('--only and --subset select runs two ways: give one of them');
  return options;
}

export type PlannedRun = { name: string; kind: 'clean' } | { name: FaultName; kind: 'fault'; fault: FaultName; expectation: Expectation };

const faultRun = (fault: FaultName): PlannedRun => ({ name: fault, kind: 'fault', fault, expectation: EXPECTATIONS[fault] });

/** A clean run first (a broken suite would otherwise "catch" every fault), the faults, a clean run last. */
export function planRuns(options: Pick<Options, 'only' | 'subset'>): PlannedRun[] {
  const all = Object.keys(FAULTS) as FaultName[];
  if (options.only) {
    const faults = all.filter((f) => options.only!.includes(f)).map(faultRun);
    return options.only.includes('clean') ? [{ name: 'clean', kind: 'clean' }, ...faults] : faults;
  }
  if (options.subset === 'ci') return [{ name: 'clean', kind: 'clean' }, ...all.filter((f) => CI_SUBSET.includes(f)).map(faultRun)];
  return [{ name: 'clean #1', kind: 'clean' }, ...all.map(faultRun), { name: 'clean #2', kind: 'clean' }];
}

// ───────────────────────────────────────────────────────────────────── the JSON report

type JsonStep = { title: string; error?: unknown; steps?: JsonStep[] };
const stepSchema: z.ZodType<JsonStep> = z.lazy(() =>
  z.object({ title: z.string(), error: z.unknown().optional(), steps: z.array(stepSchema).optional() }),
);
const attachmentSchema = z.object({ name: z.string(), contentType: z.string().optional(), path: z.string().optional(), body: z.string().optional() });
const errorSchema = z.object({ message: z.string().optional() }).loose();
const resultSchema = z.object({
  status: z.string(),
  startTime: z.string().optional(),
  error: errorSchema.optional(),
  errors: z.array(errorSchema).optional(),
  steps: z.array(stepSchema).optional(),
  attachments: z.array(attachmentSchema).optional(),
});
const specSchema = z.object({
  title: z.string(),
  tests: z.array(z.object({ projectName: z.string(), status: z.string(), results: z.array(resultSchema) })),
});
type JsonSuite = { title: string; specs?: z.infer<typeof specSchema>[]; suites?: JsonSuite[] };
const suiteSchema: z.ZodType<JsonSuite> = z.lazy(() =>
  z.object({ title: z.string(), specs: z.array(specSchema).optional(), suites: z.array(suiteSchema).optional() }),
);
const reportSchema = z.object({
  suites: z.array(suiteSchema),
  errors: z.array(errorSchema).optional(),
  stats: z.object({ expected: z.number(), unexpected: z.number(), flaky: z.number(), skipped: z.number() }).optional(),
});

export type Counts = { expected: number; unexpected: number; flaky: number; skipped: number };

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

/** The chain of failing steps down to the innermost one. */
export function failingSteps(steps: JsonStep[] | undefined): string[] {
  const failed = (steps ?? []).find((s) => s.error !== undefined && s.error !== null);
  return failed ? [failed.title, ...failingSteps(failed.steps)] : [];
}

function diagnosisText(attachments: z.infer<typeof attachmentSchema>[] | undefined, readAttachment: (path: string) => string | undefined): string | null {
  const found = (attachments ?? []).find((a) => /diagnosis/i.test(a.name));
  if (!found) return null;
  if (found.body !== undefined) return Buffer.from(found.body, 'base64').toString('utf8');
  if (found.path !== undefined) return readAttachment(found.path) ?? null;
  return null;
}

/** What a Playwright JSON report says about a run. Throws when the input is not such a report. */
export function readSuiteReport(json: unknown, readAttachment: (path: string) => string | undefined = () => undefined): SuiteOutcome {
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) throw new Error(`not a Playwright JSON report: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
  const report = parsed.data;
  const counted: Counts = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
  const failures: FailedTest[] = [];
  const skipped: string[] = [];

  const visit = (suite: JsonSuite, titles: string[]) => {
    for (const spec of suite.specs ?? []) {
      const title = [...titles, spec.title].join(' › ');
      for (const test of spec.tests) {
        if (test.status in counted) counted[test.status as keyof Counts]++;
        if (test.status === 'skipped') skipped.push(`${test.projectName}: ${title}`);
        if (test.status !== 'unexpected') continue;
        const result = test.results.at(-1);
        const steps = failingSteps(result?.steps);
        const message = result?.errors?.find((e) => e.message)?.message ?? result?.error?.message ?? `ended ${result?.status ?? 'without a result'}`;
        failures.push({
          project: test.projectName,
          test: title,
          steps,
          where: [title, ...steps].join(' › '),
          error: firstLines(message),
          diagnosis: diagnosisText(result?.attachments, readAttachment),
          startTime: result?.startTime ?? '',
        });
      }
    }
    for (const child of suite.suites ?? []) visit(child, [...titles, child.title]);
  };
  // The top-level suites are files: their titles are paths, not part of a test's name.
  for (const file of report.suites) visit(file, []);

  failures.sort((a, b) => a.startTime.localeCompare(b.startTime));
  return {
    counts: report.stats ?? counted,
    failures,
    skipped,
    errors: (report.errors ?? []).map((e) => firstLines(e.message ?? 'error without a message')),
  };
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

export function judgeRun(run: PlannedRun, evidence: RunEvidence, extra: { seconds: number; meterRun?: string | null; stop?: string | null } = { seconds: 0 }): RunResult {
  const fault = run.kind === 'fault' ? run : undefined;
  const base: RunResult = {
    name: run.name,
    kind: run.kind,
    description: fault ? FAULTS[fault.fault] : 'no fault, the whole suite',
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

export type Summary = {
  startedAt: string;
  finishedAt: string;
  wallSeconds: number;
  selection: string;
  /** The Playwright config the runs used (the project's, unless --config named another). */
  playwrightConfig: string;
  machine: { cpus: number; node: string };
  provisionTimeoutMs: number;
  ports: typeof PORTS;
  runs: RunResult[];
  slowestFault: { name: string; seconds: number } | null;
  undetected: string[];
  cleanFailures: string[];
  ok: boolean;
};

export function summarize(runs: RunResult[], meta: Pick<Summary, 'startedAt' | 'finishedAt' | 'wallSeconds' | 'selection' | 'playwrightConfig'>): Summary {
  const faults = runs.filter((r) => r.kind === 'fault' && r.status !== 'not_run');
  const slowest = faults.reduce<RunResult | null>((a, b) => (a === null || b.seconds > a.seconds ? b : a), null);
  const undetected = runs.filter((r) => r.kind === 'fault' && r.status !== 'not_run' && !r.ok).map((r) => r.name);
  const cleanFailures = runs.filter((r) => r.kind === 'clean' && r.status !== 'not_run' && !r.ok).map((r) => r.name);
  const notRun = runs.filter((r) => r.status === 'not_run').length;
  return {
    ...meta,
    machine: { cpus: availableParallelism(), node: process.version },
    provisionTimeoutMs: SELFTEST_PROVISION_TIMEOUT_MS,
    ports: PORTS,
    runs,
    slowestFault: slowest ? { name: slowest.name, seconds: slowest.seconds } : null,
    undetected,
    cleanFailures,
    ok: undetected.length === 0 && cleanFailures.length === 0 && notRun === 0,
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
      `; clean runs ${cleans.filter((r) => r.ok).length} of ${cleans.length} passed.`,
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
    for (const r of notes) lines.push(`- ${r.name}: ${EXPECTATIONS[r.name as FaultName]!.note}`);
  }
  lines.push('');
  return lines.join('\n');
}

// ───────────────────────────────────────────────────────────────────── processes

type Exit = { code: number | null; signal: NodeJS.Signals | null };
type Spawned = { child: ChildProcess; pid: number; exited: Promise<Exit>; exit: Exit | undefined };

/** Own process group (detached), output appended to a log file: a hung run is ended as a group. */
function spawnLogged(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string }): Spawned {
  const fd = openSync(options.log, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd] });
    const spawned: Spawned = {
      child,
      pid: child.pid ?? -1,
      exit: undefined,
      exited: new Promise<Exit>((done) => {
        child.once('exit', (code, signal) => {
          spawned.exit = { code, signal };
          done(spawned.exit);
        });
        child.once('error', () => {
          spawned.exit = { code: -1, signal: null };
          done(spawned.exit);
        });
      }),
    };
    return spawned;
  } finally {
    closeSync(fd);
  }
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

async function exitedWithin(spawned: Spawned, ms: number): Promise<boolean> {
  if (spawned.exit) return true;
  return Promise.race([spawned.exited.then(() => true), sleep(ms).then(() => false)]);
}

/** Live (not zombie) processes of a process group, from /proc; by signal 0 where there is no /proc. */
function groupMembers(pgid: number): number[] {
  if (pgid <= 0) return [];
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? [pgid] : [];
    }
  }
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(group) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

async function groupGoneWithin(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (groupMembers(pgid).length > 0) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid <= 0) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Variables that would aim a run elsewhere or switch on more faults than the one under test. */
const SCRUBBED = ['STACK_FAULTS', 'VULTR_FAULTS', 'E2E_RUN_ID', 'PLAYWRIGHT_JSON_OUTPUT_NAME', 'PLAYWRIGHT_HTML_REPORT'];

function addresses() {
  return {
    BASE_URL: `http://127.0.0.1:${PORTS.base}`,
    VULTR_API_URL: `http://127.0.0.1:${PORTS.vultr}/v2`,
    STRIPE_API_BASE: `http://127.0.0.1:${PORTS.stripe}`,
    WORKER_HEALTH_URL: `http://127.0.0.1:${PORTS.worker}/health`,
    PROVISION_TIMEOUT_MS: String(SELFTEST_PROVISION_TIMEOUT_MS),
  };
}

export function stackEnv(base: NodeJS.ProcessEnv, stackDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of SCRUBBED) delete env[name];
  return {
    ...env,
    ...addresses(),
    // Empty, not unset: .env cannot fill it in, so the stack starts its own embedded Postgres.
    DATABASE_URL: '',
    STACK_PG_PORT: String(PORTS.postgres),
    STACK_DIR: stackDir,
    STRIPE_WEBHOOK_URL: `http://127.0.0.1:${PORTS.base}/api/v1/billing/stripe/webhook`,
  };
}

export function suiteEnv(base: NodeJS.ProcessEnv, stackDir: string, jsonReport: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const name of SCRUBBED) delete env[name];
  const database = new URL(DEFAULT_DATABASE_URL);
  database.port = String(PORTS.postgres);
  return {
    ...env,
    ...addresses(),
    DATABASE_URL: database.toString(),
    BACKEND_LOG_COMMAND: '',
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
    PLAYWRIGHT_JSON_OUTPUT_NAME: jsonReport,
  };
}

/**
 * The suite's Playwright config as it is (projects, timeouts, fixtures), with two changes:
 * the JSON reporter only (its other reporters write into test-results/ and playwright-report/ of a
 * normal run), and no video: the self-test reads none, and encoding one per failing run costs CPU.
 */
function writePlaywrightConfig(baseConfig: string): string {
  const file = join(WORK_DIR, 'playwright.selftest.config.ts');
  const base = relative(WORK_DIR, baseConfig.replace(/\.ts$/, '')).split('\\').join('/');
  writeFileSync(
    file,
    [
      '// Written by harness/selftest.ts for its runs; see writePlaywrightConfig there.',
      "import { resolve } from 'node:path';",
      `import base from '${base.startsWith('.') ? base : `./${base}`}';`,
      '',
      'export default {',
      '  ...base,',
      `  testDir: resolve(${JSON.stringify(ROOT)}, base.testDir ?? '.'),`,
      "  reporter: [['json']],",
      "  use: { ...base.use, video: 'off' },",
      '};',
      '',
    ].join('\n'),
  );
  return file;
}

type Stack = { spawned: Spawned; env: NodeJS.ProcessEnv; log: string };

async function startStack(run: PlannedRun, stackDir: string, log: string): Promise<Stack | string> {
  const env = stackEnv(process.env, stackDir);
  const args = ['--import', 'tsx', 'stack/main.ts', '--fresh', ...(run.kind === 'fault' ? [`--faults=${run.fault}`] : [])];
  const spawned = spawnLogged(process.execPath, args, { cwd: REFERENCE_DIR, env, log });
  const stack = { spawned, env, log };
  const deadline = Date.now() + STACK_START_TIMEOUT_MS;
  for (;;) {
    if (/^stack ready in /m.test(tail(log, 40))) return stack;
    if (spawned.exit) return `the stack exited (${spawned.exit.signal ?? `code ${spawned.exit.code}`}) before it was ready: ${tail(log, 4)}`;
    if (Date.now() > deadline) {
      const stop = await stopStack(stack);
      return `the stack was not ready within ${STACK_START_TIMEOUT_MS / 1000} s (stopped: ${stop.how}): ${tail(log, 4)}`;
    }
    await sleep(200);
  }
}

/** SIGTERM by PID (the stack stops its children and Postgres), then `--stop`, then SIGKILL to its group. */
async function stopStack(stack: Stack): Promise<{ how: string; clean: boolean }> {
  const { spawned } = stack;
  let how = 'SIGTERM to the stack';
  if (!spawned.exit) {
    try {
      process.kill(spawned.pid, 'SIGTERM');
    } catch {
      // Exited meanwhile.
    }
  }
  if (!(await exitedWithin(spawned, STACK_STOP_TIMEOUT_MS))) {
    how += ', then npm run stack -- --stop';
    const stopper = spawnLogged(process.execPath, ['--import', 'tsx', 'stack/main.ts', '--stop'], { cwd: REFERENCE_DIR, env: stack.env, log: stack.log });
    await exitedWithin(stopper, STACK_STOP_TIMEOUT_MS);
  }
  // The stack ends its children and Postgres before it exits; whatever is left of its group gets a moment, then SIGKILL.
  if (!(await exitedWithin(spawned, 1_000)) || !(await groupGoneWithin(spawned.pid, 10_000))) {
    how += ', then SIGKILL to its process group';
    signalGroup(spawned.pid, 'SIGKILL');
    await exitedWithin(spawned, 5_000);
    await groupGoneWithin(spawned.pid, 5_000);
  }
  const deadline = Date.now() + 10_000;
  let busy = await busyPorts(Object.values(PORTS));
  while (busy.length > 0 && Date.now() < deadline) {
    await sleep(200);
    busy = await busyPorts(Object.values(PORTS));
  }
  const left = groupMembers(spawned.pid);
  if (left.length > 0) return { how: `${how}; still alive: pid ${left.join(', ')}`, clean: false };
  if (busy.length > 0) return { how: `${how}; ports still in use: ${busy.join(', ')}`, clean: false };
  return { how, clean: true };
}

/** The worker's daily `billing.provisioning_meter` run, now instead of at 03:00. */
async function runMeterJob(): Promise<string> {
  const url = `http://127.0.0.1:${PORTS.worker}/jobs/meter?wait=1`;
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(METER_RUN_TIMEOUT_MS),
    });
    const body = (await response.json().catch(() => ({}))) as { state?: string; error?: string };
    return response.ok ? (body.state ?? `answered ${response.status}`) : `answered ${response.status}${body.error ? `: ${body.error}` : ''}`;
  } catch (error) {
    return `not run: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`;
  }
}

async function runSuite(run: PlannedRun, config: string, stackDir: string, runDir: string, leftovers: string[]): Promise<RunEvidence> {
  const jsonReport = join(runDir, 'report.json');
  const log = join(runDir, 'playwright.log');
  const args = [PLAYWRIGHT_CLI, 'test', '-c', config, `--output=${join(runDir, 'artifacts')}`];
  if (run.kind === 'fault') args.push(`--grep=${run.expectation.grep.source}`);
  const suite = spawnLogged(process.execPath, args, { cwd: ROOT, env: suiteEnv(process.env, stackDir, jsonReport), log });
  active.suite = suite;
  try {
    if (!(await exitedWithin(suite, SUITE_TIMEOUT_MS))) {
      signalGroup(suite.pid, 'SIGTERM');
      if (!(await exitedWithin(suite, 10_000))) signalGroup(suite.pid, 'SIGKILL');
      await exitedWithin(suite, 5_000);
      return { kind: 'crash', reason: `the suite ran longer than ${SUITE_TIMEOUT_MS / 1000} s and was stopped` };
    }
  } finally {
    active.suite = undefined;
  }
  // Playwright closes its browsers and workers; anything of its group still alive would outlive the run.
  if (!(await groupGoneWithin(suite.pid, 5_000))) {
    const left = groupMembers(suite.pid);
    signalGroup(suite.pid, 'SIGKILL');
    await groupGoneWithin(suite.pid, 5_000);
    leftovers.push(`suite processes left after Playwright exited, killed: pid ${left.join(', ')}`);
  }
  if (!existsSync(jsonReport)) {
    return { kind: 'crash', reason: `no JSON report (playwright exited ${suite.exit?.signal ?? `with code ${suite.exit?.code}`}): ${tail(log, 3)}` };
  }
  try {
    const json: unknown = JSON.parse(readFileSync(jsonReport, 'utf8'));
    const readAttachment = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
    return { kind: 'report', outcome: readSuiteReport(json, readAttachment) };
  } catch (error) {
    return { kind: 'crash', reason: `unreadable JSON report: ${(error as Error).message}` };
  }
}

/** The suite run in progress, for an interrupt to end. */
const active: { suite?: Spawned } = {};

async function runOne(run: PlannedRun, config: string, interrupted: () => boolean): Promise<RunResult> {
  const started = Date.now();
  const runDir = join(WORK_DIR, 'runs', run.name.replace(/[^a-z0-9_]+/gi, '-'));
  const stackDir = join(runDir, 'stack');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const seconds = () => (Date.now() - started) / 1000;

  const stack = await startStack(run, stackDir, join(runDir, 'stack.log'));
  if (typeof stack === 'string') return judgeRun(run, { kind: 'crash', reason: stack }, { seconds: seconds(), stop: 'did not start' });
  let evidence: RunEvidence = { kind: 'crash', reason: 'interrupted' };
  let meterRun: string | null = null;
  let stop: { how: string; clean: boolean };
  const leftovers: string[] = [];
  try {
    if (!interrupted()) {
      meterRun = await runMeterJob();
      evidence = await runSuite(run, config, stackDir, runDir, leftovers);
    }
  } finally {
    stop = await stopStack(stack);
  }
  // The database and bundles are big and rebuilt next time; the logs stay for whoever reads the report.
  for (const heavy of ['pgdata', 'build']) rmSync(join(stackDir, heavy), { recursive: true, force: true });
  const result = judgeRun(run, evidence, { seconds: seconds(), meterRun, stop: [stop.how, ...leftovers].join('; ') });
  if (!stop.clean) return { ...result, status: 'crashed', crash: `the stack did not stop cleanly: ${stop.how}`, ok: false };
  return result;
}

function verdictLine(result: RunResult): string {
  if (result.status === 'crashed') return `CRASHED (${result.crash})`;
  if (result.kind === 'clean') return result.ok ? 'passed' : `FAILED: ${result.failures.map((f) => f.where).join('; ')}`;
  if (result.status === 'passed') return 'NOT DETECTED: the suite passed';
  if (!result.detected) return `NOT DETECTED at the expected step; failed at: ${result.caughtBy?.where ?? '?'}`;
  return `detected at ${result.caughtBy?.where}; diagnosis ${result.diagnosisOk ? 'ok' : 'MISSED'}`;
}

/** The whole matrix is the record; a partial run reports beside its run directories. */
export function reportPaths(options: Pick<Options, 'only' | 'subset'>): { markdown: string; json: string } {
  const dir = options.only || options.subset ? WORK_DIR : join(ROOT, 'reports');
  return { markdown: join(dir, 'selftest.md'), json: join(dir, 'selftest.json') };
}

function writeReports(summary: Summary, paths: { markdown: string; json: string }): void {
  mkdirSync(dirname(paths.markdown), { recursive: true });
  writeFileSync(paths.markdown, renderMarkdown(summary));
  writeFileSync(paths.json, `${JSON.stringify(summary, null, 2)}\n`);
}

async function main(argv: string[]): Promise<number> {
  const start = startCli('selftest', argv, parseFlags, USAGE, ROOT);
  if ('exitCode' in start) return start.exitCode;
  const { options, configPath: baseConfig } = start;
  const busy = await busyPorts(Object.values(PORTS));
  if (busy.length > 0) {
    console.error(`selftest: port(s) ${busy.join(', ')} already in use (another self-test?); the self-test needs ${PORTS.base}-${PORTS.postgres} free`);
    return 1;
  }

  const plan = planRuns(options);
  const selection = options.only ? `--only=${options.only.join(',')}` : options.subset ? `--subset=${options.subset}` : 'the whole matrix';
  const startedAt = new Date();
  rmSync(join(WORK_DIR, 'runs'), { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
  const config = writePlaywrightConfig(baseConfig);

  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`selftest: ${signal}: stopping the current run`);
    if (active.suite) signalGroup(active.suite.pid, 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: RunResult[] = [];
  let stopped = false;
  for (const [index, run] of plan.entries()) {
    if (stopped || interrupted) {
      results.push(judgeRun(run, { kind: 'not_run' }));
      continue;
    }
    process.stdout.write(`selftest [${index + 1}/${plan.length}] ${run.name} ... `);
    const result = await runOne(run, config, () => interrupted);
    results.push(result);
    console.log(`${verdictLine(result)} (${result.seconds.toFixed(1)} s)`);
    if (!result.ok && !options.keepGoing) {
      stopped = true;
      console.log('selftest: stopping at the first failure (--keep-going runs the rest)');
    }
  }

  const finishedAt = new Date();
  const summary = summarize(results, {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    selection,
    playwrightConfig: options.config,
  });
  const paths = reportPaths(options);
  writeReports(summary, paths);
  const leftovers = await busyPorts(Object.values(PORTS));
  if (leftovers.length > 0) console.error(`selftest: ports still in use after the last run: ${leftovers.join(', ')}`);
  console.log(
    `selftest: ${summary.ok ? 'pass' : 'FAIL'} in ${summary.wallSeconds.toFixed(1)} s` +
      (summary.slowestFault ? `; slowest fault ${summary.slowestFault.name} (${summary.slowestFault.seconds.toFixed(1)} s)` : '') +
      (summary.undetected.length ? `; not caught: ${summary.undetected.join(', ')}` : '') +
      (summary.cleanFailures.length ? `; clean runs failed: ${summary.cleanFailures.join(', ')}` : '') +
      `; ${relative(ROOT, paths.markdown)}, ${relative(ROOT, paths.json)}`,
  );
  if (interrupted) return 130;
  return summary.ok && leftovers.length === 0 ? 0 : 1;
}

runWhenInvoked('selftest', import.meta.url, main);
