// Benchmarks the Vultr emulator: `npx tsx reference/emulators/vultr/bench.ts`.
// Human-readable lines first; the last stdout line is the JSON result.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startVultrEmulator } from './server';

const KEY = 'vk_bench';
const STARTS = 5;
const PROCESS_STARTS = 3;
const WARMUP_GETS = 50;
const MEASURED_GETS = 1_000;
// 1,000 back-to-back GETs are far above Vultr's 30 req/s, so the bench emulator lifts the limit.
const BENCH_RATE_LIMIT = 1_000_000;

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

async function untilHealthy(origin: string): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`${origin}/__emulator/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet: try again.
    }
  }
}

async function inProcessStartToReady(): Promise<number> {
  const startedAt = performance.now();
  const emulator = await startVultrEmulator({ port: 0, apiKeys: [KEY], rateLimitPerSecond: BENCH_RATE_LIMIT });
  await untilHealthy(new URL(emulator.url).origin);
  const elapsed = performance.now() - startedAt;
  await emulator.close();
  return elapsed;
}

// The whole `tsx main.ts` process, from spawn to its ready line: what the stack waits for.
function processStartToReady(stackDir: string): Promise<number> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const child = spawn(process.execPath, [tsx, main], {
      env: { PATH: process.env.PATH, VULTR_API_URL: 'http://127.0.0.1:0/v2', VULTR_EMULATOR_KEYS: KEY, STACK_DIR: stackDir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let elapsed: number | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (elapsed === undefined && chunk.toString().includes('vultr emulator ready on')) {
        elapsed = performance.now() - startedAt;
        child.kill('SIGTERM');
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (elapsed === undefined ? reject(new Error(`main.ts exited ${code} before it was ready`)) : resolve(elapsed)));
  });
}

async function getLatencies(): Promise<{ roundTrip: number[]; server: number[] }> {
  const emulator = await startVultrEmulator({ port: 0, apiKeys: [KEY], rateLimitPerSecond: BENCH_RATE_LIMIT, bootDelayMs: 0 });
  try {
    const headers = { authorization: `Bearer ${KEY}` };
    const created = await fetch(`${emulator.url}/instances`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'ewr', plan: 'vc2-1c-1gb', os_id: 2284, label: 'bench' }),
    });
    if (created.status !== 202) throw new Error(`create answered ${created.status}`);
    const { instance } = (await created.json()) as { instance: { id: string } };
    const url = `${emulator.url}/instances/${instance.id}`;
    const journal = `${new URL(emulator.url).origin}/__emulator/requests`;

    const latencies: number[] = [];
    for (let i = 0; i < WARMUP_GETS + MEASURED_GETS; i += 1) {
      if (i === WARMUP_GETS) await fetch(journal, { method: 'DELETE' });
      const startedAt = performance.now();
      const res = await fetch(url, { headers });
      await res.arrayBuffer();
      const elapsed = performance.now() - startedAt;
      if (res.status !== 200) throw new Error(`GET ${i} answered ${res.status}`);
      if (i >= WARMUP_GETS) latencies.push(elapsed);
    }
    // The journal's duration_ms is the time inside the emulator, without the client and the socket.
    const { requests } = (await (await fetch(journal)).json()) as { requests: Array<{ duration_ms: number }> };
    return { roundTrip: latencies, server: requests.map((r) => r.duration_ms) };
  } finally {
    await emulator.close();
  }
}

async function main(): Promise<void> {
  const starts: number[] = [];
  for (let i = 0; i < STARTS; i += 1) starts.push(await inProcessStartToReady());

  const stackDir = await mkdtemp(join(tmpdir(), 'vultr-bench-'));
  const processStarts: number[] = [];
  try {
    for (let i = 0; i < PROCESS_STARTS; i += 1) processStarts.push(await processStartToReady(stackDir));
  } finally {
    await rm(stackDir, { recursive: true, force: true });
  }

  const measured = await getLatencies();
  const latencies = measured.roundTrip.sort((a, b) => a - b);
  const server = measured.server.sort((a, b) => a - b);
  const result = {
    start_to_ready_ms: { median: round(median(starts)), runs: starts.map(round) },
    process_start_to_ready_ms: { median: round(median(processStarts)), runs: processStarts.map(round) },
    get_instance_ms: {
      requests: latencies.length,
      warmup_requests: WARMUP_GETS,
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(latencies[latencies.length - 1] ?? Number.NaN),
      server_p50: round(percentile(server, 50)),
      server_p99: round(percentile(server, 99)),
    },
    rate_limit_per_second: BENCH_RATE_LIMIT,
    node: process.version,
    // Tail latency on a shared machine says more about the neighbours than the emulator; record them.
    cpus: availableParallelism(),
    load_average_1m: round(loadavg()[0] ?? Number.NaN),
  };

  console.log(`note: the bench emulator runs with rateLimitPerSecond=${BENCH_RATE_LIMIT} (Vultr's 30/s would answer most of these GETs with 429)`);
  console.log(`machine: ${result.cpus} CPUs, 1-minute load average ${result.load_average_1m}`);
  console.log(`start to ready (in process, median of ${STARTS}): ${result.start_to_ready_ms.median} ms`);
  console.log(`start to ready (tsx main.ts process, median of ${PROCESS_STARTS}): ${result.process_start_to_ready_ms.median} ms`);
  console.log(`GET /v2/instances/:id x${MEASURED_GETS} sequential (after ${WARMUP_GETS} warm-up): p50 ${result.get_instance_ms.p50} ms, p99 ${result.get_instance_ms.p99} ms, max ${result.get_instance_ms.max} ms (inside the emulator: p50 ${result.get_instance_ms.server_p50} ms, p99 ${result.get_instance_ms.server_p99} ms)`);
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(`vultr bench failed: ${(error as Error).message}`);
  process.exit(1);
});
