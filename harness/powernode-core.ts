/**
 * `npm run test:powernode-core`: the suite once, whole, with TARGET_PROFILE=powernode-core, against
 * a fresh reference stack with all twelve public Powernode variants on (CONTRACT 9): the profile a
 * QA engineer copies for a real Powernode must pass where the reference behaves like it. CI runs it
 * beside the default run (.ci/test-all.mjs).
 *
 * Its own ports (4911-4914, Postgres 54911), and its own STACK_DIR and STACK_PG_HOME in a temporary
 * folder, so it never touches the checkout's .stack or another stack's data; the folder goes at the
 * end. Playwright's JSON report lands in test-results/powernode-core.json for the CI summary.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { busyPorts } from '@m1/reference/probe';
import { forgetClusters } from '@m1/reference/stack';
import { parseCommandLine, runWhenInvoked, startCli } from './lib/cli';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { readReportFile } from './lib/report';
import { portList, startStack, stopStack, suiteEnv, type Ports } from './lib/stack';
import { ALL_VARIANTS, allVariantsSettings } from './lib/variants';
import { writeWrapperConfig } from './lib/wrapper-config';
import { outcomeOf } from './selftest-report';

export const PORTS: Ports = { base: 4911, vultr: 4912, stripe: 4913, worker: 4914, postgres: 54911 };

const SUITE_TIMEOUT_MS = 240_000;
const RESULTS = join(ROOT, 'test-results', 'powernode-core.json');
const ARTIFACTS = join(ROOT, 'test-results', 'powernode-core');

export const USAGE = `usage: npx tsx harness/powernode-core.ts [--config=file] [--help]

Starts a fresh reference stack with every public Powernode variant on (ports ${PORTS.base}-${PORTS.worker},
Postgres ${PORTS.postgres}, its data in a temporary folder) and runs the whole suite against it with
TARGET_PROFILE=powernode-core and the reference stack's log and worker commands. Writes
${relative(ROOT, RESULTS)}; exits 1 unless every test ran and passed.

  --config=file  the Playwright config to run (default: playwright.config.ts)
  --help         this text`;

type Options = { config: string; help: boolean };

function parseFlags(argv: string[]): Options {
  const values = parseCommandLine(argv, { config: { type: 'string' } }, { config: 'playwright.config.ts' });
  return { config: values.config ?? 'playwright.config.ts', help: values.help ?? false };
}

const say = (line: string) => console.log(`powernode-core: ${line}`);

async function main(argv: string[]): Promise<number> {
  const start = startCli('powernode-core', argv, parseFlags, USAGE, ROOT);
  if ('exitCode' in start) return start.exitCode;
  const busy = await busyPorts(portList(PORTS));
  if (busy.length > 0) {
    console.error(`powernode-core: ports ${busy.join(', ')} are in use; this run needs ${PORTS.base}-${PORTS.worker} and ${PORTS.postgres} free`);
    return 1;
  }
  const began = Date.now();
  const workDir = mkdtempSync(join(tmpdir(), 'powernode-core-'));
  // Root runs Postgres as another OS user, which must reach STACK_PG_HOME inside this folder.
  chmodSync(workDir, 0o755);
  const stackDir = join(workDir, 'stack');
  const pgHome = join(workDir, 'pg');
  const stackEnvSet = { STACK_PG_HOME: pgHome };
  rmSync(ARTIFACTS, { recursive: true, force: true });
  rmSync(RESULTS, { force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const config = writeWrapperConfig(join(workDir, 'playwright.powernode-core.config.ts'), start.configPath ?? join(ROOT, 'playwright.config.ts'), {
    reporters: 'json',
    use: { video: 'off' },
    writtenBy: 'harness/powernode-core.ts',
  });

  let ok = false;
  try {
    say(`starting a fresh reference stack with all ${ALL_VARIANTS.length} variants (ports ${PORTS.base}-${PORTS.worker}, ${PORTS.postgres})`);
    const stack = await startStack({ ports: PORTS, dir: stackDir, log: join(workDir, 'stack.log'), fresh: true, variants: ALL_VARIANTS, env: { set: stackEnvSet } });
    try {
      say(`stack ready in ${(stack.readyMs / 1000).toFixed(1)} s; the suite with TARGET_PROFILE=powernode-core`);
      const env = suiteEnv(process.env, PORTS, stackDir, { set: { ...allVariantsSettings(stackDir), PLAYWRIGHT_JSON_OUTPUT_NAME: RESULTS } });
      const log = join(ARTIFACTS, 'playwright.log');
      const suite = await runPlaywright({ label: 'the suite', args: ['test', '-c', config, `--output=${join(ARTIFACTS, 'artifacts')}`], cwd: ROOT, env, log, timeoutMs: SUITE_TIMEOUT_MS });
      const read = readReportFile(RESULTS, { exit: suite.exit, log });
      if ('problem' in read) {
        say(`FAILED: ${read.problem}`);
      } else {
        const { counts, failures, skipped, errors } = outcomeOf(read.report);
        ok = counts.unexpected === 0 && counts.flaky === 0 && counts.skipped === 0 && counts.expected > 0 && errors.length === 0 && !suite.problem;
        say(`${counts.expected} passed, ${counts.unexpected} failed, ${counts.skipped} did not run (${(suite.ms / 1000).toFixed(1)} s)`);
        for (const f of failures) say(`failed: ${f.where}: ${f.error}`);
        for (const s of skipped) say(`did not run: ${s}`);
        for (const e of errors) say(`error: ${e}`);
        if (suite.problem) say(suite.problem);
        if (!ok) say(`the run's log and artifacts: ${relative(ROOT, ARTIFACTS)}`);
      }
    } finally {
      const stop = await stopStack(stack);
      if (!stop.clean) {
        ok = false;
        say(`the stack did not stop cleanly: ${stop.how}`);
      }
    }
  } catch (error) {
    say(`FAILED: ${(error as Error).message}`);
  } finally {
    forgetClusters(stackDir, { everything: true }, { ...process.env, ...stackEnvSet });
    rmSync(workDir, { recursive: true, force: true });
  }
  say(`${ok ? 'pass' : 'FAIL'} in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return ok ? 0 : 1;
}

runWhenInvoked('powernode-core', import.meta.url, main);
