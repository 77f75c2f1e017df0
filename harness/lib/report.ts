/**
 * Playwright's JSON report, read once for every harness: one zod schema for the fields any of them
 * reads, flattened into one row per test (with --repeat-each, one per repetition), each keyed by
 * project, file and title, with its results, their steps and the failing step chain.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { tail, type Exit } from './processes';

type JsonStep = { title: string; duration?: number; error?: unknown; steps?: JsonStep[] };
const stepSchema: z.ZodType<JsonStep> = z.lazy(() =>
  z.object({ title: z.string(), duration: z.number().optional(), error: z.unknown().optional(), steps: z.array(stepSchema).optional() }),
);
const errorSchema = z.object({ message: z.string().optional() }).loose();
const attachmentSchema = z.object({ name: z.string(), contentType: z.string().optional(), path: z.string().optional(), body: z.string().optional() });
const resultSchema = z.object({
  status: z.string(),
  duration: z.number().optional(),
  startTime: z.string().optional(),
  error: errorSchema.optional(),
  errors: z.array(errorSchema).optional(),
  steps: z.array(stepSchema).optional(),
  attachments: z.array(attachmentSchema).optional(),
});
const annotationSchema = z.object({ type: z.string(), description: z.string().optional() });
const specSchema = z.object({
  title: z.string(),
  file: z.string().optional(),
  line: z.number().optional(),
  tests: z.array(z.object({ projectName: z.string(), status: z.string(), annotations: z.array(annotationSchema).optional(), results: z.array(resultSchema) })),
});
type JsonSuite = { title: string; specs?: z.infer<typeof specSchema>[]; suites?: JsonSuite[] };
const suiteSchema: z.ZodType<JsonSuite> = z.lazy(() =>
  z.object({ title: z.string(), specs: z.array(specSchema).optional(), suites: z.array(suiteSchema).optional() }),
);
const statsSchema = z.object({
  startTime: z.string().optional(),
  duration: z.number().optional(),
  expected: z.number(),
  unexpected: z.number(),
  flaky: z.number(),
  skipped: z.number(),
});
const reportSchema = z.object({
  config: z.object({ metadata: z.object({ actualWorkers: z.number().optional() }).loose().optional() }).loose().optional(),
  suites: z.array(suiteSchema),
  errors: z.array(errorSchema).optional(),
  stats: statsSchema.optional(),
});

export type Attachment = z.infer<typeof attachmentSchema>;
export type Annotation = z.infer<typeof annotationSchema>;
export type Step = { title: string; durationMs: number; failed: boolean; steps: Step[] };
export type ResultRow = {
  status: string;
  startTime: string;
  startMs: number;
  durationMs: number;
  steps: Step[];
  /** The result's first error message, if it has one. */
  error: string | undefined;
  attachments: Attachment[];
};
/** One test as the report lists it; with --repeat-each, one entry per repetition. */
export type TestRow = {
  key: string;
  project: string;
  file: string;
  title: string;
  outcome: string;
  results: ResultRow[];
  /** The test's annotations (a skip's reason is the description of its `skip`); the reader always fills them in. */
  annotations?: Annotation[];
};
export type Counts = { expected: number; unexpected: number; flaky: number; skipped: number };
export type SuiteReport = {
  startMs: number;
  wallMs: number;
  workers: number | undefined;
  /** Playwright's own counts, when the report has them. */
  counts: Counts | undefined;
  /** Errors outside any test (a config that does not load, a global setup that throws). */
  errors: string[];
  tests: TestRow[];
};

const stepOf = (s: JsonStep): Step => ({ title: s.title, durationMs: s.duration ?? 0, failed: s.error !== undefined && s.error !== null, steps: (s.steps ?? []).map(stepOf) });

