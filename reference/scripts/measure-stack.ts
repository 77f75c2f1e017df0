/**
 * Measures the reference stack, three runs each from nothing running and a fresh STACK_DIR: cold
 * start (→ every part healthy), then the API smoke while the memory of all the stack's processes
 * together (orchestrator, children, Postgres and its backends) is sampled every 100 ms from /proc.
 * Reports medians: cold start, peak summed RSS (with the processes of a median run), and the API
 * p95 as the smoke measures it, plus the API's own timings from its backend.log with and without
 * the /auth/ calls, whose scrypt is slow on purpose. Addresses come from the environment like the
 * stack's.
 *
 *   npm run measure:stack        targets: cold start < 5 s, peak RSS < 600 MB, API p95 < 50 ms */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { portOf, type StackConfig } from '../lib/config';
import { REFERENCE_DIR } from '../stack/paths';
import { databaseTarget } from '../stack/postgres';
import { busyPorts, sleep } from '../stack/probe';
import { loadStackConfig } from '../stack/stack-config';

const RUNS = 3;
const COLD_START_TARGET_MS = 5_000;
const RSS_TARGET_MB = 600;
const LATENCY_TARGET_MS = 50;
const SAMPLE_EVERY_MS = 100;

type Member = { pid: number; label: string; rssKb: number };
type Tree = { pids: number[]; rssKb: number; pssKb: number; members: Member[] };

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

/** A short name for a process of the stack: the script it runs, or Postgres's own process title. */
function labelOf(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (argv[0]?.startsWith('postgres:')) return argv[0];
    // `sh -c <script> <name> ...`: the name says what the shell is for.
    if (argv[0]?.endsWith('sh') && argv[1] === '-c') return `sh ${argv[3] ?? ''}`.trim();
    const script = argv.slice(1).find((a) => !a.startsWith('-') && /\.(ts|mjs|js)$/.test(a));
    if (script) return `node ${script.split('/').slice(-2).join('/')}`;
    return argv.map((a) => a.split('/').at(-1)).join(' ').slice(0, 60);
  } catch {
    return '?';
  }
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
  const members: Member[] = [];
  for (const pid of pids) {
    try {
      const rss = kbField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS');
      pssKb += kbField(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
      rssKb += rss;
      members.push({ pid, label: '', rssKb: rss });
    } catch {
      // Exited between the listing and the read.
    }
  }
  return { pids, rssKb, pssKb, members };
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
  return busyPorts(ports);
}

/** p95 as the smoke computes it: the value at rank ceil(0.95 n). */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * 0.95) - 1)] ?? 0;
}

type ServerTimes = { all: number; withoutAuth: number; calls: number; slowest: string };

