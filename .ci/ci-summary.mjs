#!/usr/bin/env node
// Adds up every runner's results (vitest's JSON, Playwright's JSON report) into the one closing
// line CI reads: "N passed, N failed". A stage that failed without reporting tests (lint,
// typecheck, a crashed runner) counts as one failure, so the line can never hide a red run.
import { existsSync, readFileSync } from 'node:fs';

const read = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
const stages = read('test-results/stages.json') ?? [];
let passed = 0;
let failed = 0;
let skipped = 0;

for (const stage of stages) {
  const report = stage.results ? read(stage.results) : undefined;
  let counted = 0;
  if (stage.name === 'unit' && report) {
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    counted = report.numFailedTests ?? 0;
  } else if (report?.stats) {
    // Playwright: expected = passed, unexpected = failed, flaky = passed only on retry (a failure here).
    passed += report.stats.expected ?? 0;
    failed += (report.stats.unexpected ?? 0) + (report.stats.flaky ?? 0);
    skipped += report.stats.skipped ?? 0;
    counted = (report.stats.unexpected ?? 0) + (report.stats.flaky ?? 0);
  }
  if (!stage.ok && counted === 0) failed += 1;
  // A script that proves one thing end to end (e.g. the interrupted-run check) is one test.
  else if (stage.ok && stage.countsAsOneTest) passed += 1;
}
if (stages.length === 0) failed += 1;

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
