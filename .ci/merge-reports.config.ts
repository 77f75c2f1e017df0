// Used by `npx playwright merge-reports --config .ci/merge-reports.config.ts <blob dir>`:
// one HTML report and one JUnit file from every shard's blob report. Reporter paths resolve
// against this file's folder, hence the '../'. The secret scan runs last, as in a normal run.
export default {
  testDir: '../tests',
  reporter: [
    ['html', { outputFolder: '../playwright-report', open: 'never' }],
    ['junit', { outputFile: '../test-results/junit.xml' }],
    ['json', { outputFile: '../test-results/merged.json' }],
    ['../reporters/secret-scan-reporter.ts'],
  ],
};
