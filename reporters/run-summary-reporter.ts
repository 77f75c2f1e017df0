/**
 * Prints, at the end of every run, what the run created and what it cleaned up (helpers/run/summary.ts).
 * Before the secret scan, which stays the last reporter.
 */
import type { FullResult, Reporter, TestCase, TestResult } from '@playwright/test/reporter';
import { formatRunSummary, parseSummary, SUMMARY_ATTACHMENT, type RunTally } from '../helpers/run/summary';

export default class RunSummaryReporter implements Reporter {
  private readonly tally: RunTally = { testsRun: 0, summaries: [] };

  printsToStdio(): boolean {
    return false;
  }

  onTestEnd(_test: TestCase, result: TestResult): void {
    if (result.status !== 'skipped') this.tally.testsRun++;
    for (const attachment of result.attachments) {
      if (attachment.name !== SUMMARY_ATTACHMENT || !attachment.body) continue;
      const summary = parseSummary(attachment.body.toString('utf8'));
      if (summary) this.tally.summaries.push(summary);
    }
  }

  onEnd(result: FullResult): void {
    const runId = process.env.E2E_RUN_ID ?? 'unknown';
    for (const line of formatRunSummary(runId, this.tally, result.status === 'interrupted')) console.log(line);
  }
}
