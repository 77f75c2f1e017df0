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
 * suite's config that changes only where things are written (runConfigSource), so the checkout's
 * test-results/ and playwright-report/ are never touched and the run costs what a normal one does
 * (the same reporters, the secret scan included).
 *
 * Exit: 0 when every measurement was made (targets met or not: the report says), 1 when one could
 * not be (a stack that never became healthy, a suite run with no report), 2 on a bad flag.
 */
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { configFile, flagValue, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { busyPorts } from '@m1/reference/probe';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REFERENCE_DIR = join(ROOT, 'reference');
export const PLAYWRIGHT_CLI = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

export type Ports = { base: number; vultr: number; stripe: number; worker: number; postgres: number };

/** The bench's own ports (never the real stack's 3100-3103 / 54329). */
export const BENCH_PORTS: Ports = { base: 4201, vultr: 4202, stripe: 4203, worker: 4204, postgres: 4205 };

/** The emulator's default, set explicitly so a .env cannot make the bench measure another delay. */
export const VULTR_BOOT_DELAY_MS = 2_000;
const SAMPLE_EVERY_MS = 100;
const HEALTH_POLL_MS = 100;
const STACK_START_TIMEOUT_MS = 120_000;
const STACK_STOP_TIMEOUT_MS = 30_000;
const SUITE_TIMEOUT_MS = 300_000;
/** A repeat run at one worker on a loaded 2-core machine: about a minute per repetition, with room. */
const REPEAT_TIMEOUT_PER_REPETITION_MS = 180_000;

export const TARGETS = {
  fullRunbookFromStoppedMs: 25_000,
  repeatFailed: 0,
  repeatFlaky: 0,
  workerScaling: 1.6,
} as const;

// ───────────────────────────────────────────────────────────────────── flags

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

const EXAMPLES: Record<string, string> = { '--runs': '3', '--repeat-each': '10', '--workers': '2', '--config': 'playwright.config.ts', '--out': 'reports' };

function wholeNumber(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${name} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const options: BenchOptions = { runs: 3, quick: false, repeatEach: 10, workers: undefined, config: 'playwright.config.ts', out: 'reports', help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.split('=')[0]!;
    if (arg === '--quick') options.quick = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (name in EXAMPLES) {
      const [value, next] = flagValue(argv, i, name, EXAMPLES[name]!);
      i = next;
      if (name === '--runs') options.runs = wholeNumber(name, value, 1, 20);
      else if (name === '--repeat-each') options.repeatEach = wholeNumber(name, value, 2, 50);
      else if (name === '--workers') options.workers = wholeNumber(name, value, 1, 16);
      else if (name === '--out') options.out = value;
      else options.config = configFile(value);
    } else throw new UsageError(`unknown argument "${arg}" (try --help)`);
  }
  if (options.quick && argv.some((a) => a.startsWith('--repeat-each'))) throw new UsageError('--quick skips the repeat runs: drop --repeat-each or --quick');
  return options;
}

// ───────────────────────────────────────────────────────────────────── statistics

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export type Spread = { median: number; min: number; max: number; n: number };

export function spread(values: number[]): Spread | null {
  const m = median(values);
  if (m === null) return null;
  return { median: m, min: Math.min(...values), max: Math.max(...values), n: values.length };
}

// ───────────────────────────────────────────────────────────────────── /proc sampling

/** cpuTicks: user + system time, in clock ticks (USER_HZ, 100 a second on Linux). */
export type ProcStat = { ppid: number; startTime: number; cpuTicks: number };
const TICKS_PER_SECOND = 100;

/** /proc/<pid>/stat. The command name may hold spaces and parentheses; the fields after the last ')' do not. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // After the name: state, ppid, ..., utime and stime the 12th and 13th, starttime the 20th (fields 14, 15, 22 of proc(5)).
  const ppid = Number(fields[1]);
  const startTime = Number(fields[19]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  return Number.isInteger(ppid) && Number.isInteger(startTime) && Number.isInteger(cpuTicks) ? { ppid, startTime, cpuTicks } : undefined;
}

/** VmRSS of /proc/<pid>/status in kB; kernel threads and zombies have none. */
export function parseVmRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/** Every process under the roots (the roots included), from a pid → parent pid map. */
export function descendants(roots: number[], parentOf: Map<number, number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const found = new Set<number>();
  const queue = roots.filter((pid) => parentOf.has(pid));
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/**
 * A short name for a process: "node" alone says nothing when half the tree is Node. The script a
 * Node process runs, Postgres's own process title, Chromium's --type.
 */
export function processLabel(cmdline: string, comm: string): string {
  let argv = cmdline.split('\0').filter(Boolean);
  // Chromium rewrites its command line as one space-separated title.
  if (argv.length === 1 && /^(chromium|chrome|headless_shell)$/.test(comm)) argv = argv[0]!.split(' ').filter(Boolean);
  const first = (argv[0] ?? comm).trim();
  if (first.startsWith('postgres:')) return first.includes('127.0.0.1(') ? 'postgres backend' : first.split(' ').slice(0, 3).join(' ');
  const program = first.split('/').at(-1) ?? comm;
  if (program === 'postgres') return 'postgres';
  if (/^(chromium|chrome|headless_shell)$/.test(program)) {
    const type = argv.find((a) => a.startsWith('--type='));
    return type ? `chromium ${type.slice('--type='.length)}` : 'chromium browser';
  }
  if (program === 'node' || comm === 'node') {
    const script = argv.slice(1).find((a) => !a.startsWith('-') && /\.(ts|mts|js|mjs|cjs)$/.test(a));
    return script ? `node ${script.split('/').slice(-2).join('/')}` : 'node';
  }
  return program || comm;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readText(`/proc/${entry}/stat`);
    const stat = text === undefined ? undefined : parseProcStat(text);
    if (stat) table.set(Number(entry), stat);
  }
  return table;
}

export type RssPeak = {
  peakMb: number;
  /** The two trees at the sample of the peak. */
  stackMb: number;
  runnerMb: number;
  processes: number;
  /** The largest processes at the peak, for "where the memory goes". */
  top: { name: string; mb: number }[];
  samples: number;
  /**
   * CPU time the two trees used while sampled (processes that lived under 100 ms unseen), and
   * that divided by the sampled wall time: how many cores the run kept busy on average.
   */
  cpuSeconds: number;
  coresBusy: number;
  /** CPU the sampler itself spent, per sample (it shares the 2 cores with what it measures). */
  samplerCpuMsPerSample: number;
};

export type RootGroups = { stack?: number; runner?: number };
export type Group = keyof RootGroups;

/**
 * Sums the RSS of the stack's and the runner's process trees every 100 ms and keeps the peak. It
 * also remembers every process it saw (pid, start time, tree), so whatever outlives its parent can
 * be found and stopped by its own id afterwards. The roots object may change while it runs.
 */
export class TreeSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak: Omit<RssPeak, 'samples' | 'samplerCpuMsPerSample' | 'cpuSeconds' | 'coresBusy'> = { peakMb: 0, stackMb: 0, runnerMb: 0, processes: 0, top: [] };
  private samples = 0;
  private cpuMicros = 0;
  private firstSampleAt: number | undefined;
  private lastSampleAt: number | undefined;
  /** Per process: its start time (to tell a reused pid), its tree, the CPU ticks when first and last seen. */
  readonly seen = new Map<number, { startTime: number; group: Group; firstTicks: number; lastTicks: number }>();

  constructor(readonly roots: RootGroups) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    return this;
  }

  stop(): RssPeak {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sample();
    }
    let ticks = 0;
    for (const p of this.seen.values()) ticks += p.lastTicks - p.firstTicks;
    const cpuSeconds = ticks / TICKS_PER_SECOND;
    const wallSeconds = ((this.lastSampleAt ?? 0) - (this.firstSampleAt ?? 0)) / 1000;
    return {
      ...this.peak,
      samples: this.samples,
      cpuSeconds: round(cpuSeconds, 1),
      coresBusy: wallSeconds > 0 ? round(cpuSeconds / wallSeconds, 2) : 0,
      samplerCpuMsPerSample: this.samples ? round(this.cpuMicros / 1000 / this.samples, 2) : 0,
    };
  }

  sample(): void {
    const cpuBefore = process.cpuUsage();
    const table = processTable();
    const parentOf = new Map([...table].map(([pid, stat]) => [pid, stat.ppid]));
    const trees = { stack: new Set<number>(), runner: new Set<number>() };
    for (const group of ['stack', 'runner'] as const) {
      const root = this.roots[group];
      if (root !== undefined) trees[group] = descendants([root], parentOf);
    }
    const kb = { stack: 0, runner: 0 };
    const sizes = new Map<number, number>();
    for (const group of ['stack', 'runner'] as const) {
      for (const pid of trees[group]) {
        if (sizes.has(pid)) continue;
        const stat = table.get(pid)!;
        const known = this.seen.get(pid);
        // A process already running when first seen brings its past CPU: only what it uses from then on counts.
        const firstTicks = known && known.startTime === stat.startTime ? known.firstTicks : this.samples === 0 ? stat.cpuTicks : 0;
        this.seen.set(pid, { startTime: stat.startTime, group, firstTicks, lastTicks: stat.cpuTicks });
        const size = parseVmRssKb(readText(`/proc/${pid}/status`) ?? '');
        sizes.set(pid, size);
        kb[group] += size;
      }
    }
    const totalMb = (kb.stack + kb.runner) / 1024;
    if (totalMb > this.peak.peakMb) {
      const top = [...sizes]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([pid, size]) => ({
          name: processLabel(readText(`/proc/${pid}/cmdline`) ?? '', (readText(`/proc/${pid}/comm`) ?? '?').trim()),
          mb: round(size / 1024, 1),
        }));
      this.peak = { peakMb: round(totalMb, 1), stackMb: round(kb.stack / 1024, 1), runnerMb: round(kb.runner / 1024, 1), processes: sizes.size, top };
    }
    this.samples += 1;
    this.firstSampleAt ??= performance.now();
    this.lastSampleAt = performance.now();
    const used = process.cpuUsage(cpuBefore);
    this.cpuMicros += used.user + used.system;
  }

  /** Processes of a tree it saw that are still alive (same pid and start time: not a reused pid). */
  survivors(group: Group): number[] {
    const table = processTable();
    return [...this.seen].filter(([pid, s]) => s.group === group && table.get(pid)?.startTime === s.startTime).map(([pid]) => pid);
  }
}