/** The API's own timings of the smoke's calls (its backend.log), with and without /auth/ (scrypt). */
function serverTimes(stackDir: string): ServerTimes | undefined {
  let lines: { url?: string; method?: string; responseTime?: number }[];
  try {
    lines = readFileSync(join(stackDir, 'logs', 'backend.log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { url?: string; responseTime?: number });
  } catch {
    return undefined;
  }
  const calls = lines.filter((l) => l.url?.startsWith('/api/') && typeof l.responseTime === 'number');
  if (calls.length === 0) return undefined;
  const slowest = [...calls].sort((a, b) => b.responseTime! - a.responseTime!).slice(0, 3);
  return {
    all: p95(calls.map((c) => c.responseTime!)),
    withoutAuth: p95(calls.filter((c) => !c.url!.startsWith('/api/v1/auth/')).map((c) => c.responseTime!)),
    calls: calls.length,
    slowest: slowest.map((c) => `${c.method} ${c.url!.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')} ${c.responseTime!.toFixed(0)} ms`).join(', '),
  };
}

const round = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(', ');

async function main(): Promise<number> {
  const config = loadStackConfig();
  const busy = await portsBusy(config);
  if (busy.length > 0) {
    console.error(`measure: ports ${busy.join(', ')} are in use; a cold start needs nothing running there`);
    return 1;
  }
  const root = join(tmpdir(), `m1-measure-${process.pid}`);
  const startTimes: number[] = [];
  const peaks: Tree[] = [];
  const clientP95: number[] = [];
  const server: ServerTimes[] = [];
  let failed = false;
  let smokeFailures = 0;
  try {
    for (let run = 1; run <= RUNS; run++) {
      const stackDir = join(root, `run-${run}`);
      // Created world-traversable: Postgres runs as its own user when we are root.
      mkdirSync(stackDir, { recursive: true, mode: 0o755 });
      const stack = await startStack(stackDir);
      startTimes.push(stack.readyMs);
      console.log(`run ${run}: ready in ${Math.round(stack.readyMs)} ms (orchestrator reports ${stack.reportedMs} ms)`);

      let peak: Tree = { pids: [], rssKb: 0, pssKb: 0, members: [] };
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const sample = sampleTree(stack.process.pid!);
          if (sample.rssKb > peak.rssKb) {
            // Labelled only at a new peak: reading every cmdline each 100 ms would cost more than it tells.
            for (const member of sample.members) member.label = labelOf(member.pid);
            peak = sample;
          }
          await sleep(SAMPLE_EVERY_MS);
        }
      })();
      const smoke = await runSmoke();
      sampling = false;
      await sampler;
      peaks.push(peak);
      if (smoke.code !== 0) smokeFailures += 1;
      const latency = /p95 ([\d.]+) ms/.exec(smoke.output);
      if (latency) clientP95.push(Number(latency[1]));
      const times = serverTimes(stackDir);
      if (times) server.push(times);
      // The whole output once, and always when it failed; a summary line otherwise.
      if (run === RUNS || smoke.code !== 0) console.log(smoke.output.trimEnd().replace(/^/gm, '  | '));
      console.log(
        `run ${run}: smoke ${smoke.code === 0 ? 'passed' : 'FAILED'}, peak RSS ${(peak.rssKb / 1024).toFixed(0)} MB, API p95 ${latency?.[1] ?? '?'} ms` +
          (times ? ` (server side: ${times.all.toFixed(1)} ms, without /auth/ ${times.withoutAuth.toFixed(1)} ms; slowest: ${times.slowest})` : ''),
      );

      const stopped = await stopStack(stack);
      console.log(`run ${run}: stopped in ${Math.round(stopped.stopMs)} ms; leftover processes: ${stopped.leftovers.length === 0 ? 'none' : stopped.leftovers.join(', ')}`);
      if (stopped.leftovers.length > 0) failed = true;
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const cold = median(startTimes);
  const peakMb = peaks.map((p) => p.rssKb / 1024);
  const rssMb = median(peakMb);
  const typical = peaks.find((p) => p.rssKb / 1024 === rssMb)!;
  const p95Client = median(clientP95);
  console.log('');
  console.log(`cold start (median of ${RUNS}): ${Math.round(cold)} ms [${round(startTimes)}]  target < ${COLD_START_TARGET_MS} ms: ${cold < COLD_START_TARGET_MS ? 'met' : 'MISSED'}`);
  console.log(
    `peak memory during the smoke (median of ${RUNS}): RSS ${rssMb.toFixed(0)} MB [${round(peakMb)}] (PSS ${(typical.pssKb / 1024).toFixed(0)} MB) over ${typical.pids.length} processes  target < ${RSS_TARGET_MB} MB: ${rssMb < RSS_TARGET_MB ? 'met' : 'MISSED'}`,
  );
  for (const member of [...typical.members].sort((a, b) => b.rssKb - a.rssKb)) {
    console.log(`  ${(member.rssKb / 1024).toFixed(0).padStart(5)} MB  ${member.label}`);
  }
  console.log(
    `API p95 as the smoke measures it (median of ${clientP95.length}): ${p95Client.toFixed(1)} ms [${round(clientP95, 1)}]  target < ${LATENCY_TARGET_MS} ms: ${p95Client < LATENCY_TARGET_MS ? 'met' : 'MISSED'}`,
  );
  if (server.length > 0) {
    console.log(
      `API p95 server side (median of ${server.length}): ${median(server.map((s) => s.all)).toFixed(1)} ms; without /auth/ (scrypt N=16384): ${median(server.map((s) => s.withoutAuth)).toFixed(1)} ms`,
    );
  }
  console.log(`smoke: ${smokeFailures === 0 ? 'passed' : `FAILED in ${smokeFailures} of ${RUNS} runs`}`);
  return failed || smokeFailures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`measure: ${(error as Error).message}`);
    process.exit(1);
  },
);
