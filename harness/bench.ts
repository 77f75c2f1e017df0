/**
 * `npm run bench`: how fast the suite is on this machine, and where its time goes.
 *
 * On its own ports (4201-4205), with the Vultr emulator's boot delay at its default (2000 ms), it
 * measures the reference stack's cold start (an empty STACK_DIR → every part healthy); the full
 * suite from a stopped stack (stack start included) and from a running one, with the runbook's
 * step and test durations from Playwright's JSON report; the peak summed RSS of the stack's and the
 * Playwright runner's process trees, sampled from /proc every 100 ms; and a --repeat-each run at
 * 2 workers and at 1: failed and flaky counts, funnels per minute, and how throughput scales.
 * It quotes medians of --runs runs and writes reports/bench.md and reports/bench.json.
 *
 * Every suite run happens in its own directory under the OS temp dir, through a wrapper of the
 * suite's config that changes only where things are written (harness/lib/wrapper-config.ts), so the checkout's
 * test-results/ and playwright-report/ are never touched and the run costs what a normal one does
 * (the same reporters, the secret scan included).
 *
 * Exit: 0 when every measurement was made (targets met or not: the report says), 1 when one could
 * not be (a stack that never became healthy, a suite run with no report), 2 on a bad flag.
 */
import { DEFAULT_VULTR_BOOT_DELAY_MS, forgetClusters } from '@m1/reference/stack';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fmtMs, fmtS, fullRun, renderMarkdown, summarizeBench, type ColdStart, type FullRun, type RepeatRun, type SuiteRun } from './bench-report';
import { repeatSummary } from './bench-figures';
import { configFile, parseCommandLine, runWhenInvoked, startCli, UsageError, wholeNumber } from './lib/cli';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { readReportFile, type SuiteReport } from './lib/report';
import { readText } from './lib/proc';
import { stopAllOnSignal, type Spawned } from './lib/processes';
import { round, TreeSampler } from './lib/sampler';
import { startStack, stopStack, suiteEnv, type Ports, type RunningStack } from './lib/stack';
import { writeWrapperConfig } from './lib/wrapper-config';

/** The bench's own ports (never the real stack's 3100-3103 / 54329). */
export const BENCH_PORTS: Ports = { base: 4201, vultr: 4202, stripe: 4203, worker: 4204, postgres: 4205 };

/** The emulator's default, set explicitly so a .env cannot make the bench measure another delay. */
export const VULTR_BOOT_DELAY_MS = DEFAULT_VULTR_BOOT_DELAY_MS;
const SUITE_TIMEOUT_MS = 300_000;
/** A repeat run at one worker on a loaded 2-core machine: about a minute per repetition, with room. */
const REPEAT_TIMEOUT_PER_REPETITION_MS = 180_000;

export const USAGE = `usage: npm run bench -- [--runs=N] [--quick] [--repeat-each=N] [--workers=N] [--config=file] [--out=dir] [--help]

Measures the suite on this machine against a reference stack on ports ${BENCH_PORTS.base}-${BENCH_PORTS.postgres} and writes
reports/bench.md and reports/bench.json (medians of the runs).

  --runs=N          runs of each cold start and full-suite measurement (default 3, 1-20)
  --quick           skip the two long --repeat-each runs
  --repeat-each=N   repetitions of the repeat runs (default 10, 2-50)
  --workers=N       workers of the full-suite runs (default: the config's own default)
  --config=file     the Playwright config to measure (default: playwright.config.ts), e.g. a proposed change
  --out=dir         where to write bench.md and bench.json (default: reports), e.g. to keep a proposal's figures apart
  --help            this text`;

export { UsageError };

export type BenchOptions = { runs: number; quick: boolean; repeatEach: number; workers: number | undefined; config: string; out: string; help: boolean };

export function parseBenchArgs(argv: string[]): BenchOptions {
  const values = parseCommandLine(
    argv,
    {
      runs: { type: 'string' },
      quick: { type: 'boolean' },
      'repeat-each': { type: 'string' },
      workers: { type: 'string' },
      config: { type: 'string' },
      out: { type: 'string' },
    },
    { runs: '3', 'repeat-each': '10', workers: '2', config: 'playwright.config.ts', out: 'reports' },
  );
  if (values.quick && values['repeat-each'] !== undefined) throw new UsageError('--quick skips the repeat runs: drop --repeat-each or --quick');
  return {
    runs: values.runs === undefined ? 3 : wholeNumber('--runs', values.runs, 1, 20),
    quick: values.quick ?? false,
    repeatEach: values['repeat-each'] === undefined ? 10 : wholeNumber('--repeat-each', values['repeat-each'], 2, 50),
    workers: values.workers === undefined ? undefined : wholeNumber('--workers', values.workers, 1, 16),
    config: configFile(values.config ?? 'playwright.config.ts'),
    out: values.out ?? 'reports',
    help: values.help ?? false,
  };
}

