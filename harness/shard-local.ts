/**
 * `npm run test:shards`: the CI fleet's sharding, proven on one machine. Two shards
 * (`--shard=1/2`, `--shard=2/2`) run side by side, each with `--reporter=blob` into its own
 * directory (PLAYWRIGHT_BLOB_OUTPUT_DIR) and each against its own reference stack (ports
 * 4201-4205 and 4211-4215, state under the OS temp dir); then
 * `playwright merge-reports --config .ci/merge-reports.config.ts` makes one report of them.
 *
 * Why a stack per shard, not one shared: the suite's two `-exclusive-` tests switch off the shared
 * platform-pool credential and count Vultr create calls; Playwright's lock holds within one run
 * only, so against a shared stack the other shard's funnel would approve while the pool is off. In
 * CI each shard is its own machine with its own stack; two stacks are what that looks like here.
 *
 * It passes when the merged JSON report holds every test of the suite (`--list`) exactly as often
 * as Playwright plans it (`--list --shard=i/2`: a sharded test once; a setup or teardown test once
 * per shard that needs it, since a shard runs the projects its tests depend on), every shard has
 * tests of its own, and every test passed. Exit 1 otherwise, 2 on a bad flag. It stops every stack
 * and process it started, by id, whatever happens.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { busyPorts } from '@m1/reference/probe';
import { DEFAULT_VULTR_BOOT_DELAY_MS, forgetClusters } from '@m1/reference/stack';
import { configFile, parseCommandLine, runWhenInvoked, startCli, UsageError } from './lib/cli';
import { ROOT, runPlaywright } from './lib/playwright-run';
import { readSuiteReport, type SuiteReport } from './lib/report';
import { stopAllOnSignal, tail } from './lib/processes';
import { TreeSampler } from './lib/sampler';
import { portList, startStack, stopStack, suiteEnv, type Ports, type RunningStack } from './lib/stack';

export const SHARD_PORTS: Ports[] = [
  { base: 4201, vultr: 4202, stripe: 4203, worker: 4204, postgres: 4205 },
  { base: 4211, vultr: 4212, stripe: 4213, worker: 4214, postgres: 4215 },
];
/** The emulator's default, set explicitly so a .env cannot slow the shards down. */
const BOOT_DELAY = { set: { VULTR_BOOT_DELAY_MS: String(DEFAULT_VULTR_BOOT_DELAY_MS) } };
const MERGE_CONFIG = '.ci/merge-reports.config.ts';
const SHARD_TIMEOUT_MS = 600_000;
const STEP_TIMEOUT_MS = 120_000;

export const USAGE = `usage: npm run test:shards -- [--config=file] [--help]

Runs the suite as two shards side by side, each against its own reference stack (ports
${SHARD_PORTS.map((p) => `${p.base}-${p.postgres}`).join(' and ')}), merges their blob reports with ${MERGE_CONFIG}, and checks
that the merged report holds every test as often as Playwright plans it and that all passed.

  --config=file  the Playwright config to shard (default: playwright.config.ts), e.g. a proposed change
  --help         this text`;

export { UsageError };

export type ShardOptions = { config: string; help: boolean };

export function parseShardArgs(argv: string[]): ShardOptions {
  const values = parseCommandLine(argv, { config: { type: 'string' } }, { config: 'playwright.config.ts' });
  return { config: configFile(values.config ?? 'playwright.config.ts'), help: values.help ?? false };
}

// ───────────────────────────────────────────────────────────────────── the checks

