/**
 * `npm run selftest`: proves the suite catches the defects it exists to catch, and accepts public
 * Powernode's known differences once it is told about them.
 *
 * For every fault of the reference stack (reference/lib/faults.ts) it starts a fresh stack with
 * that fault on its own ports, runs the suite's tests named in harness/selftest-faults.ts against
 * it, and reads Playwright's JSON report: did the run fail, at the expected step, and does the
 * failure diagnosis name the expected cause. Two clean runs (no fault, the whole suite) must pass.
 * For every variant (reference/lib/variants.ts, CONTRACT 9) it starts a fresh stack with that
 * variant on: with the default profile the suite must fail at the step harness/selftest-variants.ts
 * names, with the variant's hint in the diagnosis; with the variant's settings the whole suite
 * must pass. Last, all variants on, with TARGET_PROFILE=powernode-core, the whole suite must pass.
 * Writes reports/selftest.md and reports/selftest.json (a partial run, --only, --subset or
 * --variants, writes them to reports/tmp/selftest/ instead, leaving the whole matrix's record
 * alone); exits 1 when a fault or a variant goes undetected or a clean run fails, 2 on a bad flag.
 *
 * Runs are sequential (the stack and a browser on a 2-core machine), each bounded in time; every
 * stack is stopped by its PID and its ports checked free before the next one starts.
 */
