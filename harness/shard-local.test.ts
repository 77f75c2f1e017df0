import { describe, expect, it } from 'vitest';
import type { SuiteReport, TestRow } from './lib/report';
import { checkMerged, mergeConfigProblems, parseShardArgs, testIdentity, UsageError } from './shard-local';

describe('parseShardArgs', () => {
  it('defaults to the project config', () => {
    expect(parseShardArgs([])).toEqual({ config: 'playwright.config.ts', help: false });
  });

  it('takes another config, with = or as the next argument', () => {
    expect(parseShardArgs(['--config=/tmp/proposed.config.ts']).config).toBe('/tmp/proposed.config.ts');
    expect(parseShardArgs(['--config', 'x.config.mjs']).config).toBe('x.config.mjs');
    expect(parseShardArgs(['--help']).help).toBe(true);
  });

  it.each([
    [['--config'], /--config expects a value/],
    [['--config=playwright.json'], /expects a Playwright config file/],
    [['--shards=3'], /unknown argument "--shards=3"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseShardArgs(argv)).toThrow(UsageError);
    expect(() => parseShardArgs(argv)).toThrow(message);
  });
});

const row = (project: string, title: string, file: string, status = 'passed'): TestRow => ({
  key: `${project} › ${file}:1 › ${title}`,
  project,
  file,
  title,
  outcome: status === 'passed' ? 'expected' : 'unexpected',
  results: [{ status, startTime: '', startMs: 0, durationMs: 1, steps: [], error: undefined, attachments: [] }],
});

const report = (tests: TestRow[]): SuiteReport => ({
  startMs: 0,
  wallMs: 1,
  workers: 1,
  counts: { expected: 0, unexpected: 0, flaky: 0, skipped: 0 },
  errors: [],
  tests,
});

const PREFLIGHT = row('preflight', 'Backend answers /up', 'preflight.setup.ts');
const FUNNEL = row('funnel', 'M1 activation funnel', 'activation-funnel.spec.ts');
const NEGATIVE = row('negative', 'Declined card', 'negative-paths.spec.ts');
const ROLLBACK = row('after', 'Rollback', 'after-run.teardown.ts');
const ids = (...tests: TestRow[]) => testIdentity(report(tests));

describe('testIdentity', () => {
  it('names a test by project, file below the tests directory, and title', () => {
    expect(ids(FUNNEL, row('funnel', 'M1 activation funnel', '../tests/activation-funnel.spec.ts'))).toEqual([
      'funnel › activation-funnel.spec.ts › M1 activation funnel',
      'funnel › activation-funnel.spec.ts › M1 activation funnel',
    ]);
  });
});

describe('checkMerged', () => {
  const full = ids(PREFLIGHT, FUNNEL, NEGATIVE, ROLLBACK);
  // Each shard runs the setup and teardown its tests depend on.
  const planned = [ids(PREFLIGHT, FUNNEL, ROLLBACK), ids(PREFLIGHT, NEGATIVE, ROLLBACK)];

  it('passes when sharded tests appear once, setup and teardown once per shard, all passed', () => {
    const check = checkMerged(full, planned, report([PREFLIGHT, FUNNEL, ROLLBACK, PREFLIGHT, NEGATIVE, ROLLBACK]));
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({ ok: true, suiteTests: 4, mergedTests: 6, passed: 6 });
    expect(check.shards).toEqual([
      { planned: 3, own: 1, shared: 2 },
      { planned: 3, own: 1, shared: 2 },
    ]);
  });

  it('names a test missing from the merged report, and one merged twice', () => {
    const check = checkMerged(full, planned, report([PREFLIGHT, FUNNEL, FUNNEL, ROLLBACK, PREFLIGHT, ROLLBACK]));
    expect(check.ok).toBe(false);
    expect(check.problems).toEqual([
      '"funnel › activation-funnel.spec.ts › M1 activation funnel" is in the merged report 2 times, planned once (a sharded test)',
      'missing from the merged report: "negative › negative-paths.spec.ts › Declined card"',
    ]);
  });

  it('names a test that did not pass', () => {
    const failed = row('negative', 'Declined card', 'negative-paths.spec.ts', 'failed');
    const check = checkMerged(full, planned, report([PREFLIGHT, FUNNEL, ROLLBACK, PREFLIGHT, failed, ROLLBACK]));
    expect(check.problems).toEqual(['did not pass: negative › Declined card (failed)']);
    expect(check.passed).toBe(5);
  });

  it('fails a shard with nothing of its own: a suite that does not split proves nothing', () => {
    const check = checkMerged(full, [full, []], report([PREFLIGHT, FUNNEL, NEGATIVE, ROLLBACK]));
    expect(check.problems).toEqual(['shard 2/2 has no test of its own (it would only repeat setup and teardown): the suite does not split']);
  });

  it('names a merged test the suite does not list, and a suite test no shard plans', () => {
    const stray = row('funnel', 'an old test', 'activation-funnel.spec.ts');
    const check = checkMerged(full, [ids(PREFLIGHT, FUNNEL, ROLLBACK), ids(PREFLIGHT, ROLLBACK, FUNNEL)], report([PREFLIGHT, FUNNEL, ROLLBACK, PREFLIGHT, ROLLBACK, stray]));
    expect(check.problems).toEqual(
      expect.arrayContaining([
        'no shard plans "negative › negative-paths.spec.ts › Declined card"',
        'in the merged report but not in the suite (--list): "funnel › activation-funnel.spec.ts › an old test"',
      ]),
    );
  });
});

describe('mergeConfigProblems', () => {
  const root = '/repo';
  const configDir = '/repo/.ci';

  it('catches reports written beside the config instead of where CI uploads them from', () => {
    const problems = mergeConfigProblems(
      { reporter: [['html', { outputFolder: 'playwright-report' }], ['junit', { outputFile: 'test-results/junit.xml' }]] },
      configDir,
      root,
    );
    expect(problems).toEqual([
      "html outputFolder 'playwright-report' resolves against the config's directory to .ci/playwright-report, but the CI merge job uploads playwright-report: write '../playwright-report'",
      "junit outputFile 'test-results/junit.xml' resolves against the config's directory to .ci/test-results/junit.xml, but the CI merge job uploads test-results/junit.xml: write '../test-results/junit.xml'",
    ]);
  });

  it('accepts paths that lead to the repository root, and names a missing reporter', () => {
    expect(
      mergeConfigProblems({ reporter: [['html', { outputFolder: '../playwright-report' }], ['junit', { outputFile: '../test-results/junit.xml' }]] }, configDir, root),
    ).toEqual([]);
    expect(mergeConfigProblems({ reporter: 'html' }, configDir, root)).toEqual(['no junit reporter: the CI merge job uploads test-results/junit.xml']);
  });
});
