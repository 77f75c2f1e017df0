/**
 * The bench's figures from Playwright's JSON reports: medians and spreads, the funnel's runbook
 * steps, each test's duration, the run's timeline (time with tests running, idle stretches and
 * what ends them), and the repeat runs' counts and throughput.
 */
import type { SuiteReport } from './lib/report';
import { round } from './lib/sampler';

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

/** The funnel's and the negative paths' spec files: they share one project (playwright.config.ts), so tests are told apart by file. */
const FUNNEL_FILE = /(^|\/)activation-funnel\.spec\.ts$/;
const NEGATIVE_FILE = /(^|\/)negative-paths\.spec\.ts$/;

export function isFunnelTest(test: { file: string }): boolean {
  return FUNNEL_FILE.test(test.file);
}

/** The funnel's runbook steps ("1. Sign up → …" … "6. …"): their durations in each funnel result that passed. */
export function funnelSteps(report: SuiteReport): Map<string, number[]> {
  const steps = new Map<string, number[]>();
  for (const test of report.tests.filter(isFunnelTest)) {
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
  const outsideTestsMs = concurrencyMs[0];
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
  /** Median duration of the funnel and of a negative path: with workers sharing too few cores, tests stretch instead of overlapping. */
  medianMs: { funnel: number | null; negative: number | null };
};

function medianDurationIn(report: SuiteReport, file: RegExp): number | null {
  const m = median(report.tests.filter((t) => file.test(t.file)).flatMap((t) => t.results.map((r) => r.durationMs)));
  return m === null ? null : round(m);
}

export function repeatSummary(report: SuiteReport): RepeatSummary {
  const byTitle = new Map<string, string[]>();
  for (const t of report.tests) {
    const id = `${t.project} › ${t.title}`;
    byTitle.set(id, [...(byTitle.get(id) ?? []), t.outcome]);
  }
  const count = (outcome: string) => report.tests.filter((t) => t.outcome === outcome).length;
  const funnelsPassed = report.tests.filter((t) => isFunnelTest(t) && t.outcome === 'expected' && t.results.at(-1)?.status === 'passed').length;
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
    medianMs: { funnel: medianDurationIn(report, FUNNEL_FILE), negative: medianDurationIn(report, NEGATIVE_FILE) },
  };
}

/** Medians over several full runs: each funnel step, each test, and the timeline's parts. */
export function aggregateRuns(reports: SuiteReport[]) {
  const collect = <T>(maps: Map<string, T>[], value: (t: T) => number) => {
    const all = new Map<string, number[]>();
    for (const map of maps) for (const [key, v] of map) all.set(key, [...(all.get(key) ?? []), value(v)]);
    return all;
  };
  const steps = collect(
    reports.map((r) => new Map([...funnelSteps(r)].map(([title, ds]) => [title, median(ds)!]))),
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