function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

// ───────────────────────────────────────────────────────────────────── Playwright's JSON report

type JsonStep = { title: string; duration: number; steps?: JsonStep[] };
const stepSchema: z.ZodType<JsonStep> = z.lazy(() => z.object({ title: z.string(), duration: z.number(), steps: z.array(stepSchema).optional() }));
const resultSchema = z.object({
  status: z.string(),
  duration: z.number(),
  startTime: z.string(),
  workerIndex: z.number().optional(),
  steps: z.array(stepSchema).optional(),
});
const testSchema = z.object({ projectName: z.string(), status: z.string(), results: z.array(resultSchema) });
const specSchema = z.object({ title: z.string(), file: z.string(), line: z.number(), column: z.number().optional(), tests: z.array(testSchema) });
type JsonSuite = { title: string; file?: string; specs?: z.infer<typeof specSchema>[]; suites?: JsonSuite[] };
const suiteSchema: z.ZodType<JsonSuite> = z.lazy(() =>
  z.object({ title: z.string(), file: z.string().optional(), specs: z.array(specSchema).optional(), suites: z.array(suiteSchema).optional() }),
);
const reportSchema = z.object({
  config: z.object({ metadata: z.object({ actualWorkers: z.number().optional() }).loose().optional() }).loose(),
  suites: z.array(suiteSchema),
  stats: z.object({ startTime: z.string(), duration: z.number(), expected: z.number(), unexpected: z.number(), flaky: z.number(), skipped: z.number() }),
});

export type ResultRow = { status: string; startMs: number; durationMs: number; steps: { title: string; durationMs: number }[] };
/** One test as the report lists it; with --repeat-each, one entry per repetition. */
export type TestRow = { key: string; project: string; file: string; title: string; outcome: string; results: ResultRow[] };
export type SuiteReport = { startMs: number; wallMs: number; workers: number | undefined; stats: z.infer<typeof reportSchema>['stats']; tests: TestRow[] };

export function readSuiteReport(json: unknown): SuiteReport {
  const report = reportSchema.parse(json);
  const tests: TestRow[] = [];
  const walk = (suite: JsonSuite, path: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const title = [...path, spec.title].join(' › ');
        tests.push({
          key: `${test.projectName} › ${spec.file}:${spec.line} › ${title}`,
          project: test.projectName,
          file: spec.file,
          title,
          outcome: test.status,
          results: test.results.map((r) => ({
            status: r.status,
            startMs: Date.parse(r.startTime),
            durationMs: r.duration,
            steps: (r.steps ?? []).map((s) => ({ title: s.title, durationMs: s.duration })),
          })),
        });
      }
    }
    for (const child of suite.suites ?? []) walk(child, [...path, child.title]);
  };
  // Top-level suites are files: their title is the file name, already in the key.
  for (const file of report.suites) walk(file, []);
  return {
    startMs: Date.parse(report.stats.startTime),
    wallMs: report.stats.duration,
    workers: report.config.metadata?.actualWorkers,
    stats: report.stats,
    tests,
  };
}

/** The funnel's runbook steps ("1. Sign up → …" … "6. …"): their durations in each funnel result that passed. */
export function funnelSteps(report: SuiteReport, project = 'funnel'): Map<string, number[]> {
  const steps = new Map<string, number[]>();
  for (const test of report.tests.filter((t) => t.project === project)) {
    for (const result of test.results.filter((r) => r.status === 'passed')) {
      for (const step of result.steps.filter((s) => /^\d+\.\s/.test(s.title))) {
        steps.set(step.title, [...(steps.get(step.title) ?? []), step.durationMs]);
      }
    }
  }
  return steps;
}