/**
 * One Playwright run from its own directory, through a wrapper of the measured config (the same
 * reporters, the secret scan included, writing into the run's directory). Samples the stack's and
 * the runner's trees: a caller that started the stack for this run passes its own sampler,
 * already sampling since the stack's spawn.
 */
async function runSuite(options: { configPath: string; runDir: string; stack: RunningStack; args: string[]; timeoutMs: number; sampler?: TreeSampler }): Promise<SuiteRun> {
  const { runDir, stack } = options;
  mkdirSync(runDir, { recursive: true });
  const config = writeWrapperConfig(join(runDir, 'playwright.bench.config.ts'), options.configPath, { reporters: 'keep', writtenBy: 'harness/bench.ts' });
  const jsonReport = join(runDir, 'results.json');
  const log = join(runDir, 'playwright.log');
  const loadBefore = loadavg();
  const env = suiteEnv(process.env, stack.ports, stack.dir, { set: { PLAYWRIGHT_JSON_OUTPUT_FILE: jsonReport } });
  const sampler = options.sampler ?? new TreeSampler({ stack: stack.spawned.pid }).start();
  const run = await runPlaywright({ label: 'the suite', args: ['test', '-c', config, ...options.args], cwd: runDir, env, log, timeoutMs: options.timeoutMs, sampler });
  const text = readText(log) ?? '';
  const secretScan = /secret-scan: the run is failed/.test(text) ? 'leak' : /secret-scan: no secret value/.test(text) ? 'clean' : 'not run';
  const read = readReportFile(jsonReport, { exit: run.exit, log });
  const report = 'report' in read ? read.report : undefined;
  const problem = run.problem ?? ('problem' in read ? read.problem : undefined);
  return { exitCode: run.exit?.code ?? null, wallMs: run.ms, report, secretScan, problem, runDir, peak: run.peak!, loadBefore, loadAfter: loadavg() };
}

const loadNow = () => loadavg().map((l) => round(l, 2));

