import { describe, expect, it } from 'vitest';
import { aggregateRuns, funnelSteps, median, repeatSummary, spread, testDurations, timeline } from './bench-figures';
import { parseBenchArgs, UsageError } from './bench';
import { readSuiteReport, type SuiteReport } from './lib/report';

describe('parseBenchArgs', () => {
  it('defaults to three runs, the repeat runs at 10×, the config default workers', () => {
    expect(parseBenchArgs([])).toEqual({ runs: 3, quick: false, repeatEach: 10, workers: undefined, config: 'playwright.config.ts', out: 'reports', help: false });
  });

  it('reads every flag, with = or as the next argument', () => {
    expect(parseBenchArgs(['--runs=5', '--repeat-each', '4', '--workers=2', '--config', 'tmp/x.config.ts'])).toMatchObject({
      runs: 5,
      repeatEach: 4,
      workers: 2,
      config: 'tmp/x.config.ts',
    });
    expect(parseBenchArgs(['--quick', '--runs', '1', '--out=/tmp/proposal'])).toMatchObject({ quick: true, runs: 1, out: '/tmp/proposal' });
    expect(parseBenchArgs(['-h']).help).toBe(true);
  });

  it.each([
    [['--runs=0'], /--runs expects a whole number from 1 to 20, got "0"/],
    [['--runs=two'], /--runs expects a whole number/],
    [['--runs'], /--runs expects a value, e.g. --runs=3/],
    [['--runs', '--quick'], /--runs expects a value/],
    [['--repeat-each=1'], /--repeat-each expects a whole number from 2 to 50/],
    [['--workers=0'], /--workers expects a whole number from 1 to 16/],
    [['--config=settings.json'], /--config expects a Playwright config file/],
    [['--fast'], /unknown argument "--fast"/],
    [['--quick', '--repeat-each=3'], /--quick skips the repeat runs/],
  ])('refuses %j with a clear message', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(UsageError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

describe('median and spread', () => {
  it('takes the middle value, or the mean of the two middle ones, whatever the order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNull();
  });

  it('spread adds min, max and the count', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([])).toBeNull();
  });
});

/** A Playwright JSON report in the shape the json reporter writes (the fields the bench reads). */
function jsonReport(opts: { start: string; duration: number; workers?: number; files: { file: string; specs: unknown[]; suites?: unknown[] }[] }) {
  return {
    config: { metadata: { actualWorkers: opts.workers ?? 1 }, projects: [] },
    suites: opts.files.map((f) => ({ title: f.file, file: f.file, specs: f.specs, suites: f.suites ?? [] })),
    stats: { startTime: opts.start, duration: opts.duration, expected: 0, unexpected: 0, flaky: 0, skipped: 0 },
    errors: [],
  };
}

const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + ms).toISOString();
const spec = (
  title: string,
  line: number,
  tests: { project: string; status?: string; results: { status?: string; start: number; duration: number; steps?: { title: string; duration: number }[] }[] }[],
  file = 'x.spec.ts',
) => ({
  title,
  file,
  line,
  column: 1,
  tests: tests.map((t) => ({
    projectName: t.project,
    status: t.status ?? 'expected',
    results: t.results.map((r) => ({ status: r.status ?? 'passed', duration: r.duration, startTime: at(r.start), steps: r.steps ?? [] })),
  })),
});

function fullRun(offset = 0): SuiteReport {
  return readSuiteReport(
    jsonReport({
      start: at(0),
      duration: 20_000,
      files: [
        { file: 'preflight.setup.ts', specs: [spec('Backend answers /up', 11, [{ project: 'preflight', results: [{ start: 3_000, duration: 100 }] }])] },
        {
          file: 'activation-funnel.spec.ts',
          specs: [
            spec('M1 activation funnel', 25, [
              {
                project: 'funnel',
                results: [
                  {
                    start: 6_000,
                    duration: 8_000 + offset,
                    steps: [
                      { title: '1. Sign up → checkout → land on /new', duration: 3_000 + offset },
                      { title: '4. Execute → instance running on Vultr within ~90s', duration: 2_800 },
                      { title: 'not a runbook step', duration: 5 },
                    ],
                  },
                ],
              },
            ], 'activation-funnel.spec.ts'),
          ],
        },
        {
          file: 'negative-paths.spec.ts',
          specs: [],
          suites: [
            {
              title: 'Missing / invalid credential',
              file: 'negative-paths.spec.ts',
              specs: [spec('an invalid key fails closed', 17, [{ project: 'negative', results: [{ start: 10_000, duration: 5_000 }] }])],
            },
          ],
        },
      ],
    }),
  );
}