/** Each test's duration (its last result: no retries in this suite), keyed by project and title. */
export function testDurations(report: SuiteReport): Map<string, { project: string; title: string; durationMs: number }> {
  const durations = new Map<string, { project: string; title: string; durationMs: number }>();
  for (const test of report.tests) {
    const last = test.results.at(-1);
    if (last) durations.set(`${test.project} › ${test.title}`, { project: test.project, title: test.title, durationMs: last.durationMs });
  }
  return durations;
}

export type Gap = { before: string; startMs: number; ms: number };
export type Timeline = {
  wallMs: number;
  /** Time with at least one test running. */
  inTestsMs: number;
  /** Time with none: starting the runner, worker processes between projects, writing reports. */
  outsideTestsMs: number;
  /** ms with exactly n tests running at once, n = index. */
  concurrencyMs: number[];
  /** Idle stretches over 200 ms, named after the project whose test ends them ("end": the reporters). */
  gaps: Gap[];
  projects: { project: string; startMs: number; endMs: number; testMs: number }[];
};

export function timeline(report: SuiteReport): Timeline {
  const intervals = report.tests
    .flatMap((t) => t.results.map((r) => ({ project: t.project, from: r.startMs - report.startMs, to: r.startMs - report.startMs + r.durationMs })))
    .sort((a, b) => a.from - b.from);
  const events = intervals.flatMap((i) => [
    { at: i.from, delta: 1 },
    { at: i.to, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  const concurrencyMs: number[] = [0];
  let running = 0;
  let last = 0;
  for (const event of events) {
    const at = Math.min(Math.max(event.at, 0), report.wallMs);
    concurrencyMs[running] = (concurrencyMs[running] ?? 0) + Math.max(0, at - last);
    last = Math.max(last, at);
    running += event.delta;
  }
  concurrencyMs[0] = (concurrencyMs[0] ?? 0) + Math.max(0, report.wallMs - last);
  for (let n = 0; n < concurrencyMs.length; n++) concurrencyMs[n] ??= 0;

  const gaps: Gap[] = [];
  let busyUntil = 0;
  for (const interval of intervals) {
    if (interval.from - busyUntil > 200) gaps.push({ before: interval.project, startMs: round(busyUntil), ms: round(interval.from - busyUntil) });
    busyUntil = Math.max(busyUntil, interval.to);
  }
  if (report.wallMs - busyUntil > 200) gaps.push({ before: 'end', startMs: round(busyUntil), ms: round(report.wallMs - busyUntil) });

  const projects = new Map<string, { project: string; startMs: number; endMs: number; testMs: number }>();
  for (const i of intervals) {
    const p = projects.get(i.project) ?? { project: i.project, startMs: i.from, endMs: i.to, testMs: 0 };
    p.startMs = Math.min(p.startMs, i.from);
    p.endMs = Math.max(p.endMs, i.to);
    p.testMs += i.to - i.from;
    projects.set(i.project, p);
  }
  const outsideTestsMs = concurrencyMs[0]!;
  return {
    wallMs: report.wallMs,
    inTestsMs: round(report.wallMs - outsideTestsMs),
    outsideTestsMs: round(outsideTestsMs),
    concurrencyMs: concurrencyMs.map((ms) => round(ms)),
    gaps,
    projects: [...projects.values()].map((p) => ({ project: p.project, startMs: round(p.startMs), endMs: round(p.endMs), testMs: round(p.testMs) })),
  };
}

export type RepeatSummary = {
  wallMs: number;
  workers: number | undefined;
  tests: number;
  passed: number;
  failed: number;
  flaky: number;
  skipped: number;
  /** Tests (project › title) that passed in some repetitions and failed in others. */
  mixed: string[];
  failures: string[];
  funnelsPassed: number;
  funnelsPerMinute: number;
  testsPerMinute: number;
  concurrencyMs: number[];
  /** Median test duration per project: with workers sharing too few cores, tests stretch instead of overlapping. */
  medianMsByProject: Record<string, number>;
};

export function repeatSummary(report: SuiteReport, funnelProject = 'funnel'): RepeatSummary {
  const byTitle = new Map<string, string[]>();
  for (const t of report.tests) {
    const id = `${t.project} › ${t.title}`;
    byTitle.set(id, [...(byTitle.get(id) ?? []), t.outcome]);
  }
  const count = (outcome: string) => report.tests.filter((t) => t.outcome === outcome).length;
  const funnelsPassed = report.tests.filter((t) => t.project === funnelProject && t.outcome === 'expected' && t.results.at(-1)?.status === 'passed').length;
  const passed = report.tests.filter((t) => t.outcome === 'expected' && t.results.at(-1)?.status === 'passed').length;
  const minutes = report.wallMs / 60_000;
  return {
    wallMs: round(report.wallMs),
    workers: report.workers,
    tests: report.tests.length,
    passed,
    failed: count('unexpected'),
    flaky: count('flaky'),
    skipped: count('skipped'),
    mixed: [...byTitle].filter(([, outcomes]) => outcomes.includes('expected') && outcomes.some((o) => o === 'unexpected' || o === 'flaky')).map(([id]) => id),
    failures: [...new Set(report.tests.filter((t) => t.outcome === 'unexpected').map((t) => `${t.project} › ${t.title}`))],
    funnelsPassed,
    funnelsPerMinute: minutes > 0 ? round(funnelsPassed / minutes, 2) : 0,
    testsPerMinute: minutes > 0 ? round(passed / minutes, 1) : 0,
    concurrencyMs: timeline(report).concurrencyMs,
    medianMsByProject: Object.fromEntries(
      [...new Set(report.tests.map((t) => t.project))].map((project) => [
        project,
        round(median(report.tests.filter((t) => t.project === project).flatMap((t) => t.results.map((r) => r.durationMs))) ?? 0),
      ]),
    ),
  };
}

/** Medians over several full runs: each funnel step, each test, and the timeline's parts. */
export function aggregateRuns(reports: SuiteReport[], funnelProject = 'funnel') {
  const collect = <T>(maps: Map<string, T>[], value: (t: T) => number) => {
    const all = new Map<string, number[]>();
    for (const map of maps) for (const [key, v] of map) all.set(key, [...(all.get(key) ?? []), value(v)]);
    return all;
  };
  const steps = collect(
    reports.map((r) => new Map([...funnelSteps(r, funnelProject)].map(([title, ds]) => [title, median(ds)!]))),
    (v) => v,
  );
  const tests = collect(reports.map(testDurations), (v) => v.durationMs);
  const projectOf = new Map(reports.flatMap((r) => [...testDurations(r).entries()].map(([key, v]) => [key, v.project] as const)));
  const timelines = reports.map(timeline);
  const gapsBefore = new Map<string, number[]>();
  for (const t of timelines) {
    const perRun = new Map<string, number>();
    for (const gap of t.gaps) perRun.set(gap.before, (perRun.get(gap.before) ?? 0) + gap.ms);
    for (const [before, ms] of perRun) gapsBefore.set(before, [...(gapsBefore.get(before) ?? []), ms]);
  }
  return {
    steps: [...steps].map(([title, values]) => ({ title, ...spread(values)! })),
    tests: [...tests].map(([key, values]) => ({ project: projectOf.get(key)!, title: key.slice(projectOf.get(key)!.length + 3), ...spread(values)! })),
    wallMs: spread(timelines.map((t) => t.wallMs)),
    inTestsMs: spread(timelines.map((t) => t.inTestsMs)),
    outsideTestsMs: spread(timelines.map((t) => t.outsideTestsMs)),
    gapsBefore: [...gapsBefore].map(([before, values]) => ({ before, ...spread(values)! })),
  };
}

// ───────────────────────────────────────────────────────────────────── processes

/** Variables that would aim a run elsewhere, switch faults on, or move the reports. */
const SCRUBBED = [
  'STACK_FAULTS',
  'VULTR_FAULTS',
  'E2E_RUN_ID',
  'E2E_REPEAT_EACH',
  'PLAYWRIGHT_JSON_OUTPUT_NAME',
  'PLAYWRIGHT_JSON_OUTPUT_FILE',
  'PLAYWRIGHT_JSON_OUTPUT_DIR',
  'PLAYWRIGHT_HTML_REPORT',
  'PLAYWRIGHT_HTML_OUTPUT_DIR',
  'PLAYWRIGHT_JUNIT_OUTPUT_FILE',
  'PLAYWRIGHT_JUNIT_OUTPUT_NAME',
  'PLAYWRIGHT_BLOB_OUTPUT_DIR',
  'PLAYWRIGHT_BLOB_OUTPUT_FILE',
  'PLAYWRIGHT_BLOB_OUTPUT_NAME',
];

function scrubbed(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...base };
  for (const name of SCRUBBED) delete env[name];
  return env;
}

export function addresses(ports: Ports) {
  return {
    BASE_URL: `http://127.0.0.1:${ports.base}`,
    VULTR_API_URL: `http://127.0.0.1:${ports.vultr}/v2`,
    STRIPE_API_BASE: `http://127.0.0.1:${ports.stripe}`,
    WORKER_HEALTH_URL: `http://127.0.0.1:${ports.worker}/health`,
  };
}

export function stackEnv(base: NodeJS.ProcessEnv, ports: Ports, stackDir: string): NodeJS.ProcessEnv {
  return {
    ...scrubbed(base),
    ...addresses(ports),
    // Empty, not unset: .env cannot fill it in, so the stack starts its own embedded Postgres.
    DATABASE_URL: '',
    STACK_PG_PORT: String(ports.postgres),
    STACK_DIR: stackDir,
    STRIPE_WEBHOOK_URL: `http://127.0.0.1:${ports.base}/api/v1/billing/stripe/webhook`,
    VULTR_BOOT_DELAY_MS: String(VULTR_BOOT_DELAY_MS),
  };
}

export function suiteEnv(base: NodeJS.ProcessEnv, ports: Ports, stackDir: string): NodeJS.ProcessEnv {
  return {
    ...scrubbed(base),
    ...addresses(ports),
    DATABASE_URL: `postgres://m1:m1@127.0.0.1:${ports.postgres}/m1_reference`,
    BACKEND_LOG_COMMAND: '',
    BACKEND_LOG_FILE: join(stackDir, 'logs', 'backend.log'),
    START_STACK: 'never',
  };
}

export function healthUrls(ports: Ports): string[] {
  const a = addresses(ports);
  return [`${a.BASE_URL}/up`, `http://127.0.0.1:${ports.vultr}/__emulator/health`, `${a.STRIPE_API_BASE}/__emulator/health`, a.WORKER_HEALTH_URL];
}

export function portList(ports: Ports): number[] {
  return [ports.base, ports.vultr, ports.stripe, ports.worker, ports.postgres];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

export type Spawned = {
  pid: number;
  startedAt: number;
  exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  exited: Promise<void>;
  log: string;
};

/** Every process this script started and has not seen exit: stopped by their ids on Ctrl+C. */
const live = new Set<Spawned>();

/** Its own process group (a group signal reaches what it started), output to a log file. */
export function spawnLogged(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; log: string }): Spawned {
  mkdirSync(dirname(options.log), { recursive: true });
  const fd = openSync(options.log, 'a');
  try {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', fd, fd] });
    const spawned: Spawned = { pid: child.pid ?? -1, startedAt: performance.now(), exit: undefined, exited: Promise.resolve(), log: options.log };
    spawned.exited = new Promise((done) => {
      child.once('exit', (code, signal) => {
        spawned.exit = { code, signal, at: performance.now() };
        live.delete(spawned);
        done();
      });
      child.once('error', (error) => {
        writeFileSync(options.log, `\ncould not start ${command}: ${error.message}\n`, { flag: 'a' });
        spawned.exit = { code: -1, signal: null, at: performance.now() };
        live.delete(spawned);
        done();
      });
    });
    if (child.pid !== undefined) live.add(spawned);
    return spawned;
  } finally {
    closeSync(fd);
  }
}

export async function exitedWithin(spawned: Spawned, ms: number): Promise<boolean> {
  if (spawned.exit) return true;
  return Promise.race([spawned.exited.then(() => true), sleep(ms).then(() => false)]);
}

export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** SIGKILL, by id, what a sampler saw in a tree that is still alive once the tree's root has gone. */
export function killSurvivors(sampler: TreeSampler, group: Group): number[] {
  const left = sampler.survivors(group);
  for (const pid of left) signal(pid, 'SIGKILL');
  return left;
}

export function tail(path: string, lines: number): string {
  const text = readText(path) ?? '';
  return text.trimEnd().split('\n').slice(-lines).join(' | ');
}

export type RunningStack = { spawned: Spawned; ports: Ports; dir: string; readyMs: number; reportedReadyMs: number | undefined; notes: string[] };

/**
 * Starts `npm run stack`'s orchestrator on the given ports and waits until every part answers its
 * health check (polled every 100 ms: the measurement's resolution, not a wait). Throws with the
 * log's last lines when it exits or is not healthy in time, after stopping what it started.
 */
export async function startStack(ports: Ports, dir: string, log: string, onSpawn?: (pid: number) => void): Promise<RunningStack> {
  const busy = await busyPorts(portList(ports));
  if (busy.length > 0) throw new Error(`ports ${busy.join(', ')} are in use: another bench or shard run, or a stack left running (npm run stack -- --stop with its STACK_DIR)`);
  mkdirSync(dir, { recursive: true });
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', 'stack/main.ts'], { cwd: REFERENCE_DIR, env: stackEnv(process.env, ports, dir), log });
  onSpawn?.(spawned.pid);
  const stack: RunningStack = { spawned, ports, dir, readyMs: 0, reportedReadyMs: undefined, notes: [] };
  const urls = healthUrls(ports);
  const deadline = Date.now() + STACK_START_TIMEOUT_MS;
  for (;;) {
    if (spawned.exit) {
      await stopStack(stack);
      throw new Error(`the stack exited (${spawned.exit.signal ?? `code ${spawned.exit.code}`}) before it was healthy: ${tail(log, 4)}`);
    }
    if ((await Promise.all(urls.map(answers200))).every(Boolean)) break;
    if (Date.now() > deadline) {
      await stopStack(stack);
      throw new Error(`the stack was not healthy within ${STACK_START_TIMEOUT_MS / 1000} s: ${tail(log, 4)}`);
    }
    await sleep(HEALTH_POLL_MS);
  }
  stack.readyMs = round(performance.now() - spawned.startedAt);
  // The orchestrator prints its line once every part is healthy, a moment after they answer.
  const until = Date.now() + 5_000;
  while (Date.now() < until && !/^stack ready in /m.test(readText(log) ?? '')) await sleep(50);
  const text = readText(log) ?? '';
  const ready = /^stack ready in (\d+) ms/m.exec(text);
  stack.reportedReadyMs = ready ? Number(ready[1]) : undefined;
  stack.notes = text.split('\n').filter((line) => /^(Postgres: new cluster|API server and worker bundles|web UI:)/.test(line));
  return stack;
}

/** SIGTERM to the orchestrator (it stops its children and Postgres), then SIGKILL, by id, to anything of its tree left. */
export async function stopStack(stack: RunningStack): Promise<{ clean: boolean; how: string }> {
  const { spawned } = stack;
  // The tree as it is now, while the orchestrator still parents it.
  const tree = new TreeSampler({ stack: spawned.pid });
  tree.sample();
  let how = 'SIGTERM';
  signal(spawned.pid, 'SIGTERM');
  if (!(await exitedWithin(spawned, STACK_STOP_TIMEOUT_MS))) {
    how += ', then SIGKILL to its group';
    signal(-spawned.pid, 'SIGKILL');
    await exitedWithin(spawned, 5_000);
  }
  // Postgres takes a moment after the orchestrator to go; only what is still there after it is a leftover.
  const graceUntil = Date.now() + 5_000;
  while (Date.now() < graceUntil && tree.survivors('stack').length > 0) await sleep(100);
  const killed = killSurvivors(tree, 'stack');
  if (killed.length > 0) how += `, then SIGKILL to survivors ${killed.join(', ')}`;
  const deadline = Date.now() + 10_000;
  let busy = await busyPorts(portList(stack.ports));
  while (busy.length > 0 && Date.now() < deadline) {
    await sleep(200);
    busy = await busyPorts(portList(stack.ports));
  }
  return { clean: busy.length === 0 && killed.length === 0, how: busy.length > 0 ? `${how}; ports still in use: ${busy.join(', ')}` : how };
}

/**
 * A wrapper of the suite's config, written into the run's directory and run from there: relative
 * report and artifact paths resolve against it, so this run's reports land in its directory and
 * the secret scan (which reads the working directory's test-results/ and playwright-report/)
 * scans this run's artifacts. Test files and local reporters still come from the checkout.
 */
export function runConfigSource(configPath: string): string {
  const configDir = dirname(configPath);
  const base = configPath.replace(/\.(ts|mts|js|mjs)$/, '');
  return [
    '// Written by harness/bench.ts for one run; see runConfigSource there.',
    "import { resolve } from 'node:path';",
    `import base from ${JSON.stringify(base)};`,
    '',
    `const configDir = ${JSON.stringify(configDir)};`,
    'type Entry = [string, Record<string, unknown>?];',
    "const entries: Entry[] = typeof base.reporter === 'string' ? [[base.reporter]] : ((base.reporter ?? [['list']]) as Entry[]);",
    "const reporter = entries.map(([name, options]): Entry => [name.startsWith('.') ? resolve(configDir, name) : name, options]);",
    "if (!reporter.some(([name]) => name === 'json')) reporter.unshift(['json']);",
    '',
    "export default { ...base, testDir: resolve(configDir, base.testDir ?? '.'), reporter };",
    '',
  ].join('\n');
}

export type SuiteRun = {
  exitCode: number | null;
  wallMs: number;
  report: SuiteReport | undefined;
  secretScan: 'clean' | 'leak' | 'not run';
  problem: string | undefined;
  runDir: string;
  peak: RssPeak;
  loadBefore: number[];
  loadAfter: number[];
};

/**
 * One Playwright run from its own directory. Samples the stack's and the runner's trees (a caller
 * that started the stack for this run passes its own sampler, already sampling since the stack's
 * spawn); afterwards stops, by id, any process of the runner's tree that outlived it.
 */
export async function runSuite(options: {
  configPath: string;
  runDir: string;
  ports: Ports;
  stackDir: string;
  args: string[];
  timeoutMs: number;
  stack: RunningStack;
  sampler?: TreeSampler;
}): Promise<SuiteRun> {
  const { runDir } = options;
  mkdirSync(runDir, { recursive: true });
  const config = join(runDir, 'playwright.bench.config.ts');
  writeFileSync(config, runConfigSource(options.configPath));
  const jsonReport = join(runDir, 'results.json');
  const log = join(runDir, 'playwright.log');
  const loadBefore = loadavg();
  const env = { ...suiteEnv(process.env, options.ports, options.stackDir), PLAYWRIGHT_JSON_OUTPUT_FILE: jsonReport };
  const sampler = options.sampler ?? new TreeSampler({ stack: options.stack.spawned.pid }).start();
  const suite = spawnLogged(process.execPath, [PLAYWRIGHT_CLI, 'test', '-c', config, ...options.args], { cwd: runDir, env, log });
  sampler.roots.runner = suite.pid;
  let problem: string | undefined;
  if (!(await exitedWithin(suite, options.timeoutMs))) {
    problem = `the suite ran longer than ${options.timeoutMs / 1000} s and was stopped`;
    signal(-suite.pid, 'SIGTERM');
    if (!(await exitedWithin(suite, 10_000))) signal(-suite.pid, 'SIGKILL');
    await exitedWithin(suite, 5_000);
  }
  const wallMs = round((suite.exit?.at ?? performance.now()) - suite.startedAt);
  const peak = sampler.stop();
  const leftovers = killSurvivors(sampler, 'runner');
  if (leftovers.length > 0) problem = [problem, `processes left by Playwright, killed: ${leftovers.join(', ')}`].filter(Boolean).join('; ');
  const text = readText(log) ?? '';
  const secretScan = /secret-scan: the run is failed/.test(text) ? 'leak' : /secret-scan: no secret value/.test(text) ? 'clean' : 'not run';
  let report: SuiteReport | undefined;
  if (!existsSync(jsonReport)) problem ??= `no JSON report (playwright exited ${suite.exit?.signal ?? `with code ${suite.exit?.code}`}): ${tail(log, 3)}`;
  else {
    try {
      report = readSuiteReport(JSON.parse(readFileSync(jsonReport, 'utf8')));
    } catch (error) {
      problem ??= `unreadable JSON report: ${(error as Error).message}`;
    }
  }
  return { exitCode: suite.exit?.code ?? null, wallMs, report, secretScan, problem, runDir, peak, loadBefore, loadAfter: loadavg() };
}

/** On Ctrl+C or SIGTERM: stop, by id, every process this script started, then exit. */
export function stopAllOnSignal(name: string): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`${name}: ${sig}: stopping what it started`);
      for (const s of live) signal(-s.pid, 'SIGTERM');
      void sleep(5_000).then(() => {
        for (const s of live) signal(-s.pid, 'SIGKILL');
        process.exit(130);
      });
      if (live.size === 0) process.exit(130);
      void Promise.all([...live].map((s) => s.exited)).then(() => process.exit(130));
    });
  }
}