const count = (keys: string[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());

/**
 * A test's identity across reports: project, file and title. The line is left out on purpose:
 * the merged report names files relative to the merge config's testDir, which could differ from
 * the run's, so the file is reduced to its path below the tests directory.
 */
export function testIdentity(report: SuiteReport): string[] {
  return report.tests.map((t) => `${t.project} › ${t.file.replace(/^(\.\.\/)*(tests\/)?/, '')} › ${t.title}`);
}

export type ShardCheck = {
  ok: boolean;
  problems: string[];
  suiteTests: number;
  shards: { planned: number; own: number; shared: number }[];
  mergedTests: number;
  passed: number;
};

/**
 * The merged report against Playwright's own plan: `full` is `--list`, `shards[i]` is
 * `--list --shard=i+1/n`, `merged` is the merged JSON. A test planned in one shard only is a
 * sharded test and must appear exactly once; a test planned in several (a setup or teardown
 * project a shard depends on) appears once per shard.
 */
export function checkMerged(full: string[], shards: string[][], merged: SuiteReport): ShardCheck {
  const problems: string[] = [];
  const mergedKeys = count(testIdentity(merged));
  const planned = new Map<string, number>();
  for (const shard of shards) for (const key of new Set(shard)) planned.set(key, (planned.get(key) ?? 0) + 1);
  const suite = new Set(full);

  for (const key of suite) {
    const times = planned.get(key) ?? 0;
    const seen = mergedKeys.get(key) ?? 0;
    if (times === 0) problems.push(`no shard plans "${key}"`);
    if (seen === 0) problems.push(`missing from the merged report: "${key}"`);
    else if (seen !== times) problems.push(`"${key}" is in the merged report ${seen} times, planned ${times === 1 ? 'once (a sharded test)' : `${times} times (once per shard)`}`);
  }
  for (const key of mergedKeys.keys()) if (!suite.has(key)) problems.push(`in the merged report but not in the suite (--list): "${key}"`);

  const shardSummaries = shards.map((keys, i) => {
    const own = keys.filter((k) => planned.get(k) === 1).length;
    if (own === 0) problems.push(`shard ${i + 1}/${shards.length} has no test of its own (it would only repeat setup and teardown): the suite does not split`);
    return { planned: keys.length, own, shared: keys.length - own };
  });

  const notPassed = merged.tests.filter((t) => t.outcome !== 'expected' || t.results.at(-1)?.status !== 'passed');
  for (const t of notPassed) problems.push(`did not pass: ${t.project} › ${t.title} (${t.results.at(-1)?.status ?? 'no result'})`);
  return {
    ok: problems.length === 0,
    problems,
    suiteTests: suite.size,
    shards: shardSummaries,
    mergedTests: merged.tests.length,
    passed: merged.tests.length - notPassed.length,
  };
}

/** A config's `reporter`: a name, or a list of [name, options] (Playwright's ReporterDescription). */
type ReporterSetting = string | [string, Record<string, unknown>?][];

/**
 * Where a merge config writes, against where the CI workflow uploads from (playwright-report/
 * and test-results/junit.xml at the repository root). Playwright resolves a reporter's
 * outputFolder/outputFile against the config file's directory, not the working directory.
 */
export function mergeConfigProblems(config: { reporter?: ReporterSetting }, configDir: string, root: string): string[] {
  const wanted: Record<string, { option: string; path: string }> = {
    html: { option: 'outputFolder', path: join(root, 'playwright-report') },
    junit: { option: 'outputFile', path: join(root, 'test-results', 'junit.xml') },
  };
  const entries: [string, Record<string, unknown>?][] = config.reporter === undefined ? [] : typeof config.reporter === 'string' ? [[config.reporter]] : config.reporter;
  const problems: string[] = [];
  for (const [name, want] of Object.entries(wanted)) {
    const entry = entries.find(([n]) => n === name);
    if (!entry) {
      problems.push(`no ${name} reporter: the CI merge job uploads ${relative(root, want.path)}`);
      continue;
    }
    const value = entry[1]?.[want.option];
    if (typeof value !== 'string') continue;
    const actual = resolve(configDir, value);
    if (actual !== want.path) {
      problems.push(
        `${name} ${want.option} '${value}' resolves against the config's directory to ${relative(root, actual)}, but the CI merge job uploads ${relative(root, want.path)}: write '${relative(configDir, want.path)}'`,
      );
    }
  }
  return problems;
}

// ───────────────────────────────────────────────────────────────────── running it

async function runTo(label: string, args: string[], options: { env: NodeJS.ProcessEnv; log: string; timeoutMs: number }): Promise<{ code: number | null; ms: number; problem?: string }> {
  const run = await runPlaywright({ label, args, cwd: ROOT, env: options.env, log: options.log, timeoutMs: options.timeoutMs, sampler: new TreeSampler({}).start() });
  return { code: run.exit?.code ?? null, ms: run.ms, ...(run.problem ? { problem: run.problem } : {}) };
}

function readReport(path: string): SuiteReport {
  if (!existsSync(path)) throw new Error(`no JSON report at ${path}`);
  return readSuiteReport(JSON.parse(readFileSync(path, 'utf8')));
}

async function main(argv: string[]): Promise<number> {
  const start = startCli('shard-local', argv, parseShardArgs, USAGE, ROOT);
  if ('exitCode' in start) return start.exitCode;
  const { configPath: config } = start;
  const say = (line: string) => console.log(`shard-local: ${line}`);
  const busy = await busyPorts(SHARD_PORTS.flatMap(portList));
  if (busy.length > 0) {
    console.error(`shard-local: ports ${busy.join(', ')} are in use (a bench or another shard run?); free them first`);
    return 1;
  }
  stopAllOnSignal('shard-local');
  const work = mkdtempSync(join(tmpdir(), 'm1-shards-'));
  say(`work dir ${work}`);
  const total = SHARD_PORTS.length;
  const stacks: RunningStack[] = [];
  const problems: string[] = [];

  try {
    const started = await Promise.allSettled(
      SHARD_PORTS.map((ports, i) => startStack({ ports, dir: join(work, `stack-${i + 1}`), log: join(work, `stack-${i + 1}.log`), env: BOOT_DELAY })),
    );
    for (const outcome of started) if (outcome.status === 'fulfilled') stacks.push(outcome.value);
    const failedStart = started.find((o) => o.status === 'rejected');
    if (failedStart) throw (failedStart).reason;
    say(`stacks healthy: ${stacks.map((s, i) => `#${i + 1} ports ${s.ports.base}-${s.ports.postgres} in ${(s.readyMs / 1000).toFixed(1)} s`).join(', ')}`);

    const envOf = (i: number) => suiteEnv(process.env, SHARD_PORTS[i]!, join(work, `stack-${i + 1}`));
    const listArgs = (shard?: number) => ['test', '-c', config, '--list', '--reporter=json', ...(shard ? [`--shard=${shard}/${total}`] : [])];
    const lists = await Promise.all(
      [undefined, ...SHARD_PORTS.map((_, i) => i + 1)].map(async (shard) => {
        const file = join(work, `list${shard ? `-${shard}` : ''}.json`);
        const run = await runTo(`--list${shard ? ` --shard=${shard}/${total}` : ''}`, listArgs(shard), {
          env: { ...envOf(0), PLAYWRIGHT_JSON_OUTPUT_FILE: file },
          log: join(work, `list${shard ? `-${shard}` : ''}.log`),
          timeoutMs: STEP_TIMEOUT_MS,
        });
        if (run.code !== 0) throw new Error(`playwright test --list failed (exit ${run.code}): ${tail(join(work, `list${shard ? `-${shard}` : ''}.log`), 3)}`);
        return testIdentity(readReport(file));
      }),
    );
    const [full, ...planned] = lists as [string[], ...string[][]];
    say(`the suite lists ${full.length} tests; planned per shard: ${planned.map((p, i) => `${i + 1}/${total}: ${p.length}`).join(', ')}`);

    const shardRuns = await Promise.all(
      SHARD_PORTS.map((_, i) =>
        runTo(`shard ${i + 1}/${total}`, ['test', '-c', config, `--shard=${i + 1}/${total}`, '--reporter=blob', `--output=${join(work, `shard-${i + 1}`, 'test-results')}`], {
          env: { ...envOf(i), PLAYWRIGHT_BLOB_OUTPUT_DIR: join(work, `shard-${i + 1}`, 'blob-report') },
          log: join(work, `shard-${i + 1}.log`),
          timeoutMs: SHARD_TIMEOUT_MS,
        }),
      ),
    );
    shardRuns.forEach((run, i) => {
      say(`shard ${i + 1}/${total}: exit ${run.code} in ${(run.ms / 1000).toFixed(1)} s (log ${join(work, `shard-${i + 1}.log`)})`);
      if (run.problem) problems.push(run.problem);
      if (run.code !== 0) problems.push(`shard ${i + 1}/${total} exited ${run.code}: ${tail(join(work, `shard-${i + 1}.log`), 3)}`);
    });

    // merge-reports takes one directory holding every shard's blob.
    const blobs = join(work, 'all-blob-reports');
    mkdirSync(blobs, { recursive: true });
    for (let i = 1; i <= total; i++) {
      const dir = join(work, `shard-${i}`, 'blob-report');
      const zips = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.zip')) : [];
      if (zips.length === 0) problems.push(`shard ${i}/${total} wrote no blob report in ${dir}`);
      for (const zip of zips) copyFileSync(join(dir, zip), join(blobs, zip));
    }

    // As written, the merge config would write under .ci/ (see mergeConfigProblems): the
    // outputs are pointed into the work dir so this check never writes into the checkout.
    const mergeConfig = join(ROOT, MERGE_CONFIG);
    const mergeModule = (await import(pathToFileURL(mergeConfig).href)) as { default: { reporter?: ReporterSetting } };
    const configProblems = mergeConfigProblems(mergeModule.default, dirname(mergeConfig), ROOT);
    for (const p of configProblems) say(`note: ${MERGE_CONFIG}: ${p}`);
    const merged = join(work, 'merged');
    const mergeRun = await runTo('merge-reports', ['merge-reports', '--config', MERGE_CONFIG, blobs], {
      env: {
        ...envOf(0),
        PLAYWRIGHT_JSON_OUTPUT_FILE: join(merged, 'merged.json'),
        PLAYWRIGHT_JUNIT_OUTPUT_FILE: join(merged, 'junit.xml'),
        PLAYWRIGHT_HTML_OUTPUT_DIR: join(merged, 'playwright-report'),
      },
      log: join(work, 'merge.log'),
      timeoutMs: STEP_TIMEOUT_MS,
    });
    if (mergeRun.code !== 0) problems.push(`merge-reports exited ${mergeRun.code}: ${tail(join(work, 'merge.log'), 3)}`);
    for (const artifact of ['merged.json', 'junit.xml', join('playwright-report', 'index.html')]) {
      if (!existsSync(join(merged, artifact))) problems.push(`merge-reports wrote no ${artifact}`);
    }
    if (existsSync(join(merged, 'merged.json'))) {
      const check = checkMerged(full, planned, readReport(join(merged, 'merged.json')));
      problems.push(...check.problems);
      say(
        `merged report: ${check.mergedTests} results for ${check.suiteTests} tests, ${check.passed} passed; ${check.shards
          .map((s, i) => `shard ${i + 1}: ${s.own} of its own + ${s.shared} setup/teardown`)
          .join(', ')}`,
      );
      say(`merged HTML report: ${join(merged, 'playwright-report')}; JUnit: ${join(merged, 'junit.xml')}`);
    }
  } catch (error) {
    problems.push((error as Error).message);
  } finally {
    for (const [i, stack] of stacks.entries()) {
      const stop = await stopStack(stack);
      if (!stop.clean) problems.push(`stopping stack ${i + 1}: ${stop.how}`);
      // The databases are the bulk of the work dir and tell nothing afterwards.
      forgetClusters(stack.dir, { everything: false });
    }
  }
  for (const problem of problems) console.error(`shard-local: FAIL: ${problem}`);
  say(problems.length === 0 ? 'sharding proven: every test ran as planned, exactly once where sharded, and passed' : `${problems.length} problem(s)`);
  return problems.length === 0 ? 0 : 1;
}

runWhenInvoked('shard-local', import.meta.url, main);
