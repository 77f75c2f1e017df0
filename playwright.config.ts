/**
 * The project graph mirrors the runbook (CONTRACT 8):
 *
 *   preflight (setup, records the start of the run) ──► runbook (the happy path, then the negative paths)
 *        └── teardown: after (verification, then rollback; one worker, in file order)
 *
 * Few projects on purpose: every project starts its own worker processes, about a second each on
 * two cores, and a worker that finishes one project's tests cannot take another's. The funnel and
 * the negative paths share one project, so the worker that ran the funnel goes on with the negative
 * paths instead of a new worker starting (bench: 2 s of a 30 s run). They are independent tests
 * and spread over both workers; the funnel's file comes first, so it starts at once. A test
 * that needs the shared platform pool alone holds the built-in `-exclusive-` lock instead of a
 * project of its own, so `--repeat-each` repeats every test and `--shard` can split the file.
 *
 * Config is validated before anything else: a bad value exits here, before a browser starts.
 */
import { randomBytes } from 'node:crypto';
import { defineConfig } from '@playwright/test';
import { ConfigError, isLoopbackUrl, loadConfig, type Config } from './helpers/config';
import { chooseChromium, hasVideoEncoder, OFFLINE_CHROMIUM_ARGS } from './helpers/browser';
import { stackStartCommand, stackStartEnv } from './helpers/run/stack-start';

function validatedConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) console.error(`config: ${problem}`);
      console.error('config: fix the variables above (see .env.example); no test was run');
      process.exit(2);
    }
    throw error;
  }
}

const config = validatedConfig();

// One id for the whole run, inherited by every worker process (they are forked after this runs).
process.env.E2E_RUN_ID ??= `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;

// MAX_INSTANCES_PER_RUN is per repetition: asking for --repeat-each=N asks for N funnels' instances.
const repeatArg = process.argv.findIndex((a) => a === '--repeat-each' || a.startsWith('--repeat-each='));
if (repeatArg >= 0) {
  const value = process.argv[repeatArg]!.includes('=') ? process.argv[repeatArg]!.split('=')[1] : process.argv[repeatArg + 1];
  if (value && /^\d+$/.test(value)) process.env.E2E_REPEAT_EACH = value;
}

const browser = chooseChromium(config.CHROMIUM_PATH, { headless: !config.HEADED });
if (browser.kind === 'none') {
  console.error('config: no Chromium found: run `npm run bootstrap` (installs Debian chromium) or set CHROMIUM_PATH');
  process.exit(2);
}
const executablePath = browser.kind === 'bundled' ? undefined : browser.executablePath;

// The reference stack is started for the run only when the target is the local default.
const startStack = config.START_STACK === 'auto' && isLoopbackUrl(config.BASE_URL) && config.isLocalTarget;

export default defineConfig({
  testDir: './tests',
  outputDir: 'test-results/artifacts',
  timeout: config.TEST_TIMEOUT_MS,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Two, not Playwright's default of half the cores: the tests mostly wait on the stack, so a
  // 2-core machine runs two of them side by side (26 s vs 40+ s for the whole runbook here).
  workers: 2,
  reporter: [
    ['list'],
    ['html', { outputFolder: 'playwright-report', open: 'never' }],
    ['junit', { outputFile: 'test-results/junit.xml' }],
    ['json', { outputFile: 'test-results/results.json' }],
    // What the run created and cleaned up, printed at the end.
    ['./reporters/run-summary-reporter.ts'],
    // Last, so it scans what the reporters above have written.
    ['./reporters/secret-scan-reporter.ts'],
  ],
  use: {
    baseURL: config.BASE_URL,
    headless: !config.HEADED,
    // The runner, two browsers and the stack share two cores, so CPU is the suite's limit: the
    // trace keeps a DOM snapshot of every action but no screencast (~9% of a run's wall time),
    // and pages are asked for reduced motion, so no spinner animates while a test waits.
    reducedMotion: 'reduce',
    trace: { mode: 'retain-on-failure', screenshots: false },
    screenshot: 'only-on-failure',
    // Playwright records video with its own ffmpeg build, which only `playwright install` brings.
    video: hasVideoEncoder() ? 'retain-on-failure' : 'off',
    actionTimeout: 15_000,
    navigationTimeout: 20_000,
    launchOptions: { executablePath, args: [...OFFLINE_CHROMIUM_ARGS, ...config.CHROMIUM_ARGS] },
  },
  projects: [
    { name: 'preflight', testMatch: /preflight\.setup\.ts/, teardown: 'after' },
    { name: 'runbook', testMatch: /(activation-funnel|negative-paths)\.spec\.ts/, dependencies: ['preflight'], fullyParallel: true },
    { name: 'after', testMatch: /after-run\.teardown\.ts/, workers: 1 },
  ],
  webServer: startStack
    ? {
        // Refused (a command that says why) over a database that is not the stack's own.
        command: stackStartCommand(config),
        env: stackStartEnv(config.DATABASE_URL),
        url: `${config.BASE_URL}/up`,
        reuseExistingServer: true,
        timeout: 120_000,
        stdout: 'ignore',
        stderr: 'pipe',
        gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      }
    : undefined,
});