// ───────────────────────────────────────────────────────────────────── the bench

type Load = { before: number[]; after: number[] };
type ColdStart = { readyMs: number; reportedReadyMs: number | undefined; notes: string[]; load: Load };
type FullRun = {
  wallMs: number;
  stackReadyMs: number | undefined;
  suiteMs: number;
  playwrightMs: number | undefined;
  workers: number | undefined;
  passed: number;
  failed: number;
  flaky: number;
  skipped: number;
  exitCode: number | null;
  secretScan: string;
  problem: string | undefined;
  peak: RssPeak;
  load: Load;
  runDir: string;
};

function fullRun(run: SuiteRun, stackReadyMs: number | undefined): FullRun {
  const summary = run.report ? repeatSummary(run.report) : undefined;
  return {
    wallMs: round((stackReadyMs ?? 0) + run.wallMs),
    stackReadyMs,
    suiteMs: run.wallMs,
    playwrightMs: run.report ? round(run.report.wallMs) : undefined,
    workers: run.report?.workers,
    passed: summary?.passed ?? 0,
    failed: summary?.failed ?? 0,
    flaky: summary?.flaky ?? 0,
    skipped: summary?.skipped ?? 0,
    exitCode: run.exitCode,
    secretScan: run.secretScan,
    problem: run.problem,
    peak: run.peak,
    load: { before: run.loadBefore.map((l) => round(l, 2)), after: run.loadAfter.map((l) => round(l, 2)) },
    runDir: run.runDir,
  };
}

