/**
 * The project graph mirrors the runbook (CONTRACT.md section 8):
 *
 *   preflight (setup) ──► run (records the start) ──► funnel, negative
 *        │                      └── teardown: verification (runs once funnel and negative are done)
 *        └── teardown: rollback (runs last)
 *
 * A teardown project cannot have a teardown of its own (Playwright skips both), hence the `run`
 * setup in between. Tests that need the shared platform pool alone hold the built-in `-exclusive-`
 * lock instead of a project of their own, so `--repeat-each` repeats every test.
 *
 * Config is validated before anything else: a bad value exits here, before a browser starts.
 */
import { randomBytes } from 'node:crypto';
import { defineConfig } from '@playwright/test';
import { ConfigError, isLoopbackUrl, loadConfig, type Config } from './helpers/config';
import { chooseChromium, hasVideoEncoder, OFFLINE_CHROMIUM_ARGS } from './helpers/browser';

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

const browser = chooseChromium(config.CHROMIUM_PATH);
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
  timeout: 60_000 + config.PROVISION_TIMEOUT_MS,
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
    // Last, so it scans what the reporters above have written.
    ['./reporters/secret-scan-reporter.ts'],
  ],
  use: {
    baseURL: config.BASE_URL,
    headless: !config.HEADED,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    // Playwright records video with its own ffmpeg build, which only `playwright install` brings.
    video: hasVideoEncoder() ? 'retain-on-failure' : 'off',
    actionTimeout: 15_000,
    navigationTimeout: 20_000,
    launchOptions: { executablePath, args: OFFLINE_CHROMIUM_ARGS },
  },
  projects: [
    { name: 'preflight', testMatch: /preflight\.setup\.ts/, teardown: 'rollback' },
    { name: 'run', testMatch: /run\.setup\.ts/, dependencies: ['preflight'], teardown: 'verification' },
    { name: 'funnel', testMatch: /activation-funnel\.spec\.ts/, dependencies: ['run'] },
    { name: 'negative', testMatch: /negative-paths\.spec\.ts/, dependencies: ['run'] },
    { name: 'verification', testMatch: /verification\.teardown\.ts/ },
    { name: 'rollback', testMatch: /rollback\.teardown\.ts/ },
  ],
  webServer: startStack
    ? {
        command: 'npm run stack --silent',
        url: `${config.BASE_URL}/up`,
        reuseExistingServer: true,
        timeout: 120_000,
        stdout: 'ignore',
        stderr: 'pipe',
        gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
      }
    : undefined,
});