/** What a Playwright JSON report says. Throws when the input is not such a report. */
export function readSuiteReport(json: unknown): SuiteReport {
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) throw new Error(`not a Playwright JSON report: ${parsed.error.issues[0]?.message ?? 'unexpected shape'}`);
  const report = parsed.data;
  const tests: TestRow[] = [];
  const walk = (suite: JsonSuite, path: string[]) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const title = [...path, spec.title].join(' › ');
        tests.push({
          key: `${test.projectName} › ${spec.file ?? '?'}:${spec.line ?? 0} › ${title}`,
          project: test.projectName,
          file: spec.file ?? '',
          title,
          outcome: test.status,
          annotations: test.annotations ?? [],
          results: test.results.map((r) => ({
            status: r.status,
            startTime: r.startTime ?? '',
            startMs: r.startTime === undefined ? 0 : Date.parse(r.startTime),
            durationMs: r.duration ?? 0,
            steps: (r.steps ?? []).map(stepOf),
            error: r.errors?.find((e) => e.message)?.message ?? r.error?.message,
            attachments: r.attachments ?? [],
          })),
        });
      }
    }
    // An anonymous describe (test.describe(() => …), e.g. to skip a group on a condition) has no title to add.
    for (const child of suite.suites ?? []) walk(child, child.title ? [...path, child.title] : path);
  };
  // The top-level suites are files: their titles are paths, not part of a test's name.
  for (const file of report.suites) walk(file, []);
  const stats = report.stats;
  return {
    startMs: stats?.startTime === undefined ? 0 : Date.parse(stats.startTime),
    wallMs: stats?.duration ?? 0,
    workers: report.config?.metadata?.actualWorkers,
    counts: stats && { expected: stats.expected, unexpected: stats.unexpected, flaky: stats.flaky, skipped: stats.skipped },
    errors: (report.errors ?? []).map((e) => e.message ?? 'error without a message'),
    tests,
  };
}

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** Playwright's output or an error message without its terminal colours. */
export function withoutColour(text: string): string {
  return text.replace(ANSI, '');
}

/** The first line of an error message, without colour: what a one-line summary of a failure shows. */
export function firstLine(text: string | undefined): string | undefined {
  return (text === undefined ? '' : withoutColour(text)).trim().split('\n')[0]?.trim() || undefined;
}

/** A test's last result as a harness prints it: titled with its file, as the runner does. */
export type Outcome = { project: string; title: string; status: string; message: string | undefined; skipReason: string | undefined; endMs: number };

/** Every test's last result, with its first error line and the reason it was skipped, if it was. */
export function lastOutcomes(report: SuiteReport | undefined): Outcome[] {
  return (report?.tests ?? []).flatMap((test) => {
    const result = test.results.at(-1);
    if (!result) return [];
    const skipReason = test.annotations?.find((a) => a.type === 'skip')?.description;
    const title = [test.file, test.title].filter(Boolean).join(' › ');
    return [{ project: test.project, title, status: result.status, message: firstLine(result.error), skipReason, endMs: (result.startMs || 0) + result.durationMs }];
  });
}

/** The tests that failed, timed out or were interrupted, in the order the runner reported them: by the moment each ended. */
export function failedInOrder(outcomes: Outcome[]): Outcome[] {
  return outcomes.filter((o) => o.status === 'failed' || o.status === 'timedOut' || o.status === 'interrupted').sort((a, b) => a.endMs - b.endMs);
}

/** The chain of failing steps down to the innermost one. */
export function failingSteps(steps: Step[]): string[] {
  const failed = steps.find((s) => s.failed);
  return failed ? [failed.title, ...failingSteps(failed.steps)] : [];
}

/** Playwright's counts, or the report's own when it has none. */
export function countsOf(report: SuiteReport): Counts {
  if (report.counts) return report.counts;
  const counted: Counts = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
  for (const test of report.tests) if (test.outcome in counted) counted[test.outcome as keyof Counts]++;
  return counted;
}

/**
 * The report a run wrote to `path`, or why there is none: not written (with how Playwright exited
 * and the last lines of its log), or not a report.
 */
export function readReportFile(path: string, run: { exit: Exit | undefined; log: string }): { report: SuiteReport } | { problem: string } {
  if (!existsSync(path)) {
    return { problem: `no JSON report (playwright exited ${run.exit?.signal ?? `with code ${run.exit?.code}`}): ${tail(run.log, 3)}` };
  }
  try {
    return { report: readSuiteReport(JSON.parse(readFileSync(path, 'utf8'))) };
  } catch (error) {
    return { problem: `unreadable JSON report: ${(error as Error).message}` };
  }
}