const fmtS = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const fmtMb = (mb: number | null | undefined) => (mb === null || mb === undefined ? '–' : `${Math.round(mb)} MB`);
const fmtMs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${Math.round(ms)} ms`);

export type BenchResult = ReturnType<typeof summarizeBench>;

function summarizeBench(input: {
  options: BenchOptions;
  configPath: string;
  started: Date;
  finished: Date;
  workDir: string;
  loadStart: number[];
  loadEnd: number[];
  cold: ColdStart[];
  fromStopped: FullRun[];
  fromRunning: FullRun[];
  reports: SuiteReport[];
  repeat: { workers2: (RepeatSummary & { peak: RssPeak; load: Load; exitCode: number | null; problem?: string }) | undefined; workers1: (RepeatSummary & { peak: RssPeak; load: Load; exitCode: number | null; problem?: string }) | undefined };
  problems: string[];
}) {
  const { options, cold, fromStopped, fromRunning, repeat } = input;
  const fullStopped = spread(fromStopped.map((r) => r.wallMs));
  const fullRunning = spread(fromRunning.map((r) => r.wallMs));
  const breakdown = aggregateRuns(input.reports);
  const ratio = repeat.workers2 && repeat.workers1 && repeat.workers1.funnelsPerMinute > 0 ? round(repeat.workers2.funnelsPerMinute / repeat.workers1.funnelsPerMinute, 2) : null;
  const allFull = [...fromStopped, ...fromRunning];
  const targets = [
    {
      name: 'full runbook from a stopped stack, stack start included (median)',
      target: `< ${TARGETS.fullRunbookFromStoppedMs / 1000} s`,
      measured: fmtS(fullStopped?.median),
      met: fullStopped !== null && fullStopped.median < TARGETS.fullRunbookFromStoppedMs && fromStopped.every((r) => r.failed === 0),
    },
    {
      name: `failed tests in the --repeat-each=${options.repeatEach} runs`,
      target: '0',
      measured: repeat.workers2 ? `${repeat.workers2.failed} at 2 workers, ${repeat.workers1?.failed ?? '–'} at 1` : 'not run (--quick)',
      met: repeat.workers2 ? repeat.workers2.failed === 0 && (repeat.workers1?.failed ?? 0) === 0 : null,
    },
    {
      name: `flaky tests in the --repeat-each=${options.repeatEach} runs (Playwright's flaky, and tests that passed in some repetitions only)`,
      target: '0',
      measured: repeat.workers2
        ? `${repeat.workers2.flaky + repeat.workers2.mixed.length} at 2 workers, ${repeat.workers1 ? repeat.workers1.flaky + repeat.workers1.mixed.length : '–'} at 1`
        : 'not run (--quick)',
      met: repeat.workers2 ? repeat.workers2.flaky + repeat.workers2.mixed.length === 0 && (repeat.workers1 ? repeat.workers1.flaky + repeat.workers1.mixed.length : 0) === 0 : null,
    },
    {
      name: 'throughput at 2 workers ÷ at 1 worker (funnels per minute)',
      target: `≥ ${TARGETS.workerScaling}×`,
      measured: ratio === null ? 'not run (--quick)' : `${ratio}×`,
      met: ratio === null ? null : ratio >= TARGETS.workerScaling,
    },
  ];
  return {
    generatedAt: input.finished.toISOString(),
    startedAt: input.started.toISOString(),
    durationS: round((input.finished.getTime() - input.started.getTime()) / 1000),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? '?',
      memoryMb: round(totalmem() / 1024 / 1024),
      node: process.version,
      playwright: playwrightVersion(),
      loadAverageAtStart: input.loadStart.map((l) => round(l, 2)),
      loadAverageAtEnd: input.loadEnd.map((l) => round(l, 2)),
      note: 'A shared 2-core machine: other work ran beside the bench, so every figure is noisy; medians are quoted and the 1/5/15-minute load average is recorded around every measurement.',
    },
    settings: {
      runs: options.runs,
      quick: options.quick,
      repeatEach: options.repeatEach,
      fullRunWorkers: options.workers ?? 'config default',
      config: relative(ROOT, input.configPath).startsWith('..') ? input.configPath : relative(ROOT, input.configPath),
      ports: BENCH_PORTS,
      vultrBootDelayMs: VULTR_BOOT_DELAY_MS,
      rssSampleEveryMs: SAMPLE_EVERY_MS,
      workDir: input.workDir,
    },
    targets,
    coldStart: { readyMs: spread(cold.map((c) => c.readyMs)), runs: cold },
    fullFromStopped: { wallMs: fullStopped, runs: fromStopped },
    fullFromRunning: { wallMs: fullRunning, runs: fromRunning },
    breakdown,
    peakRss: {
      fullRunsMb: spread(allFull.map((r) => r.peak.peakMb)),
      medianRun: allFull.length ? [...allFull].sort((a, b) => a.peak.peakMb - b.peak.peakMb)[Math.floor(allFull.length / 2)]!.peak : null,
      repeatWorkers2: repeat.workers2?.peak ?? null,
      note: 'Sum of VmRSS over both process trees: pages shared between processes (Chromium\'s, Node\'s) count once per process, so the sum overstates what the machine gives them.',
    },
    cpu: { fullRunsCoresBusy: spread(allFull.map((r) => r.peak.coresBusy)), fullRunsCpuSeconds: spread(allFull.map((r) => r.peak.cpuSeconds)) },
    repeat: { ...repeat, throughputRatio: ratio },
    problems: input.problems,
  };
}

function playwrightVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', '@playwright', 'test', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

export function renderMarkdown(r: BenchResult): string {
  const lines: string[] = [];
  const add = (...more: string[]) => lines.push(...more);
  const mark = (met: boolean | null) => (met === null ? '–' : met ? 'met' : '**missed**');
  add(
    '# Suite benchmark',
    '',
    `Written by \`npm run bench\` (harness/bench.ts) on ${r.generatedAt}, in ${Math.round(r.durationS / 60)} min. Medians of ${r.settings.runs} run(s) unless stated.`,
    `Machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryMb} MB, Node ${r.machine.node}, Playwright ${r.machine.playwright}.`,
    `Load average (1/5/15 min) at start ${r.machine.loadAverageAtStart.join(' / ')}, at end ${r.machine.loadAverageAtEnd.join(' / ')}. ${r.machine.note}`,
    `Stack on ports ${r.settings.ports.base}-${r.settings.ports.postgres}, Vultr boot delay ${r.settings.vultrBootDelayMs} ms, config ${r.settings.config}, full-run workers: ${r.settings.fullRunWorkers}.`,
    '',
    '## Targets',
    '',
    '| target | wanted | measured | |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.name} | ${t.target} | ${t.measured} | ${mark(t.met)} |`),
    '',
    '## Wall times',
    '',
    '| measurement | median | min | max | runs |',
    '|---|---|---|---|---|',
  );
  const row = (name: string, s: Spread | null) => add(`| ${name} | ${fmtS(s?.median)} | ${fmtS(s?.min)} | ${fmtS(s?.max)} | ${s?.n ?? 0} |`);
  row('stack cold start (empty STACK_DIR → healthy)', r.coldStart.readyMs);
  row('full suite from a stopped stack (stack start + suite)', r.fullFromStopped.wallMs);
  row('  of which: stack start (existing STACK_DIR)', spread(r.fullFromStopped.runs.flatMap((x) => (x.stackReadyMs === undefined ? [] : [x.stackReadyMs]))));
  row('full suite from a running stack', r.fullFromRunning.wallMs);
  row('  Playwright\'s own duration of the full runs above (JSON stats, both kinds)', r.breakdown.wallMs);
  add('');
  const coldNotes = r.coldStart.runs.at(-1)?.notes ?? [];
  if (coldNotes.length) add(`Last cold start, as the stack reports it: ${coldNotes.join('; ')}.`, '');
  const results = [...r.fullFromStopped.runs, ...r.fullFromRunning.runs];
  add(
    `Full runs: ${results.map((x) => `${x.passed} passed/${x.failed} failed`).join(', ')}; workers ${[...new Set(results.map((x) => x.workers ?? '?'))].join(', ')}; secret scan: ${[...new Set(results.map((x) => x.secretScan))].join(', ')}; exit codes ${[...new Set(results.map((x) => x.exitCode))].join(', ')}.`,
    '',
    '## Runbook steps (funnel test.step durations)',
    '',
    '| step | median | min | max |',
    '|---|---|---|---|',
    ...r.breakdown.steps.map((s) => `| ${s.title} | ${fmtMs(s.median)} | ${fmtMs(s.min)} | ${fmtMs(s.max)} |`),
    '',
    '## Tests',
    '',
    '| project | test | median | min | max |',
    '|---|---|---|---|---|',
    ...r.breakdown.tests.map((t) => `| ${t.project} | ${t.title} | ${fmtMs(t.median)} | ${fmtMs(t.min)} | ${fmtMs(t.max)} |`),
    '',
    '## Where the time goes (full runs)',
    '',
    `Of Playwright's ${fmtS(r.breakdown.wallMs?.median)}, ${fmtS(r.breakdown.inTestsMs?.median)} has a test running and ${fmtS(r.breakdown.outsideTestsMs?.median)} has none: the runner starting, a new worker process for each project (Playwright gives every project its own worker), browsers launching outside a test, the reporters at the end.`,
    '',
    '| idle stretch before | median | min | max |',
    '|---|---|---|---|',
    ...r.breakdown.gapsBefore.map((g) => `| ${g.before === 'end' ? 'the end of the run (teardown, reporters)' : `the first test of ${g.before}`} | ${fmtMs(g.median)} | ${fmtMs(g.min)} | ${fmtMs(g.max)} |`),
    '',
  );
  const boot = r.breakdown.steps.find((s) => s.title.startsWith('4.'));
  if (boot) add(`Step 4 waits for the emulated boot: ${fmtMs(r.settings.vultrBootDelayMs)} of its ${fmtMs(boot.median)} is the Vultr boot delay; the rest is the worker's poll interval and the page.`, '');
  add('## Peak memory (stack + Playwright runner and browsers)', '');
  const m = r.peakRss.medianRun;
  add(
    `Full runs: median peak ${fmtMb(r.peakRss.fullRunsMb?.median)} (min ${fmtMb(r.peakRss.fullRunsMb?.min)}, max ${fmtMb(r.peakRss.fullRunsMb?.max)}).`,
    m ? `At the median run's peak: stack ${m.stackMb} MB, runner and browsers ${m.runnerMb} MB, ${m.processes} processes; largest: ${m.top.map((t) => `${t.name} ${t.mb} MB`).join(', ')}. Sampler cost ${m.samplerCpuMsPerSample.toFixed(1)} ms CPU per sample.` : '',
    r.peakRss.repeatWorkers2 ? `Repeat run at 2 workers: peak ${fmtMb(r.peakRss.repeatWorkers2.peakMb)} (stack ${fmtMb(r.peakRss.repeatWorkers2.stackMb)}, runner ${fmtMb(r.peakRss.repeatWorkers2.runnerMb)}).` : '',
    r.peakRss.note,
    '',
    '## CPU',
    '',
    `The stack and the suite together kept ${r.cpu.fullRunsCoresBusy?.median.toFixed(2) ?? '–'} of the ${r.machine.cpus} cores busy on average during the full runs (median; CPU time of both trees ÷ wall time)${r.repeat.workers2 ? `, ${r.repeat.workers2.peak.coresBusy} in the repeat run at 2 workers and ${r.repeat.workers1?.peak.coresBusy ?? '–'} at 1` : ''}. The load average counts everything else on the machine too.`,
    '',
    '## Repeat runs',
    '',
  );
  if (!r.repeat.workers2) add('Not run (--quick).', '');
  else {
    add('| | 2 workers | 1 worker |', '|---|---|---|');
    const w2 = r.repeat.workers2;
    const w1 = r.repeat.workers1;
    const both = (name: string, f: (x: NonNullable<typeof w2>) => string | number) => add(`| ${name} | ${f(w2)} | ${w1 ? f(w1) : '–'} |`);
    both('wall (Playwright)', (x) => fmtS(x.wallMs));
    both('tests (passed / failed / flaky / skipped)', (x) => `${x.tests} (${x.passed} / ${x.failed} / ${x.flaky} / ${x.skipped})`);
    both('tests with mixed outcomes', (x) => (x.mixed.length ? x.mixed.join('; ') : 'none'));
    both('funnels passed', (x) => x.funnelsPassed);
    both('funnels per minute', (x) => x.funnelsPerMinute);
    both('tests per minute', (x) => x.testsPerMinute);
    both('time with 0 / 1 / 2 tests running', (x) => x.concurrencyMs.map((ms) => fmtS(ms)).join(' / '));
    both('cores busy with the stack and the suite', (x) => x.peak.coresBusy);
    both('median test duration: funnel / negative', (x) => `${fmtMs(x.medianMsByProject.funnel)} / ${fmtMs(x.medianMsByProject.negative)}`);
    both('load average before → after', (x) => `${x.load.before[0]} → ${x.load.after[0]}`);
    add('', `Throughput ratio (funnels per minute, 2 workers ÷ 1): ${r.repeat.throughputRatio ?? '–'}×.`, '');
    const failures = [...new Set([...w2.failures, ...(w1?.failures ?? [])])];
    if (failures.length) add(`Failed: ${failures.join('; ')}.`, '');
  }
  if (r.problems.length) add('## Problems', '', ...r.problems.map((p) => `- ${p}`), '');
  add(`Raw figures, every run and the load around it: bench.json beside this file. Run directories (reports, traces): ${r.settings.workDir}.`, '');
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

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
  // mkdtemp makes it 0700; embedded Postgres run as root initialises its cluster as the postgres user.
  chmodSync(workDir, 0o755);
  const say = (line: string) => console.log(`bench: ${line}`);
  say(`work dir ${workDir}; load average ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  const problems: string[] = [];
  const cold: ColdStart[] = [];
  const fromStopped: FullRun[] = [];
  const fromRunning: FullRun[] = [];
  const reports: SuiteReport[] = [];
  const repeat: Parameters<typeof summarizeBench>[0]['repeat'] = { workers2: undefined, workers1: undefined };
  const workersArgs = options.workers === undefined ? [] : [`--workers=${options.workers}`];
  let warmDir: string | undefined;
  let running: RunningStack | undefined;
  let failed = false;

  try {
    for (let i = 1; i <= options.runs; i++) {
      const dir = join(workDir, `cold-${i}`, 'stack');
      const before = loadavg();
      const stack = await startStack(BENCH_PORTS, dir, join(workDir, `cold-${i}`, 'stack.log'));
      const stop = await stopStack(stack);
      if (!stop.clean) problems.push(`cold start ${i}: stopping the stack: ${stop.how}`);
      cold.push({ readyMs: stack.readyMs, reportedReadyMs: stack.reportedReadyMs, notes: stack.notes, load: { before: before.map((l) => round(l, 2)), after: loadavg().map((l) => round(l, 2)) } });
      say(`cold start ${i}/${options.runs}: healthy in ${fmtS(stack.readyMs)} (the stack says ${fmtMs(stack.reportedReadyMs)})`);
      // The last one's state is reused by the full runs: a stopped stack with its database.
      if (warmDir) rmSync(dirname(warmDir), { recursive: true, force: true });
      warmDir = dir;
    }
    const stackDir = warmDir!;

    for (let i = 1; i <= options.runs; i++) {
      const runDir = join(workDir, `from-stopped-${i}`);
      // One sampler over both trees from the stack's spawn on, so the peak covers the stack's start too.
      const sampler = new TreeSampler({});
      let stack: RunningStack;
      try {
        stack = await startStack(BENCH_PORTS, stackDir, join(runDir, 'stack.log'), (pid) => {
          sampler.roots.stack = pid;
          sampler.start();
        });
      } catch (error) {
        sampler.stop();
        throw error;
      }
      const run = await runSuite({ configPath, runDir, ports: BENCH_PORTS, stackDir, args: workersArgs, timeoutMs: SUITE_TIMEOUT_MS, stack, sampler });
      const stop = await stopStack(stack);
      if (!stop.clean) problems.push(`full run from a stopped stack ${i}: stopping the stack: ${stop.how}`);
      const result = fullRun(run, stack.readyMs);
      fromStopped.push(result);
      if (run.report) reports.push(run.report);
      if (run.problem) problems.push(`full run from a stopped stack ${i}: ${run.problem}`);
      say(`full run from a stopped stack ${i}/${options.runs}: ${fmtS(result.wallMs)} (stack ${fmtS(stack.readyMs)} + suite ${fmtS(run.wallMs)}), ${result.passed} passed, ${result.failed} failed, peak ${result.peak.peakMb} MB`);
    }

    running = await startStack(BENCH_PORTS, stackDir, join(workDir, 'running-stack.log'));
    for (let i = 1; i <= options.runs; i++) {
      const run = await runSuite({ configPath, runDir: join(workDir, `from-running-${i}`), ports: BENCH_PORTS, stackDir, args: workersArgs, timeoutMs: SUITE_TIMEOUT_MS, stack: running });
      const result = fullRun(run, undefined);
      fromRunning.push(result);
      if (run.report) reports.push(run.report);
      if (run.problem) problems.push(`full run from a running stack ${i}: ${run.problem}`);
      say(`full run from a running stack ${i}/${options.runs}: ${fmtS(result.wallMs)}, ${result.passed} passed, ${result.failed} failed, peak ${result.peak.peakMb} MB`);
    }

    if (!options.quick) {
      for (const workers of [2, 1] as const) {
        const run = await runSuite({
          configPath,
          runDir: join(workDir, `repeat-w${workers}`),
          ports: BENCH_PORTS,
          stackDir,
          args: [`--repeat-each=${options.repeatEach}`, `--workers=${workers}`],
          timeoutMs: options.repeatEach * REPEAT_TIMEOUT_PER_REPETITION_MS,
          stack: running,
        });
        if (run.problem) problems.push(`repeat run at ${workers} worker(s): ${run.problem}`);
        if (!run.report) {
          failed = true;
          continue;
        }
        const summary = {
          ...repeatSummary(run.report),
          peak: run.peak,
          load: { before: run.loadBefore.map((l) => round(l, 2)), after: run.loadAfter.map((l) => round(l, 2)) },
          exitCode: run.exitCode,
          ...(run.problem ? { problem: run.problem } : {}),
        };
        repeat[workers === 2 ? 'workers2' : 'workers1'] = summary;
        say(`repeat run, ${options.repeatEach}× at ${workers} worker(s): ${fmtS(summary.wallMs)}, ${summary.passed} passed, ${summary.failed} failed, ${summary.flaky} flaky, ${summary.funnelsPerMinute} funnels/min`);
      }
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
  }
  if (fromStopped.some((r) => !r.playwrightMs) || fromRunning.some((r) => !r.playwrightMs)) failed = true;

  const result = summarizeBench({ options, configPath, started, finished: new Date(), workDir, loadStart, loadEnd: loadavg(), cold, fromStopped, fromRunning, reports, repeat, problems });
  const out = resolve(ROOT, options.out);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bench.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(out, 'bench.md'), `${renderMarkdown(result)}\n`);
  say(`wrote ${join(out, 'bench.md')} and ${join(out, 'bench.json')}`);
  for (const t of result.targets) say(`target ${t.name}: ${t.measured} (${t.target}) ${t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED'}`);
  return failed ? 1 : 0;
}

runWhenInvoked('bench', import.meta.url, main);
