/**
 * Measures the reference stack: cold start (nothing running, a fresh STACK_DIR → every part
 * healthy), median of 3, and the peak memory of all its processes together (orchestrator,
 * children, Postgres and its backends) sampled every 100 ms from /proc while the API smoke runs.
 * Each run uses its own throwaway STACK_DIR; addresses come from the environment like the stack's.
 *
 *   npm run measure:stack        targets: cold start < 5 s, peak RSS < 600 MB
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { portOf, type StackConfig } from '../lib/config';
import { REFERENCE_DIR } from '../stack/paths';
import { databaseTarget } from '../stack/postgres';
import { portInUse, sleep } from '../stack/probe';
import { loadStackConfig } from '../stack/stack-config';

const RUNS = 3;
const COLD_START_TARGET_MS = 5_000;
const RSS_TARGET_MB = 600;
const SAMPLE_EVERY_MS = 100;

type Tree = { pids: number[]; rssKb: number; pssKb: number };

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses; the fields after the last ')' do not.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function kbField(text: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

/** Every live descendant of `root` (and root), with their summed RSS and PSS. */
function sampleTree(root: number): Tree {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = ppidOf(pid);
    if (ppid === undefined) continue;
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const pids: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    pids.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  let rssKb = 0;
  let pssKb = 0;
  for (const pid of pids) {
    try {
      rssKb += kbField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      pssKb += kbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
    } catch {
      // Exited between the listing and the read.
    }
  }
  return { pids, rssKb, pssKb };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type RunningStack = { process: ChildProcess; readyMs: number; reportedMs: number; output: string[] };

async function startStack(stackDir: string): Promise<RunningStack> {
  const began = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REFERENCE_DIR, 'stack', 'main.ts')], {
    cwd: REFERENCE_DIR,
    env: { ...process.env, STACK_DIR: stackDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const onLine = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      const ready = /stack ready in (\d+) ms/.exec(text);
      if (ready) resolve({ process: child, readyMs: performance.now() - began, reportedMs: Number(ready[1]), output });
    };
    child.stdout.on('data', onLine);
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.once('exit', (code) => reject(new Error(`the stack exited with code ${code} before it was ready:\n${output.join('')}`)));
  });
}

/** SIGTERM the orchestrator; returns how long the whole tree took to go, and any leftovers. */
async function stopStack(stack: RunningStack): Promise<{ stopMs: number; leftovers: number[] }> {
  const pid = stack.process.pid!;
  const tree = sampleTree(pid).pids;
  const began = performance.now();
  stack.process.kill('SIGTERM');
  const deadline = Date.now() + 15_000;
  while (tree.some(alive) && Date.now() < deadline) await sleep(50);
  return { stopMs: performance.now() - began, leftovers: tree.filter(alive) };
}

async function runSmoke(): Promise<{ code: number; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REFERENCE_DIR, 'scripts', 'smoke-api.ts')], {
    cwd: REFERENCE_DIR,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { code, output };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function portsBusy(config: StackConfig): Promise<number[]> {
  const ports = [config.baseUrl, config.vultrApiUrl, config.stripeApiBase, config.workerHealthUrl].map(portOf);
  if (config.embeddedDatabase) ports.push(databaseTarget(config.databaseUrl).port);
  const busy = await Promise.all(ports.map(async (p) => ((await portInUse(p)) ? p : undefined)));
  return busy.filter((p): p is number => p !== undefined);
}

async function main(): Promise<number> {
  const config = loadStackConfig();
  const busy = await portsBusy(config);
  if (busy.length > 0) {
    console.error(`measure: ports ${busy.join(', ')} are in use; a cold start needs nothing running there`);
    return 1;
  }
  const root = join(tmpdir(), `m1-measure-${process.pid}`);
  const startTimes: number[] = [];
  let failed = false;
  let peak: Tree = { pids: [], rssKb: 0, pssKb: 0 };
  let smokeCode = 0;
  try {
    for (let run = 1; run <= RUNS; run++) {
      const stackDir = join(root, `run-${run}`);
      // Created world-traversable: Postgres runs as its own user when we are root.
      mkdirSync(stackDir, { recursive: true, mode: 0o755 });
      const stack = await startStack(stackDir);
      startTimes.push(stack.readyMs);
      console.log(`run ${run}: ready in ${Math.round(stack.readyMs)} ms (orchestrator reports ${stack.reportedMs} ms)`);

      if (run === RUNS) {
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            const sample = sampleTree(stack.process.pid!);
            if (sample.rssKb > peak.rssKb) peak = sample;
            await sleep(SAMPLE_EVERY_MS);
          }
        })();
        const smoke = await runSmoke();
        sampling = false;
        await sampler;
        smokeCode = smoke.code;
        console.log(smoke.output.trimEnd().replace(/^/gm, '  | '));
      }

      const stopped = await stopStack(stack);
      console.log(`run ${run}: stopped in ${Math.round(stopped.stopMs)} ms; leftover processes: ${stopped.leftovers.length === 0 ? 'none' : stopped.leftovers.join(', ')}`);
      if (stopped.leftovers.length > 0) failed = true;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const cold = median(startTimes);
  const rssMb = peak.rssKb / 1024;
  console.log('');
  console.log(`cold start (median of ${RUNS}): ${Math.round(cold)} ms [${startTimes.map(Math.round).join(', ')}]  target < ${COLD_START_TARGET_MS} ms: ${cold < COLD_START_TARGET_MS ? 'met' : 'MISSED'}`);
  console.log(
    `peak memory during the smoke: RSS ${rssMb.toFixed(0)} MB (PSS ${(peak.pssKb / 1024).toFixed(0)} MB) over ${peak.pids.length} processes  target < ${RSS_TARGET_MB} MB: ${rssMb < RSS_TARGET_MB ? 'met' : 'MISSED'}`,
  );
  console.log(`smoke: ${smokeCode === 0 ? 'passed' : `FAILED (exit ${smokeCode})`}`);
  return failed || smokeCode !== 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`measure: ${(error as Error).message}`);
    process.exit(1);
  },
);