describe('reading the JSON report', () => {
  it('flattens files, describes and specs into tests keyed by project, file and title', () => {
    const report = fullRun();
    expect(report.tests.map((t) => t.key)).toEqual([
      'preflight › x.spec.ts:11 › Backend answers /up',
      'funnel › activation-funnel.spec.ts:25 › M1 activation funnel',
      'negative › x.spec.ts:17 › Missing / invalid credential › an invalid key fails closed',
    ]);
    expect(report.wallMs).toBe(20_000);
    expect(report.workers).toBe(1);
  });

  it('refuses a report of another shape', () => {
    expect(() => readSuiteReport({ suites: 'nope' })).toThrow();
  });

  it("keeps the funnel's numbered runbook steps only, found by its spec file whatever its project", () => {
    expect(Object.fromEntries(funnelSteps(fullRun()))).toEqual({
      '1. Sign up → checkout → land on /new': [3_000],
      '4. Execute → instance running on Vultr within ~90s': [2_800],
    });
  });

  it('lists every test with its duration', () => {
    expect([...testDurations(fullRun()).values()].map((t) => [t.project, t.durationMs])).toEqual([
      ['preflight', 100],
      ['funnel', 8_000],
      ['negative', 5_000],
    ]);
  });

  it('splits the wall into time with tests running and idle stretches named after the test that ends them', () => {
    const t = timeline(fullRun());
    // Busy: 3.0-3.1 s, 6-14 s, and 10-15 s overlapping it: 0.1 + 9 s.
    expect(t.inTestsMs).toBe(9_100);
    expect(t.outsideTestsMs).toBe(10_900);
    expect(t.concurrencyMs).toEqual([10_900, 5_100, 4_000]);
    expect(t.gaps).toEqual([
      { before: 'preflight', startMs: 0, ms: 3_000 },
      { before: 'funnel', startMs: 3_100, ms: 2_900 },
      { before: 'end', startMs: 15_000, ms: 5_000 },
    ]);
    expect(t.projects.find((p) => p.project === 'negative')).toEqual({ project: 'negative', startMs: 10_000, endMs: 15_000, testMs: 5_000 });
  });

  it('aggregates several runs into medians', () => {
    const aggregate = aggregateRuns([fullRun(0), fullRun(1_000), fullRun(300)]);
    expect(aggregate.steps.find((s) => s.title.startsWith('1.'))).toMatchObject({ median: 3_300, min: 3_000, max: 4_000, n: 3 });
    expect(aggregate.tests.find((s) => s.project === 'funnel')).toMatchObject({ title: 'M1 activation funnel', median: 8_300 });
    expect(aggregate.wallMs).toMatchObject({ median: 20_000 });
    expect(aggregate.gapsBefore.find((g) => g.before === 'preflight')).toMatchObject({ median: 3_000, n: 3 });
  });
});

describe('repeatSummary', () => {
  it('counts passed, failed, flaky and mixed outcomes, and funnels per minute', () => {
    const funnel = (status: string, result: string, start: number) => ({ project: 'funnel', status, results: [{ status: result, start, duration: 10_000 }] });
    const report = readSuiteReport(
      jsonReport({
        start: at(0),
        duration: 120_000,
        workers: 2,
        files: [
          {
            file: 'activation-funnel.spec.ts',
            specs: [
              spec(
                'M1 activation funnel',
                25,
                [funnel('expected', 'passed', 0), funnel('expected', 'passed', 0), funnel('unexpected', 'failed', 20_000), funnel('expected', 'passed', 30_000)],
                'activation-funnel.spec.ts',
              ),
            ],
          },
          { file: 'negative-paths.spec.ts', specs: [spec('declined card', 152, [{ project: 'negative', status: 'flaky', results: [{ status: 'failed', start: 0, duration: 1 }, { status: 'passed', start: 5, duration: 1 }] }], 'negative-paths.spec.ts')] },
        ],
      }),
    );
    const summary = repeatSummary(report);
    expect(summary).toMatchObject({ tests: 5, passed: 3, failed: 1, flaky: 1, skipped: 0, funnelsPassed: 3, funnelsPerMinute: 1.5, workers: 2 });
    expect(summary.mixed).toEqual(['funnel › M1 activation funnel']);
    expect(summary.medianMs).toEqual({ funnel: 10_000, negative: 1 });
    expect(summary.failures).toEqual(['funnel › M1 activation funnel']);
  });
});