async function main(argv: string[]): Promise<number> {
  const start = startCli('bench', argv, parseBenchArgs, USAGE, ROOT);
  if ('exitCode' in start) return start.exitCode;
  const { options, configPath } = start;
  if (process.platform !== 'linux') {
    console.error('bench: needs Linux (/proc) to sample memory');
    return 2;
  }
  stopAllOnSignal('bench');
  const started = new Date();
  const loadStart = loadavg();
  const workDir = mkdtempSync(join(tmpdir(), 'm1-bench-'));
  const say = (line: string) => console.log(`bench: ${line}`);
  say(`work dir ${workDir}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const problems: string[] = [];
  const cold: ColdStart[] = [];
  const fromStopped: FullRun[] = [];
  const fromRunning: FullRun[] = [];
  const reports: SuiteReport[] = [];
  const repeat: { workers2: RepeatRun | undefined; workers1: RepeatRun | undefined } = { workers2: undefined, workers1: undefined };
  const workersArgs = options.workers === undefined ? [] : [`--workers=${options.workers}`];
  const stackAt = (dir: string, log: string, onSpawn?: (spawned: Spawned) => void) =>
    startStack({ ports: BENCH_PORTS, dir, log, env: { set: { VULTR_BOOT_DELAY_MS: String(VULTR_BOOT_DELAY_MS) } }, onSpawn });
  const stopping = async (stack: RunningStack, what: string) => {
    const stop = await stopStack(stack);
    if (!stop.clean) problems.push(`${what}: stopping the stack: ${stop.how}`);
  };
  const record = (into: FullRun[], run: SuiteRun, stackReadyMs: number | undefined, what: string) => {
    const result = fullRun(run, stackReadyMs);
    into.push(result);
    if (run.report) reports.push(run.report);
    if (run.problem) problems.push(`${what}: ${run.problem}`);
    return result;
  };
  let warmDir: string | undefined;
  let running: RunningStack | undefined;
  let failed = false;

  try {
    for (let i = 1; i <= options.runs; i++) {
      const dir = join(workDir, `cold-${i}`, 'stack');
      const before = loadNow();
      const stack = await stackAt(dir, join(workDir, `cold-${i}`, 'stack.log'));
      await stopping(stack, `cold start ${i}`);
      cold.push({ readyMs: stack.readyMs, reportedReadyMs: stack.reportedReadyMs, notes: stack.notes, load: { before, after: loadNow() } });
      say(`cold start ${i}/${options.runs}: healthy in ${fmtS(stack.readyMs)} (the stack says ${fmtMs(stack.reportedReadyMs)})`);
      // The last one's state is reused by the full runs: a stopped stack with its database.
      if (warmDir) {
        forgetClusters(warmDir, { everything: false });
        rmSync(dirname(warmDir), { recursive: true, force: true });
      }
      warmDir = dir;
    }
    const stackDir = warmDir!;

    for (let i = 1; i <= options.runs; i++) {
      const runDir = join(workDir, `from-stopped-${i}`);
      // One sampler over both trees from the stack's spawn on, so the peak covers the stack's start too.
      const sampler = new TreeSampler({});
      let stack: RunningStack;
      try {
        stack = await stackAt(stackDir, join(runDir, 'stack.log'), (spawned) => {
          sampler.roots.stack = spawned.pid;
          sampler.start();
        });
      } catch (error) {
        sampler.stop();
        throw error;
      }
      const run = await runSuite({ configPath, runDir, stack, args: workersArgs, timeoutMs: SUITE_TIMEOUT_MS, sampler });
      await stopping(stack, `full run from a stopped stack ${i}`);
      const result = record(fromStopped, run, stack.readyMs, `full run from a stopped stack ${i}`);
      say(`full run from a stopped stack ${i}/${options.runs}: ${fmtS(result.wallMs)} (stack ${fmtS(stack.readyMs)} + suite ${fmtS(run.wallMs)}), ${result.passed} passed, ${result.failed} failed, peak ${result.peak.peakMb} MB`);
    }

    running = await stackAt(stackDir, join(workDir, 'running-stack.log'));
    for (let i = 1; i <= options.runs; i++) {
      const run = await runSuite({ configPath, runDir: join(workDir, `from-running-${i}`), stack: running, args: workersArgs, timeoutMs: SUITE_TIMEOUT_MS });
      const result = record(fromRunning, run, undefined, `full run from a running stack ${i}`);
      say(`full run from a running stack ${i}/${options.runs}: ${fmtS(result.wallMs)}, ${result.passed} passed, ${result.failed} failed, peak ${result.peak.peakMb} MB`);
    }

    for (const workers of options.quick ? [] : ([2, 1] as const)) {
      const args = [`--repeat-each=${options.repeatEach}`, `--workers=${workers}`];
      const run = await runSuite({ configPath, runDir: join(workDir, `repeat-w${workers}`), stack: running, args, timeoutMs: options.repeatEach * REPEAT_TIMEOUT_PER_REPETITION_MS });
      if (run.problem) problems.push(`repeat run at ${workers} worker(s): ${run.problem}`);
      if (!run.report) {
        failed = true;
        continue;
      }
      const load = { before: run.loadBefore.map((l) => round(l, 2)), after: run.loadAfter.map((l) => round(l, 2)) };
      const summary: RepeatRun = { ...repeatSummary(run.report), peak: run.peak, load, exitCode: run.exitCode, ...(run.problem ? { problem: run.problem } : {}) };
      repeat[workers === 2 ? 'workers2' : 'workers1'] = summary;
      say(`repeat run, ${options.repeatEach}× at ${workers} worker(s): ${fmtS(summary.wallMs)}, ${summary.passed} passed, ${summary.failed} failed, ${summary.flaky} flaky, ${summary.funnelsPerMinute} funnels/min`);
    }
  } catch (error) {
    failed = true;
    problems.push((error as Error).message);
    console.error(`bench: ${(error as Error).message}`);
  } finally {
    if (running) {
      const stop = await stopStack(running);
      if (!stop.clean) problems.push(`stopping the running stack: ${stop.how}`);
    }
    // The database lives outside the work dir when run as root (STACK_PG_HOME): it goes now.
    if (warmDir) forgetClusters(warmDir, { everything: false });
  }
  if (fromStopped.some((r) => !r.playwrightMs) || fromRunning.some((r) => !r.playwrightMs)) failed = true;

  const settings = { ...options, ports: BENCH_PORTS, vultrBootDelayMs: VULTR_BOOT_DELAY_MS };
  const result = summarizeBench({ options: settings, configPath, started, finished: new Date(), workDir, loadStart, loadEnd: loadavg(), cold, fromStopped, fromRunning, reports, repeat, problems });
  const out = resolve(ROOT, options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'bench.md'), `${renderMarkdown(result)}\n`);
  say(`wrote ${join(out, 'bench.md')} and ${join(out, 'bench.json')}`);
  for (const t of result.targets) say(`target ${t.name}: ${t.measured} (${t.target}) ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'}`);
  return failed ? 1 : 0;
}

runWhenInvoked('bench', import.meta.url, main);
