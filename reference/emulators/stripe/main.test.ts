import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const stackDir = mkdtempSync(join(tmpdir(), 'stripe-emulator-main-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(env: Record<string, string>, untilReady = false): Promise<Run & { stop?: () => Promise<Run> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, STRIPE_API_BASE: 'http://127.0.0.1:0', STACK_DIR: stackDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const result: Run = { code: null, stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (result.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (result.stderr += chunk.toString()));
  const exited = new Promise<Run>((resolve) =>
    child.once('exit', (code) => {
      result.code = code;
      resolve(result);
    }),
  );
  if (!untilReady) return exited;
  return new Promise((resolve, reject) => {
    child.stdout.on('data', () => {
      if (result.stdout.includes('ready on')) {
        resolve({
          ...result,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then(() => reject(new Error(`exited before ready: ${result.stderr}`)));
  });
}

afterAll(() => rmSync(stackDir, { recursive: true, force: true }));

describe('main.ts', () => {
  it('prints the ready line, writes its state file and exits cleanly on SIGTERM', async () => {
    const started = await run({}, true);
    const url = /stripe emulator ready on (http:\/\/127\.0\.0\.1:\d+)/.exec(started.stdout)?.[1];
    expect(url).toBeDefined();
    const response = await fetch(`${url}/v1/prices`, { headers: { authorization: 'Bearer sk_test_m1_reference' } });
    expect(response.status).toBe(200);
    const finished = await started.stop?.();
    expect(finished?.code).toBe(0);
    expect(JSON.parse(readFileSync(join(stackDir, 'stripe-state.json'), 'utf8'))).toMatchObject({ version: 1 });
  }, 20_000);

  it.each([
    [{ STRIPE_API_BASE: 'not a url' }, /STRIPE_API_BASE/],
    [{ STRIPE_SECRET_KEY: 'sk_live_abcdef' }, /STRIPE_SECRET_KEY must be a test-mode/],
    [{ STRIPE_PUBLISHABLE_KEY: 'nope' }, /STRIPE_PUBLISHABLE_KEY/],
    [{ STRIPE_WEBHOOK_SECRET: 'secret' }, /STRIPE_WEBHOOK_SECRET/],
    [{ STRIPE_WEBHOOK_URL: 'ftp://x' }, /STRIPE_WEBHOOK_URL/],
  ])('refuses bad settings %j with one stderr line and exit 2', async (env, message) => {
    const result = await run(env);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('sk_live_abcdef');
  }, 20_000);
});
