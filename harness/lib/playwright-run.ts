/**
 * One Playwright command (a test run, a --list, a merge-reports) as a harness runs it: in a process
 * group of its own, bounded in time, and followed by a check that nothing it started outlives it:
 * what does is stopped by id and named.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { groupMembers } from './proc';
import { endGroup, exitedWithin, groupGoneWithin, signal, spawnLogged, type Exit, type Spawned } from './processes';
import type { RssPeak, TreeSampler } from './sampler';

/** The checkout the harnesses run from. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PLAYWRIGHT_CLI = join(ROOT, 'node_modules', '@playwright', 'test', 'cli.js');

export type PlaywrightRun = {
  exit: Exit | undefined;
  /** From the spawn to the exit. */
  ms: number;
  /** It ran out of time and was stopped. */
  timedOut: boolean;
  /** It ran out of time, or left processes behind. */
  problem: string | undefined;
  /** The sampler's figures, when one was passed. */
  peak: RssPeak | undefined;
};

export async function runPlaywright(options: {
  /** How problems name it: "the suite", "shard 1/2", "merge-reports". */
  label: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: string;
  timeoutMs: number;
  /** Samples the runner's tree (as `runner`) and is stopped when the run ends. */
  sampler?: TreeSampler;
  /** For a harness's own interrupt handler. */
  onSpawn?: (spawned: Spawned) => void;
}): Promise<PlaywrightRun> {
  const spawned = spawnLogged(process.execPath, [PLAYWRIGHT_CLI, ...options.args], { cwd: options.cwd, env: options.env, log: options.log });
  if (options.sampler) options.sampler.roots.runner = spawned.pid;
  options.onSpawn?.(spawned);
  const problems: string[] = [];
  const timedOut = !(await exitedWithin(spawned, options.timeoutMs));
  if (timedOut) {
    problems.push(`${options.label} ran longer than ${options.timeoutMs / 1000} s and was stopped`);
    await endGroup(spawned);
  }
  const ms = Math.round((spawned.exit?.at ?? performance.now()) - spawned.startedAt);
  const peak = options.sampler?.stop();
  // Playwright closes its browsers and workers as it ends; anything of its tree still alive would outlive the run.
  await groupGoneWithin(spawned.pid, 5_000);
  const left = [...new Set([...(options.sampler?.survivors('runner') ?? []), ...groupMembers(spawned.pid)])];
  for (const pid of left) signal(pid, 'SIGKILL');
  if (left.length > 0) problems.push(`${options.label} left processes behind, killed: ${left.join(', ')}`);
  return { exit: spawned.exit, ms, timedOut, problem: problems.length > 0 ? problems.join('; ') : undefined, peak };
}
