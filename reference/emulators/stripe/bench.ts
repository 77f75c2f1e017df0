/**
 * Start-to-ready time of the Stripe emulator: spawns `main.ts` under tsx five times (the way the
 * stack starts it), measures spawn → "ready" line and SIGTERM → exit, and also the in-process
 * `startStripeEmulator()` call. Prints one JSON object.
 *
 *   npx tsx reference/emulators/stripe/bench.ts
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startStripeEmulator } from './server';

const RUNS = 5;
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return Math.round(value * 10) / 10;
}

async function processStart(stackDir: string): Promise<{ readyMs: number; exitMs: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, STRIPE_API_BASE: 'http://127.0.0.1:0', STACK_DIR: stackDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const readyMs = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('stripe emulator ready on')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code} before ready: ${stderr.trim()}`)));
  });
  const stopping = performance.now();
  const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now() - stopping)));
  child.kill('SIGTERM');
  return { readyMs, exitMs: await exited };
}

async function inProcessStart(): Promise<number> {
  const started = performance.now();
  const emulator = await startStripeEmulator({
    port: 0,
    secretKeys: ['sk_test_bench'],
    publishableKey: 'pk_test_bench',
    webhookSecret: 'whsec_bench',
  });
  const elapsed = performance.now() - started;
  await emulator.close();
  return elapsed;
}

const stackDir = mkdtempSync(join(tmpdir(), 'stripe-emulator-bench-'));
try {
  const ready: number[] = [];
  const exit: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const run = await processStart(join(stackDir, String(i)));
    ready.push(run.readyMs);
    exit.push(run.exitMs);
  }
  const inProcess: number[] = [];
  for (let i = 0; i < RUNS; i += 1) inProcess.push(await inProcessStart());
  process.stdout.write(
    `${JSON.stringify(
      {
        runs: RUNS,
        process_start_to_ready_ms: { median: median(ready), all: ready.map((v) => Math.round(v)) },
        sigterm_to_exit_ms: { median: median(exit), all: exit.map((v) => Math.round(v)) },
        in_process_start_ms: { median: median(inProcess), all: inProcess.map((v) => Math.round(v * 10) / 10) },
        target_ready_ms: 500,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  rmSync(stackDir, { recursive: true, force: true });
}
