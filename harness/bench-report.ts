/**
 * The bench's record: every measurement folded into bench.json (medians, spreads, the targets met
 * or missed, the machine and its load) and rendered as bench.md.
 */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { aggregateRuns, repeatSummary, spread, type RepeatSummary, type Spread } from './bench-figures';
import { ROOT } from './lib/playwright-run';
import type { SuiteReport } from './lib/report';
import { round, SAMPLE_EVERY_MS, type RssPeak } from './lib/sampler';
import type { Ports } from './lib/stack';

export const TARGETS = {
  fullRunbookFromStoppedMs: 25_000,
  repeatFailed: 0,
  repeatFlaky: 0,
  workerScaling: 1.6,
} as const;

/** What the report needs of the command line. */
export type BenchSettings = { runs: number; quick: boolean; repeatEach: number; workers: number | undefined; ports: Ports; vultrBootDelayMs: number };

/** One suite run: its wall time, its report (when it wrote one), the secret scan's verdict, the peak memory. */
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

export type Load = { before: number[]; after: number[] };
export type ColdStart = { readyMs: number; reportedReadyMs: number | undefined; notes: string[]; load: Load };
export type FullRun = {
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


export function fullRun(run: SuiteRun, stackReadyMs: number | undefined): FullRun {
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

export const fmtS = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`);
const fmtMb = (mb: number | null | undefined) => (mb === null || mb === undefined ? '–' : `${Math.round(mb)} MB`);
export const fmtMs = (ms: number | null | undefined) => (ms === null || ms === undefined ? '–' : `${Math.round(ms)} ms`);

export type RepeatRun = RepeatSummary & { peak: RssPeak; load: Load; exitCode: number | null; problem?: string };

export type BenchResult = ReturnType<typeof summarizeBench>;

export function summarizeBench(input: {
  options: BenchSettings;
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
  repeat: { workers2: RepeatRun | undefined; workers1: RepeatRun | undefined };
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
      ports: options.ports,
      vultrBootDelayMs: options.vultrBootDelayMs,
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
    both('median test duration: funnel / negative', (x) => `${fmtMs(x.medianMs.funnel)} / ${fmtMs(x.medianMs.negative)}`);
    both('load average before → after', (x) => `${x.load.before[0]} → ${x.load.after[0]}`);
    add('', `Throughput ratio (funnels per minute, 2 workers ÷ 1): ${r.repeat.throughputRatio ?? '–'}×.`, '');
    const failures = [...new Set([...w2.failures, ...(w1?.failures ?? [])])];
    if (failures.length) add(`Failed: ${failures.join('; ')}.`, '');
  }
  if (r.problems.length) add('## Problems', '', ...r.problems.map((p) => `- ${p}`), '');
  add(`Raw figures, every run and the load around it: bench.json beside this file. Run directories (reports, traces): ${r.settings.workDir}.`, '');
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