import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FAULTS, isFaultName, type FaultName } from '@m1/reference/faults';
import { isVariantName, VARIANTS, type VariantName } from '@m1/reference/variants';
import { busyPorts } from '@m1/reference/probe';
import { forgetClusters } from '@m1/reference/stack';
import { configFile, parseCommandLine, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { readReportFile } from './lib/report';
import { signal, type Spawned } from './lib/processes';
import { portList, startStack, stopStack, suiteEnv, type Ports, type RunningStack } from './lib/stack';
import { ALL_VARIANTS, allVariantsSettings, displaySettings, variantSettings } from './lib/variants';
import { writeWrapperConfig } from './lib/wrapper-config';
import {
  judgeInFull,
  judgeRun,
  judgeVariant,
  outcomeOf,
  renderMarkdown,
  summarize,
  type RunEvidence,
  type RunResult,
  type Summary,
  type VariantResult,
} from './selftest-report';
import { CI_SUBSET, EXPECTATIONS, SELFTEST_PROVISION_TIMEOUT_MS, type Expectation } from './selftest-faults';
import { VARIANT_EXPECTATIONS, type VariantExpectation } from './selftest-variants';

const WORK_DIR = join(ROOT, 'reports', 'tmp', 'selftest');

/** The self-test's own ports (never the real stack's 3100-3103 / 54329). */
export const PORTS: Ports = { base: 4181, vultr: 4182, stripe: 4183, worker: 4184, postgres: 4185 };

const SUITE_TIMEOUT_MS = 300_000;
const METER_RUN_TIMEOUT_MS = 20_000;
/** The stack and the suite alike: see SELFTEST_PROVISION_TIMEOUT_MS. */
const PROVISION = { PROVISION_TIMEOUT_MS: String(SELFTEST_PROVISION_TIMEOUT_MS) };

// ───────────────────────────────────────────────────────────────────── flags

export const USAGE = `usage: npx tsx harness/selftest.ts [--only=name,...] [--subset=ci] [--variants=all|name,...] [--keep-going] [--config=file] [--help]

Starts a fresh reference stack per fault (ports ${PORTS.base}-${PORTS.postgres}), runs the suite against it and
checks that the suite fails at the expected step with the expected diagnosis; two clean runs
must pass. Then one stack per public Powernode variant: the default profile must fail with the
variant's hint, the variant's settings must pass; and all variants with TARGET_PROFILE=powernode-core
must pass. Writes reports/selftest.md and reports/selftest.json (--only, --subset and --variants
write reports/tmp/selftest/selftest.md and .json).

  --only=a,b     run only these (fault names, or "clean" for one clean run)
  --subset=ci    one clean run and a fixed third of the faults (harness/selftest-faults.ts)
  --variants=a,b only the variant table: these variants (harness/selftest-variants.ts); all: every
                 variant, then all of them on at once
  --keep-going   run everything even after a failure (default: stop at the first)
  --config=file  the Playwright config to run (default: playwright.config.ts), e.g. a proposed project graph
  --help         this text`;

export { UsageError };

export type Options = {
  only: string[] | undefined;
  subset: 'ci' | undefined;
  /** `--variants`: these variants, or every one and then all of them at once. */
  variants: VariantName[] | 'all' | undefined;
  keepGoing: boolean;
  config: string;
  help: boolean;
};

const DEFAULT_CONFIG = 'playwright.config.ts';

export function parseFlags(argv: string[]): Options {
  const values = parseCommandLine(
    argv,
    { only: { type: 'string' }, subset: { type: 'string' }, variants: { type: 'string' }, 'keep-going': { type: 'boolean' }, config: { type: 'string' } },
    { only: 'cost_730h', subset: 'ci', variants: 'all', config: DEFAULT_CONFIG },
  );
  const options: Options = {
    only: undefined,
    subset: undefined,
    variants: undefined,
    keepGoing: values['keep-going'] ?? false,
    config: configFile(values.config ?? DEFAULT_CONFIG),
    help: values.help ?? false,
  };
  if (values.only !== undefined) {
    const names = [...new Set(values.only.split(',').map((s) => s.trim()).filter(Boolean))];
    if (names.length === 0) throw new UsageError('--only expects a comma list of fault names (or "clean"), e.g. --only=cost_730h');
    const unknown = names.filter((n) => n !== 'clean' && !isFaultName(n));
    if (unknown.length > 0) throw new UsageError(`--only: unknown fault(s) ${unknown.join(', ')}; known: clean, ${Object.keys(FAULTS).join(', ')}`);
    options.only = names;
  }
  if (values.subset !== undefined) {
    if (values.subset !== 'ci') throw new UsageError(`--subset: unknown subset "${values.subset}"; the one subset is ci`);
    options.subset = 'ci';
  }
  if (values.variants !== undefined) {
    const names = [...new Set(values.variants.split(',').map((s) => s.trim()).filter(Boolean))];
    if (names.length === 0) throw new UsageError('--variants expects all or a comma list of variant names, e.g. --variants=route_core');
    const unknown = names.filter((n) => n !== 'all' && !isVariantName(n));
    if (unknown.length > 0) throw new UsageError(`--variants: unknown variant(s) ${unknown.join(', ')}; known: all, ${Object.keys(VARIANTS).join(', ')}`);
    options.variants = names.includes('all') ? 'all' : (names as VariantName[]);
  }
  if ([options.only, options.subset, options.variants].filter((o) => o !== undefined).length > 1) {
    throw new UsageError('--only, --subset and --variants select runs in different ways: give one of them');
  }
  return options;
}

export type PlannedRun =
  | { name: string; kind: 'clean' }
  | { name: FaultName; kind: 'fault'; fault: FaultName; expectation: Expectation }
  | { name: VariantName; kind: 'variant'; variant: VariantName; expectation: VariantExpectation }
  | { name: 'all variants'; kind: 'all_variants' };

const variantRun = (variant: VariantName): PlannedRun => ({ name: variant, kind: 'variant', variant, expectation: VARIANT_EXPECTATIONS[variant] });
const ALL_VARIANTS_RUN: PlannedRun = { name: 'all variants', kind: 'all_variants' };

const faultRun = (fault: FaultName): PlannedRun => ({ name: fault, kind: 'fault', fault, expectation: EXPECTATIONS[fault] });

/**
 * A clean run first (a broken suite would otherwise "catch" every fault), the faults, the
 * variants and all of them at once, a clean run last.
 */
export function planRuns(options: Pick<Options, 'only' | 'subset'> & { variants?: Options['variants'] }): PlannedRun[] {
  const all = Object.keys(FAULTS) as FaultName[];
  if (options.variants === 'all') return [...ALL_VARIANTS.map(variantRun), ALL_VARIANTS_RUN];
  if (options.variants) return ALL_VARIANTS.filter((v) => options.variants!.includes(v)).map(variantRun);
  if (options.only) {
    const faults = all.filter((f) => options.only!.includes(f)).map(faultRun);
    return options.only.includes('clean') ? [{ name: 'clean', kind: 'clean' }, ...faults] : faults;
  }
  if (options.subset === 'ci') return [{ name: 'clean', kind: 'clean' }, ...all.filter((f) => CI_SUBSET.includes(f)).map(faultRun)];
  return [{ name: 'clean #1', kind: 'clean' }, ...all.map(faultRun), ...ALL_VARIANTS.map(variantRun), ALL_VARIANTS_RUN, { name: 'clean #2', kind: 'clean' }];
}

// ───────────────────────────────────────────────────────────────────── one run

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


/** The suite run in progress, for an interrupt to end. */
const active: { suite?: Spawned } = {};

/** One suite run on a stack: which tests (all unless `grep`), with which settings over the default profile, reporting into `dir`. */
type SuiteRun = { grep?: RegExp; set?: Record<string, string>; dir: string };

async function runSuite(run: SuiteRun, config: string, stack: RunningStack, leftovers: string[]): Promise<RunEvidence> {
  mkdirSync(run.dir, { recursive: true });
  const jsonReport = join(run.dir, 'report.json');
  const log = join(run.dir, 'playwright.log');
  const args = ['test', '-c', config, `--output=${join(run.dir, 'artifacts')}`];
  if (run.grep) args.push(`--grep=${run.grep.source}`);
  const env = suiteEnv(process.env, PORTS, stack.dir, { set: { ...PROVISION, ...run.set, PLAYWRIGHT_JSON_OUTPUT_NAME: jsonReport } });
  const suite = await runPlaywright({ label: 'the suite', args, cwd: ROOT, env, log, timeoutMs: SUITE_TIMEOUT_MS, onSpawn: (spawned) => (active.suite = spawned) });
  active.suite = undefined;
  if (suite.timedOut) return { kind: 'crash', reason: `the suite ran longer than ${SUITE_TIMEOUT_MS / 1000} s and was stopped` };
  if (suite.problem) leftovers.push(suite.problem);
  const read = readReportFile(jsonReport, { exit: suite.exit, log });
  if ('problem' in read) return { kind: 'crash', reason: read.problem };
  const readAttachment = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  return { kind: 'report', outcome: outcomeOf(read.report, readAttachment) };
}

type StackRun<T> = { results: T; meterRun: string | null; stop: { how: string; clean: boolean }; leftovers: string[] };

/**
 * A fresh stack for one row of the table, the row's suite runs on it (after one run of the meter
 * job), then the stack stopped and its bulk removed; a string when the stack did not start.
 */
async function onFreshStack<T>(
  runDir: string,
  switches: { faults?: readonly string[]; variants?: readonly string[] },
  interrupted: () => boolean,
  work: (stack: RunningStack, leftovers: string[]) => Promise<T>,
  notRun: T,
): Promise<StackRun<T> | string> {
  const stackDir = join(runDir, 'stack');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  let stack: RunningStack;
  try {
    stack = await startStack({ ports: PORTS, dir: stackDir, log: join(runDir, 'stack.log'), fresh: true, ...switches, env: { set: PROVISION } });
  } catch (error) {
    return (error as Error).message;
  }
  let results = notRun;
  let meterRun: string | null = null;
  let stop: { how: string; clean: boolean };
  const leftovers: string[] = [];
  try {
    if (!interrupted()) {
      meterRun = await runMeterJob();
      results = await work(stack, leftovers);
    }
  } finally {
    stop = await stopStack(stack);
  }
  // The database and bundles are big and rebuilt next time; the logs stay for whoever reads the report.
  rmSync(join(stackDir, 'build'), { recursive: true, force: true });
  forgetClusters(stackDir, { everything: false });
  return { results, meterRun, stop, leftovers };
}

const INTERRUPTED: RunEvidence = { kind: 'crash', reason: 'interrupted' };

const runDirOf = (name: string) => join(WORK_DIR, 'runs', name.replace(/[^a-z0-9_]+/gi, '-'));

/** Judged, and crashed when its stack did not stop cleanly. */
function finish(result: RunResult, stop: { how: string; clean: boolean }): RunResult {
  return stop.clean ? result : { ...result, status: 'crashed', crash: `the stack did not stop cleanly: ${stop.how}`, ok: false };
}

async function runOne(run: Extract<PlannedRun, { kind: 'clean' | 'fault' }>, config: string, interrupted: () => boolean): Promise<RunResult> {
  const started = Date.now();
  const seconds = () => (Date.now() - started) / 1000;
  const runDir = runDirOf(run.name);
  const faults = run.kind === 'fault' ? [run.fault] : [];
  const grep = run.kind === 'fault' ? run.expectation.grep : undefined;
  // A fault may need its own settings to be cheap to catch (a tight runbook bound, say).
  const set = run.kind === 'fault' ? run.expectation.env : undefined;
  const done = await onFreshStack(runDir, { faults }, interrupted, (stack, leftovers) => runSuite({ grep, set, dir: runDir }, config, stack, leftovers), INTERRUPTED);
  if (typeof done === 'string') return judgeRun(run, { kind: 'crash', reason: done }, { seconds: seconds(), stop: 'did not start' });
  const result = judgeRun(run, done.results, { seconds: seconds(), meterRun: done.meterRun, stop: [done.stop.how, ...done.leftovers].join('; ') });
  return finish(result, done.stop);
}

/** One variant: the default profile must fail with its hint, then its settings must pass, on one stack. */
async function runVariant(run: Extract<PlannedRun, { kind: 'variant' }>, config: string, interrupted: () => boolean): Promise<VariantResult> {
  // Apart from the fault of the same name (cost_730h is both), whose logs stay for the report's reader.
  const runDir = runDirOf(`variant ${run.name}`);
  const settings = variantSettings(run.variant, join(runDir, 'stack'));
  const detectionRun = { name: run.name, kind: 'fault' as const, expectation: { ...run.expectation, diagnosis: run.expectation.hint }, description: VARIANTS[run.variant] };
  const acceptanceRun = { name: run.name, kind: 'clean' as const, description: `the whole suite with ${Object.keys(settings).join(', ')}` };
  const times = { detection: 0, acceptance: 0 };
  const timed = async (which: keyof typeof times, work: () => Promise<RunEvidence>) => {
    const started = Date.now();
    try {
      return await work();
    } finally {
      times[which] = (Date.now() - started) / 1000;
    }
  };
  const done = await onFreshStack(
    runDir,
    { variants: [run.variant] },
    interrupted,
    async (stack, leftovers) => {
      const detection = await timed('detection', () => runSuite({ grep: run.expectation.grep, dir: join(runDir, 'default-profile') }, config, stack, leftovers));
      const acceptance = interrupted() ? INTERRUPTED : await timed('acceptance', () => runSuite({ set: settings, dir: join(runDir, 'accepted') }, config, stack, leftovers));
      return { detection, acceptance };
    },
    { detection: INTERRUPTED, acceptance: INTERRUPTED },
  );
  if (typeof done === 'string') {
    const crash: RunEvidence = { kind: 'crash', reason: done };
    return judgeVariant(run.variant, VARIANTS[run.variant], judgeRun(detectionRun, crash), judgeRun(acceptanceRun, crash), displaySettings(settings, join(runDir, 'stack')));
  }
  const extra = { meterRun: done.meterRun, stop: [done.stop.how, ...done.leftovers].join('; ') };
  const detection = finish(judgeRun(detectionRun, done.results.detection, { seconds: times.detection, ...extra }), done.stop);
  const acceptance = finish(judgeRun(acceptanceRun, done.results.acceptance, { seconds: times.acceptance, ...extra }), done.stop);
  return judgeVariant(run.variant, VARIANTS[run.variant], detection, acceptance, displaySettings(settings, join(runDir, 'stack')));
}

const ALL_VARIANTS_DESCRIPTION = 'all twelve variants on, the whole suite with TARGET_PROFILE=powernode-core and the reference stack\'s log and worker commands';

/** Every variant on at once, as public Powernode: the powernode-core profile must pass the whole suite, every test run. */
async function runAllVariants(config: string, interrupted: () => boolean): Promise<RunResult> {
  const started = Date.now();
  const runDir = runDirOf('all variants');
  const run = { name: 'all variants', kind: 'clean' as const, description: ALL_VARIANTS_DESCRIPTION };
  const set = allVariantsSettings(join(runDir, 'stack'));
  const done = await onFreshStack(runDir, { variants: ALL_VARIANTS }, interrupted, (stack, leftovers) => runSuite({ set, dir: runDir }, config, stack, leftovers), INTERRUPTED);
  const seconds = (Date.now() - started) / 1000;
  if (typeof done === 'string') return judgeRun(run, { kind: 'crash', reason: done }, { seconds, stop: 'did not start' });
  const result = judgeRun(run, done.results, { seconds, meterRun: done.meterRun, stop: [done.stop.how, ...done.leftovers].join('; ') });
  return judgeInFull(finish(result, done.stop));
}

function verdictLine(result: RunResult): string {
  if (result.status === 'crashed') return `CRASHED (${result.crash})`;
  if (result.kind === 'clean') return result.ok ? 'passed' : `FAILED: ${result.failures.map((f) => f.where).join('; ') || result.crash || 'see the report'}`;
  if (result.status === 'passed') return 'NOT DETECTED: the suite passed';
  if (!result.detected) return `NOT DETECTED at the expected step; failed at: ${result.caughtBy?.where ?? '?'}`;
  return `detected at ${result.caughtBy?.where}; diagnosis ${result.diagnosisOk ? 'ok' : 'MISSED'}`;
}

function variantVerdictLine(result: VariantResult): string {
  const d = result.detection;
  const detected = d.status === 'crashed' ? `CRASHED (${d.crash})` : verdictLine(d).replace('diagnosis', 'hint');
  return `default profile: ${detected}; with ${Object.keys(result.settings).join(', ')}: ${verdictLine(result.acceptance)}`;
}

/** The whole matrix is the record; a partial run reports beside its run directories. */
export function reportPaths(options: Pick<Options, 'only' | 'subset'> & { variants?: Options['variants'] }): { markdown: string; json: string } {
  const dir = options.only || options.subset || options.variants ? WORK_DIR : join(ROOT, 'reports');
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
  const busy = await busyPorts(portList(PORTS));
  if (busy.length > 0) {
    console.error(`selftest: port(s) ${busy.join(', ')} already in use (another self-test?); the self-test needs ${PORTS.base}-${PORTS.postgres} free`);
    return 1;
  }

  const plan = planRuns(options);
  const selection = options.only
    ? `--only=${options.only.join(',')}`
    : options.subset
      ? `--subset=${options.subset}`
      : options.variants
        ? `--variants=${options.variants === 'all' ? 'all' : options.variants.join(',')}`
        : 'the whole matrix';
  const startedAt = new Date();
  rmSync(join(WORK_DIR, 'runs'), { recursive: true, force: true });
  mkdirSync(WORK_DIR, { recursive: true });
  // The suite's config as it is, with the JSON reporter only (its others write into the checkout's
  // test-results/ and playwright-report/) and no video: the self-test reads none, and encoding one
  // per failing run costs CPU.
  const config = writeWrapperConfig(join(WORK_DIR, 'playwright.selftest.config.ts'), baseConfig, { reporters: 'json', use: { video: 'off' }, writtenBy: 'harness/selftest.ts' });

  let interrupted = false;
  const onSignal = (name: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`selftest: ${name}: stopping the current run`);
    if (active.suite) signal(-active.suite.pid, 'SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results: RunResult[] = [];
  const variants: VariantResult[] = [];
  let allVariants: RunResult | null = null;
  let stopped = false;
  const notRunVariant = (run: Extract<PlannedRun, { kind: 'variant' }>): VariantResult => {
    const settings = variantSettings(run.variant, '');
    const judged = (kind: 'clean' | 'fault') =>
      judgeRun(kind === 'fault' ? { name: run.name, kind, expectation: { ...run.expectation, diagnosis: run.expectation.hint } } : { name: run.name, kind }, { kind: 'not_run' });
    return judgeVariant(run.variant, VARIANTS[run.variant], judged('fault'), judged('clean'), settings);
  };
  for (const [index, run] of plan.entries()) {
    const skip = stopped || interrupted;
    if (!skip) process.stdout.write(`selftest [${index + 1}/${plan.length}] ${run.name} ... `);
    let ok: boolean;
    if (run.kind === 'variant') {
      const result = skip ? notRunVariant(run) : await runVariant(run, config, () => interrupted);
      variants.push(result);
      if (!skip) console.log(`${variantVerdictLine(result)} (${result.seconds.toFixed(1)} s)`);
      ok = result.ok;
    } else if (run.kind === 'all_variants') {
      allVariants = skip ? judgeRun({ name: run.name, kind: 'clean' }, { kind: 'not_run' }) : await runAllVariants(config, () => interrupted);
      if (!skip) console.log(`${verdictLine(allVariants)} (${allVariants.seconds.toFixed(1)} s)`);
      ok = allVariants.ok;
    } else {
      const result = skip ? judgeRun(run, { kind: 'not_run' }) : await runOne(run, config, () => interrupted);
      results.push(result);
      if (!skip) console.log(`${verdictLine(result)} (${result.seconds.toFixed(1)} s)`);
      ok = result.ok;
    }
    if (!skip && !ok && !options.keepGoing) {
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
    ports: PORTS,
  }, { variants, allVariants });
  const paths = reportPaths(options);
  writeReports(summary, paths);
  const leftovers = await busyPorts(portList(PORTS));
  if (leftovers.length > 0) console.error(`selftest: ports still in use after the last run: ${leftovers.join(', ')}`);
  console.log(
    `selftest: ${summary.ok ? 'pass' : 'FAIL'} in ${summary.wallSeconds.toFixed(1)} s` +
      (summary.slowestFault ? `; slowest fault ${summary.slowestFault.name} (${summary.slowestFault.seconds.toFixed(1)} s)` : '') +
      (summary.undetected.length ? `; not caught: ${summary.undetected.join(', ')}` : '') +
      (summary.cleanFailures.length ? `; clean runs failed: ${summary.cleanFailures.join(', ')}` : '') +
      (summary.variants.length || summary.allVariants ? `; variants ${summary.variants.filter((v) => v.ok).length} of ${summary.variants.length} detected and accepted` : '') +
      (summary.variantFailures.length ? ` (failed: ${summary.variantFailures.join(', ')})` : '') +
      `; ${relative(ROOT, paths.markdown)}, ${relative(ROOT, paths.json)}`,
  );
  if (interrupted) return 130;
  return summary.ok && leftovers.length === 0 ? 0 : 1;
}

runWhenInvoked('selftest', import.meta.url, main);
