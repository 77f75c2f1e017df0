import { describe, expect, it } from 'vitest';
import { FAULTS, type FaultName } from '@m1/reference/faults';
import { VARIANTS } from '@m1/reference/variants';
import { failingSteps, readSuiteReport as readReport, type Step } from './lib/report';
import { parseFlags, planRuns, reportPaths, UsageError, type PlannedRun } from './selftest';
import { cell, judgeInFull, judgeRun, judgeVariant, outcomeOf, renderMarkdown, summarize, type RunResult, type SuiteOutcome } from './selftest-report';
import { CI_SUBSET, EXPECTATIONS, NO_ROW } from './selftest-faults';
import { VARIANT_EXPECTATIONS } from './selftest-variants';

/** A run's outcome as the self-test reads it from a Playwright JSON report. */
const readSuiteReport = (json: unknown, readAttachment?: (path: string) => string | undefined) => outcomeOf(readReport(json), readAttachment);

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const FUNNEL_TITLE = 'M1 activation funnel: sign-up to a running Vultr instance, paywall and live spend';
const STEP_3 = 'Approve → 1-step plan with $5.04/mo cost estimate';
const NO_ROW_TEXT = 'No row of the runbook troubleshooting table matches the live state.';

/** The shape Playwright 1.65's JSON reporter writes, trimmed to what the self-test reads and a little more. */
function sampleReport() {
  return {
    config: { rootDir: '/work/main' },
    suites: [
      {
        title: 'preflight.setup.ts',
        file: 'preflight.setup.ts',
        specs: [
          {
            title: 'Backend answers /up',
            ok: true,
            tests: [{ projectName: 'preflight', status: 'expected', results: [{ status: 'passed', startTime: '2026-01-01T00:00:01.000Z', attachments: [] }] }],
          },
          {
            title: '1. Dev DB up to date (no pending migrations)',
            ok: false,
            tests: [
              {
                projectName: 'preflight',
                status: 'unexpected',
                results: [
                  {
                    status: 'failed',
                    startTime: '2026-01-01T00:00:02.000Z',
                    errors: [{ message: '\u001b[31mError: pending migrations: billing_provisioning_usage_records\u001b[39m\n\nExpected: []' }],
                    attachments: [{ name: 'diagnosis (runbook troubleshooting)', contentType: 'text/plain', path: '/tmp/diag.md' }],
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        title: 'activation-funnel.spec.ts',
        file: 'activation-funnel.spec.ts',
        specs: [
          {
            title: FUNNEL_TITLE,
            ok: false,
            tests: [
              {
                projectName: 'funnel',
                status: 'unexpected',
                results: [
                  {
                    status: 'failed',
                    startTime: '2026-01-01T00:00:05.000Z',
                    error: { message: 'Error: expect(locator).toHaveText(expected) failed' },
                    errors: [{ message: 'Error: expect(locator).toHaveText(expected) failed\n\nExpected: "$5.04/mo"' }],
                    steps: [
                      { title: '1. Sign up → checkout → land on /new', duration: 900 },
                      { title: '2. Type Discord-bot brief → Brief Card populates', duration: 900 },
                      {
                        title: `3. ${STEP_3}`,
                        duration: 10_000,
                        error: { message: 'Error: expect(locator).toHaveText(expected) failed' },
                        steps: [{ title: 'inner', duration: 10_000, error: { message: 'x' } }],
                      },
                    ],
                    attachments: [
                      { name: 'screenshot', contentType: 'image/png', path: '/tmp/shot.png' },
                      { name: 'diagnosis (runbook troubleshooting)', contentType: 'text/plain', body: b64(NO_ROW_TEXT) },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        title: 'negative-paths.spec.ts',
        file: 'negative-paths.spec.ts',
        specs: [],
        suites: [
          {
            title: 'Missing / invalid credential',
            specs: [
              {
                title: 'an invalid account-scoped Vultr key fails closed',
                ok: true,
                tests: [{ projectName: 'negative', status: 'skipped', results: [] }],
              },
            ],
          },
        ],
      },
    ],
    errors: [],
    stats: { startTime: '2026-01-01T00:00:00.000Z', duration: 20_000, expected: 1, skipped: 1, unexpected: 2, flaky: 0 },
  };
}

const readDiag = (path: string) => (path === '/tmp/diag.md' ? 'Symptom: Any step fails with a database error\n  likely cause: Pending migrations' : undefined);

const fault = (name: FaultName): Extract<PlannedRun, { kind: 'fault' }> => ({ name, kind: 'fault', fault: name, expectation: EXPECTATIONS[name] });
const clean: Extract<PlannedRun, { kind: 'clean' }> = { name: 'clean #1', kind: 'clean' };

describe('parseFlags', () => {
  it('defaults to the whole matrix, stopping at the first failure', () => {
    expect(parseFlags([])).toEqual({ only: undefined, subset: undefined, variants: undefined, keepGoing: false, config: 'playwright.config.ts', help: false });
  });

  it('reads --only in both spellings, dropping blanks and repeats', () => {
    expect(parseFlags(['--only=cost_730h, risk_wrong,,cost_730h']).only).toEqual(['cost_730h', 'risk_wrong']);
    expect(parseFlags(['--only', 'clean,pending_migration']).only).toEqual(['clean', 'pending_migration']);
  });

  it('reads --variants=all or a list of variants', () => {
    expect(parseFlags(['--variants=all']).variants).toBe('all');
    expect(parseFlags(['--variants', 'route_core,all']).variants).toBe('all');
    expect(parseFlags(['--variants=brief_core,route_core,brief_core']).variants).toEqual(['brief_core', 'route_core']);
  });

  it('reads --subset=ci, --keep-going and --help', () => {
    expect(parseFlags(['--subset=ci', '--keep-going'])).toMatchObject({ subset: 'ci', keepGoing: true });
    expect(parseFlags(['--subset', 'ci']).subset).toBe('ci');
    expect(parseFlags(['-h']).help).toBe(true);
    expect(parseFlags(['--config=.pw-local.config.ts']).config).toBe('.pw-local.config.ts');
  });

  it.each([
    [['--only=cost_730h,no_such_fault'], /unknown fault\(s\) no_such_fault; known: clean, bootstrap_six_templates/],
    [['--only='], /--only expects a comma list/],
    [['--only'], /--only expects a value/],
    [['--only', '--keep-going'], /--only expects a value/],
    [['--subset=nightly'], /unknown subset "nightly"; the one subset is ci/],
    [['--only=cost_730h', '--subset=ci'], /give one of them/],
    [['--variants=all', '--subset=ci'], /give one of them/],
    [['--variants=route'], /unknown variant\(s\) route; known: all, route_core/],
    [['--variants='], /--variants expects all or a comma list/],
    [['--config=notes.txt'], /--config expects a Playwright config file/],
    [['--config'], /--config expects a value, e.g. --config=playwright.config.ts/],
    [['--fast'], /unknown argument "--fast" \(try --help\)/],
    [['cost_730h'], /unknown argument "cost_730h"/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(UsageError);
    expect(() => parseFlags(argv)).toThrow(message);
  });
});

describe('planRuns', () => {
  it('brackets every fault and every variant, then all variants at once, with two clean runs', () => {
    const plan = planRuns({ only: undefined, subset: undefined });
    expect(plan.map((r) => r.name)).toEqual(['clean #1', ...Object.keys(FAULTS), ...Object.keys(VARIANTS), 'all variants', 'clean #2']);
  });

  it('runs the variant table alone for --variants', () => {
    expect(planRuns({ only: undefined, subset: undefined, variants: 'all' }).map((r) => r.name)).toEqual([...Object.keys(VARIANTS), 'all variants']);
    expect(planRuns({ only: undefined, subset: undefined, variants: ['login_ids_core', 'route_core'] }).map((r) => r.name)).toEqual(['route_core', 'login_ids_core']);
  });

  it('runs one clean run and the CI third for --subset=ci', () => {
    const plan = planRuns({ only: undefined, subset: 'ci' });
    expect(plan[0]).toEqual({ name: 'clean', kind: 'clean' });
    expect(plan.slice(1).map((r) => r.name).sort()).toEqual([...CI_SUBSET].sort());
  });

  it('runs only what --only names, a clean run first when named', () => {
    expect(planRuns({ only: ['risk_wrong', 'cost_730h'], subset: undefined }).map((r) => r.name)).toEqual(['cost_730h', 'risk_wrong']);
    expect(planRuns({ only: ['cost_730h', 'clean'], subset: undefined }).map((r) => r.name)).toEqual(['clean', 'cost_730h']);
  });
});

describe('reportPaths', () => {
  it('keeps reports/ for the whole matrix and puts partial runs under reports/tmp/selftest/', () => {
    expect(reportPaths({ only: undefined, subset: undefined }).markdown).toMatch(/\/reports\/selftest\.md$/);
    expect(reportPaths({ only: undefined, subset: undefined }).json).toMatch(/\/reports\/selftest\.json$/);
    expect(reportPaths({ only: undefined, subset: 'ci' }).markdown).toMatch(/\/reports\/tmp\/selftest\/selftest\.md$/);
    expect(reportPaths({ only: ['cost_730h'], subset: undefined }).json).toMatch(/\/reports\/tmp\/selftest\/selftest\.json$/);
    expect(reportPaths({ only: undefined, subset: undefined, variants: 'all' }).json).toMatch(/\/reports\/tmp\/selftest\/selftest\.json$/);
  });
});

describe('the expectation table', () => {
  it('has an expectation for every fault and no other', () => {
    expect(Object.keys(EXPECTATIONS).sort()).toEqual(Object.keys(FAULTS).sort());
  });

  it('takes a fixed third of the faults for CI, all of them real', () => {
    const total = Object.keys(FAULTS).length;
    expect(CI_SUBSET.every((f) => f in FAULTS)).toBe(true);
    expect(new Set(CI_SUBSET).size).toBe(CI_SUBSET.length);
    expect(CI_SUBSET.length).toBe(Math.ceil(total / 3));
  });

  it('has an expectation for every variant, each asking for that variant\'s own hint', () => {
    expect(Object.keys(VARIANT_EXPECTATIONS).sort()).toEqual(Object.keys(VARIANTS).sort());
    const line = "Known variant (errors_flat): error bodies are flat: this looks like public Powernode's error envelope; set ERROR_ENVELOPE=flat if that is intended";
    expect(VARIANT_EXPECTATIONS.errors_flat.hint.test(line)).toBe(true);
    expect(VARIANT_EXPECTATIONS.route_core.hint.test(line)).toBe(false);
  });

  it('expects the diagnosis row the runbook has for pre-flight faults, and no row otherwise', () => {
    expect(EXPECTATIONS.pending_migration.diagnosis.test('  likely cause: Pending migrations')).toBe(true);
    expect(EXPECTATIONS.cost_730h.diagnosis).toBe(NO_ROW);
    expect(NO_ROW.test(NO_ROW_TEXT)).toBe(true);
  });
});

describe('readSuiteReport', () => {
  const outcome = readSuiteReport(sampleReport(), readDiag);

  it('takes the counts from the stats', () => {
    expect(outcome.counts).toEqual({ expected: 1, skipped: 1, unexpected: 2, flaky: 0 });
  });

  it('finds each failing test with its innermost failing step, earliest first', () => {
    expect(outcome.failures.map((f) => [f.project, f.where])).toEqual([
      ['preflight', '1. Dev DB up to date (no pending migrations)'],
      ['funnel', `${FUNNEL_TITLE} › 3. ${STEP_3} › inner`],
    ]);
    expect(outcome.failures[1]!.steps).toEqual([`3. ${STEP_3}`, 'inner']);
  });

  it('keeps the first lines of the error, without colour codes', () => {
    expect(outcome.failures[0]!.error).toBe('Error: pending migrations: billing_provisioning_usage_records / Expected: []');
  });

  it('reads the diagnosis from a base64 body or from the attachment file', () => {
    expect(outcome.failures[1]!.diagnosis).toBe(NO_ROW_TEXT);
    expect(outcome.failures[0]!.diagnosis).toMatch(/likely cause: Pending migrations/);
  });

  it('names skipped tests with their project and describe block', () => {
    expect(outcome.skipped).toEqual(['negative: Missing / invalid credential › an invalid account-scoped Vultr key fails closed']);
  });

  it('adds nothing to a title for an anonymous describe block', () => {
    const json = sampleReport();
    json.suites[2]!.suites!.push({ title: '', specs: [{ title: 'Account isolation', ok: true, tests: [{ projectName: 'negative', status: 'skipped', results: [] }] }] });
    expect(readSuiteReport(json, readDiag).skipped).toContain('negative: Account isolation');
  });

  it('counts by itself when the report has no stats', () => {
    const { stats: _stats, ...withoutStats } = sampleReport();
    expect(readSuiteReport(withoutStats, readDiag).counts).toEqual({ expected: 1, skipped: 1, unexpected: 2, flaky: 0 });
  });

  it('refuses what is not a Playwright JSON report', () => {
    expect(() => readSuiteReport({ tests: [] })).toThrow(/not a Playwright JSON report/);
    expect(() => readSuiteReport(null)).toThrow(/not a Playwright JSON report/);
  });

  it('follows the first failing step at each level', () => {
    const step = (title: string, failed = false, steps: Step[] = []): Step => ({ title, durationMs: 0, failed, steps });
    expect(failingSteps([step('a'), step('b', true, [step('c'), step('d', true)])])).toEqual(['b', 'd']);
    expect(failingSteps([])).toEqual([]);
  });
});

describe('judgeRun', () => {
  const report = (patch: Partial<SuiteOutcome> = {}): SuiteOutcome => ({ ...readSuiteReport(sampleReport(), readDiag), ...patch });

  it('counts a fault as detected when a failure is at the expected step, and checks its diagnosis', () => {
    const result = judgeRun(fault('cost_730h'), { kind: 'report', outcome: report() }, { seconds: 12 });
    expect(result).toMatchObject({ status: 'failed', detected: true, diagnosisOk: true, ok: true, seconds: 12 });
    expect(result.caughtBy?.project).toBe('funnel');
  });

  it('finds the expected failure even when another test failed first', () => {
    const result = judgeRun(fault('pending_migration'), { kind: 'report', outcome: report() });
    expect(result).toMatchObject({ detected: true, diagnosisOk: true });
    expect(result.caughtBy?.where).toMatch(/^1\. Dev DB/);
  });

  it('does not count a failure at another step', () => {
    const result = judgeRun(fault('live_spend_730h'), { kind: 'report', outcome: report() });
    expect(result).toMatchObject({ status: 'failed', detected: false, diagnosisOk: false, ok: false });
    expect(result.caughtBy?.where).toMatch(/^1\. Dev DB/);
  });

  it('marks a diagnosis that names the wrong cause', () => {
    const outcome = report();
    outcome.failures = outcome.failures.map((f) => ({ ...f, diagnosis: 'likely cause: Worker not running' }));
    expect(judgeRun(fault('cost_730h'), { kind: 'report', outcome })).toMatchObject({ detected: true, diagnosisOk: false, ok: true });
  });

  it('counts a passing suite under a fault as undetected', () => {
    const outcome = report({ counts: { expected: 9, unexpected: 0, flaky: 0, skipped: 0 }, failures: [] });
    expect(judgeRun(fault('risk_wrong'), { kind: 'report', outcome })).toMatchObject({ status: 'passed', detected: false, ok: false });
  });

  it('passes a clean run only without failures', () => {
    const green = report({ counts: { expected: 16, unexpected: 0, flaky: 0, skipped: 4 }, failures: [] });
    expect(judgeRun(clean, { kind: 'report', outcome: green })).toMatchObject({ status: 'passed', ok: true, detected: null });
    expect(judgeRun(clean, { kind: 'report', outcome: report() })).toMatchObject({ status: 'failed', ok: false });
  });

  it('records a crash, and a run where no test ran, as crashed', () => {
    expect(judgeRun(fault('cost_730h'), { kind: 'crash', reason: 'the suite ran longer than 300 s' })).toMatchObject({
      status: 'crashed',
      crash: 'the suite ran longer than 300 s',
      ok: false,
    });
    const empty = report({ counts: { expected: 0, unexpected: 0, flaky: 0, skipped: 0 }, failures: [], errors: ['config: BASE_URL: bad'] });
    expect(judgeRun(clean, { kind: 'report', outcome: empty })).toMatchObject({ status: 'crashed', crash: 'no test ran: config: BASE_URL: bad' });
  });
});

describe('renderMarkdown', () => {
  const runs: RunResult[] = [
    judgeRun(clean, { kind: 'report', outcome: { counts: { expected: 16, unexpected: 0, flaky: 0, skipped: 0 }, failures: [], skipped: [], errors: [] } }, { seconds: 40 }),
    judgeRun(fault('cost_730h'), { kind: 'report', outcome: readSuiteReport(sampleReport(), readDiag) }, { seconds: 30.25 }),
    judgeRun(fault('risk_wrong'), { kind: 'report', outcome: { counts: { expected: 9, unexpected: 0, flaky: 0, skipped: 0 }, failures: [], skipped: [], errors: [] } }, { seconds: 20 }),
    judgeRun(fault('meter_job_failing'), { kind: 'not_run' }),
  ];
  const summary = summarize(runs, { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:30.000Z', wallSeconds: 90, selection: 'the whole matrix', playwrightConfig: 'playwright.config.ts', ports: { base: 4181, vultr: 4182, stripe: 4183, worker: 4184, postgres: 4185 } });
  const markdown = renderMarkdown(summary);
  const row = (name: string) => markdown.split('\n').find((l) => l.startsWith(`| ${name} |`));

  it('summarises the verdict, wall time and slowest fault', () => {
    expect(summary).toMatchObject({ ok: false, undetected: ['risk_wrong'], cleanFailures: [], slowestFault: { name: 'cost_730h', seconds: 30.25 } });
    expect(markdown).toContain('Verdict: **FAIL**: 1 of 3 faults caught at the expected step (1 not run); clean runs 1 of 1 passed.');
    expect(markdown).toContain('Wall time: 90.0 s');
    expect(markdown).toContain('slowest fault: cost_730h (30.3 s)');
  });

  it('has one row per fault with the columns of the issue', () => {
    expect(markdown).toContain('| fault | description | expected step | failing step | detected | diagnosis | seconds |');
    expect(row('cost_730h')).toBe(
      `| cost_730h | the cost estimator uses 730 h per month ($5.11) | \`› 3\\. Approve → 1-step plan with \` | inner (in ${FUNNEL_TITLE}) | ✓ | ✓ | 30.3 |`,
    );
    expect(row('risk_wrong')).toContain('| — (the suite passed) | ✗ | ✗ | 20.0 |');
    expect(row('meter_job_failing')).toContain('| not run |  |  |  |');
    expect(row('clean #1')).toBe('| clean #1 | ✓ passed | 16 | 0 | 0 | 40.0 |');
  });

  it('lists the notes of the faults shown', () => {
    expect(markdown).toContain('- meter_job_failing: the meter job runs daily');
  });

  it('escapes what would break a table cell', () => {
    expect(cell('a | b\nc \\ d')).toBe('a \\| b c \\\\ d');
  });
});

describe('the variant table', () => {
  const green = (expected: number, skipped = 0): SuiteOutcome => ({ counts: { expected, unexpected: 0, flaky: 0, skipped }, failures: [], skipped: [], errors: [] });
  const failedAt = (where: string, diagnosis: string): SuiteOutcome => ({
    counts: { expected: 7, unexpected: 1, flaky: 0, skipped: 0 },
    failures: [{ project: 'funnel', test: FUNNEL_TITLE, steps: [where], where: `${FUNNEL_TITLE} › ${where}`, error: 'boom', diagnosis, startTime: '' }],
    skipped: [],
    errors: [],
  });
  const expectation = VARIANT_EXPECTATIONS.errors_flat;
  const detectionRun = { name: 'errors_flat', kind: 'fault' as const, expectation: { ...expectation, diagnosis: expectation.hint } };
  const HINT = "Known variant (errors_flat): error bodies are flat: this looks like public Powernode's error envelope; set ERROR_ENVELOPE=flat if that is intended";
  const STEP_5 = '5. Try a second instance → UpgradeRequiredCard renders';

  it('counts a variant only when caught at its step with its hint, and then accepted by its settings', () => {
    const caught = judgeRun(detectionRun, { kind: 'report', outcome: failedAt(STEP_5, HINT) }, { seconds: 10 });
    const accepted = judgeRun({ name: 'errors_flat', kind: 'clean' }, { kind: 'report', outcome: green(20) }, { seconds: 30 });
    const rejected = judgeRun({ name: 'errors_flat', kind: 'clean' }, { kind: 'report', outcome: failedAt(STEP_5, '') });
    const settings = { ERROR_ENVELOPE: 'flat' };
    expect(judgeVariant('errors_flat', 'flat', caught, accepted, settings)).toMatchObject({ ok: true, seconds: 40 });
    expect(judgeVariant('errors_flat', 'flat', caught, rejected, settings).ok).toBe(false);
    const noHint = judgeRun(detectionRun, { kind: 'report', outcome: failedAt(STEP_5, NO_ROW_TEXT) });
    expect(noHint).toMatchObject({ detected: true, diagnosisOk: false });
    expect(judgeVariant('errors_flat', 'flat', noHint, accepted, settings).ok).toBe(false);
  });

  it('passes the all-variants run only in full', () => {
    expect(judgeInFull(judgeRun(clean, { kind: 'report', outcome: green(20) })).ok).toBe(true);
    expect(judgeInFull(judgeRun(clean, { kind: 'report', outcome: green(16, 4) }))).toMatchObject({ ok: false, crash: '4 test(s) did not run' });
  });

  it('renders a row per variant and the all-variants row, and counts them in the verdict', () => {
    const caught = judgeRun(detectionRun, { kind: 'report', outcome: failedAt(STEP_5, HINT) }, { seconds: 10 });
    const accepted = judgeRun({ name: 'errors_flat', kind: 'clean' }, { kind: 'report', outcome: green(20) }, { seconds: 30 });
    const all = judgeRun({ name: 'all variants', kind: 'clean' }, { kind: 'report', outcome: green(20) }, { seconds: 50 });
    const summary = summarize([], { startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:30.000Z', wallSeconds: 90, selection: '--variants=all', playwrightConfig: 'playwright.config.ts', ports: { base: 4181, vultr: 4182, stripe: 4183, worker: 4184, postgres: 4185 } }, {
      variants: [judgeVariant('errors_flat', 'flat', caught, accepted, { ERROR_ENVELOPE: 'flat' })],
      allVariants: all,
    });
    const markdown = renderMarkdown(summary);
    expect(summary).toMatchObject({ ok: true, variantFailures: [] });
    expect(markdown).toContain('1 of 1 detected with the right hint; 1 of 1 accepted by their settings; all variants on, TARGET_PROFILE=powernode-core: passed in full.');
    expect(markdown.split('\n').find((l) => l.startsWith('| errors_flat |'))).toBe(
      `| errors_flat | \`› 5\\. Try a second instance → UpgradeRequiredCard renders\` | ${STEP_5} (in ${FUNNEL_TITLE}) | ✓ | ✓ | \`ERROR_ENVELOPE=flat\` | ✓ passed (20 passed) | 40.0 |`,
    );
    expect(markdown).toContain('| **all twelve** |');
  });
});
