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
import { mkdirSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { FAULTS, isFaultName, type FaultName } from '@m1/reference/faults';
import { busyPorts } from '@m1/reference/probe';
import { forgetClusters } from '@m1/reference/stack';
import { configFile, parseCommandLine, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { readReportFile } from './lib/report';
import { signal, type Spawned } from './lib/processes';
import { portList, startStack, stopStack, suiteEnv, type Ports, type RunningStack } from './lib/stack';
import { writeWrapperConfig } from './lib/wrapper-config';
import { judgeRun, outcomeOf, renderMarkdown, summarize, type RunEvidence, type RunResult, type Summary } from './selftest-report';
import { CI_SUBSET, EXPECTATIONS, SELFTEST_PROVISION_TIMEOUT_MS, type Expectation } from './selftest-faults';

const WORK_DIR = join(ROOT, 'reports', 'tmp', 'selftest');

/** The self-test's own ports (never the real stack's 3100-3103 / 54329). */
export const PORTS: Ports = { base: 4181, vultr: 4182, stripe: 4183, worker: 4184, postgres: 4185 };

const SUITE_TIMEOUT_MS = 300_000;
const METER_RUN_TIMEOUT_MS = 20_000;
/** The stack and the suite alike: see SELFTEST_PROVISION_TIMEOUT_MS. */
const PROVISION = { PROVISION_TIMEOUT_MS: String(SELFTEST_PROVISION_TIMEOUT_MS) };

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

export function parseFlags(argv: string[]): Options {
  const values = parseCommandLine(
    argv,
    { only: { type: 'string' }, subset: { type: 'string' }, 'keep-going': { type: 'boolean' }, config: { type: 'string' } },
    { only: 'cost_730h', subset: 'ci', config: DEFAULT_CONFIG },
  );
  const options: Options = { only: undefined, subset: undefined, keepGoing: values['keep-going'] ?? false, config: configFile(values.config ?? DEFAULT_CONFIG), help: values.help ?? false };
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

async function runSuite(run: PlannedRun, config: string, stack: RunningStack, runDir: string, leftovers: string[]): Promise<RunEvidence> {
  const jsonReport = join(runDir, 'report.json');
  const log = join(runDir, 'playwright.log');
  const args = ['test', '-c', config, `--output=${join(runDir, 'artifacts')}`];
  if (run.kind === 'fault') args.push(`--grep=${run.expectation.grep.source}`);
  const faultEnv = run.kind === 'fault' ? (run.expectation.env ?? {}) : {};
  const env = suiteEnv(process.env, PORTS, stack.dir, { set: { ...PROVISION, ...faultEnv, PLAYWRIGHT_JSON_OUTPUT_NAME: jsonReport } });
  const suite = await runPlaywright({ label: 'the suite', args, cwd: ROOT, env, log, timeoutMs: SUITE_TIMEOUT_MS, onSpawn: (spawned) => (active.suite = spawned) });
  active.suite = undefined;
  if (suite.timedOut) return { kind: 'crash', reason: `the suite ran longer than ${SUITE_TIMEOUT_MS / 1000} s and was stopped` };
  if (suite.problem) leftovers.push(suite.problem);
  const read = readReportFile(jsonReport, { exit: suite.exit, log });
  if ('problem' in read) return { kind: 'crash', reason: read.problem };
  const readAttachment = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
  return { kind: 'report', outcome: outcomeOf(read.report, readAttachment) };
}

async function runOne(run: PlannedRun, config: string, interrupted: () => boolean): Promise<RunResult> {
  const started = Date.now();
  const runDir = join(WORK_DIR, 'runs', run.name.replace(/[^a-z0-9_]+/gi, '-'));
  const stackDir = join(runDir, 'stack');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const seconds = () => (Date.now() - started) / 1000;

  let stack: RunningStack;
  try {
    const faults = run.kind === 'fault' ? [run.fault] : [];
    stack = await startStack({ ports: PORTS, dir: stackDir, log: join(runDir, 'stack.log'), fresh: true, faults, env: { set: PROVISION } });
  } catch (error) {
    return judgeRun(run, { kind: 'crash', reason: (error as Error).message }, { seconds: seconds(), stop: 'did not start' });
  }
  let evidence: RunEvidence = { kind: 'crash', reason: 'interrupted' };
  let meterRun: string | null = null;
  let stop: { how: string; clean: boolean };
  const leftovers: string[] = [];
  try {
    if (!interrupted()) {
      meterRun = await runMeterJob();
      evidence = await runSuite(run, config, stack, runDir, leftovers);
    }
  } finally {
    stop = await stopStack(stack);
  }
  // The database and bundles are big and rebuilt next time; the logs stay for whoever reads the report.
  rmSync(join(stackDir, 'build'), { recursive: true, force: true });
  forgetClusters(stackDir, { everything: false });
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
  const busy = await busyPorts(portList(PORTS));
  if (busy.length > 0) {
    console.error(`selftest: port(s) ${busy.join(', ')} already in use (another self-test?); the self-test needs ${PORTS.base}-${PORTS.postgres} free`);
    return 1;
  }

  const plan = planRuns(options);
  const selection = options.only ? `--only=${options.only.join(',')}` : options.subset ? `--subset=${options.subset}` : 'the whole matrix';
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
    ports: PORTS,
  });
  const paths = reportPaths(options);
  writeReports(summary, paths);
  const leftovers = await busyPorts(portList(PORTS));
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
