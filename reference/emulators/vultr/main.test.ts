import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from './config';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const TSX_CLI = createRequire(import.meta.url).resolve('tsx/cli');

describe('readConfig', () => {
  it('uses the contract defaults when nothing is set', () => {
    expect(readConfig({})).toEqual({
      host: '127.0.0.1',
      port: 3101,
      apiKeys: ['vk_test_platform_pool', 'vk_test_isolation_account'],
      bootDelayMs: undefined,
      okDelayMs: undefined,
      rateLimitPerSecond: undefined,
      stateFile: join('.stack', 'vultr-state.json'),
      faults: {},
    });
  });

  it('reads the port, keys, delays, state dir and faults', () => {
    const options = readConfig({
      VULTR_API_URL: 'http://127.0.0.1:4105/v2/',
      VULTR_API_KEY: 'ignored-when-keys-set',
      VULTR_EMULATOR_KEYS: ' a , b,,c ',
      VULTR_BOOT_DELAY_MS: '150',
      VULTR_OK_DELAY_MS: '0',
      VULTR_RATE_LIMIT_PER_SECOND: '500',
      STACK_DIR: '/tmp/stack-x',
      VULTR_FAULTS: 'never_running, rate_limited',
    });
    expect(options).toMatchObject({
      port: 4105,
      apiKeys: ['a', 'b', 'c'],
      bootDelayMs: 150,
      okDelayMs: 0,
      rateLimitPerSecond: 500,
      stateFile: '/tmp/stack-x/vultr-state.json',
      faults: { neverRunning: true, rateLimited: true },
    });
  });

  it('falls back to VULTR_API_KEY for the key list', () => {
    expect(readConfig({ VULTR_API_KEY: 'vk_custom' }).apiKeys).toEqual(['vk_custom']);
  });

  const bad: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['a URL that does not parse', { VULTR_API_URL: 'not a url' }, /^VULTR_API_URL must be a URL/],
    ['https', { VULTR_API_URL: 'https://127.0.0.1:3101/v2' }, /plain HTTP/],
    ['a URL without a port', { VULTR_API_URL: 'http://127.0.0.1/v2' }, /must name a port/],
    ['a URL not ending in /v2', { VULTR_API_URL: 'http://127.0.0.1:3101/api' }, /must end in \/v2/],
    ['a non-numeric boot delay', { VULTR_BOOT_DELAY_MS: '2s' }, /^VULTR_BOOT_DELAY_MS must be a whole number/],
    ['a negative boot delay', { VULTR_BOOT_DELAY_MS: '-1' }, /^VULTR_BOOT_DELAY_MS/],
    ['a zero rate limit', { VULTR_RATE_LIMIT_PER_SECOND: '0' }, /at least 1/],
    ['an empty key list', { VULTR_EMULATOR_KEYS: ' , ' }, /at least one API key/],
    ['an unknown fault', { VULTR_FAULTS: 'never_running,explode' }, /unknown fault "explode" \(known: never_running, rate_limited\)/],
  ];
  for (const [name, env, message] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => readConfig(env)).toThrow(ConfigError);
      expect(() => readConfig(env)).toThrow(message);
    });
  }
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runMain(env: NodeJS.ProcessEnv, whenReady?: (url: string) => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX_CLI, MAIN], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const ready = /vultr emulator ready on (\S+)/.exec(stdout);
      if (ready && !started && whenReady) {
        started = true;
        whenReady(ready[1] ?? '').then(
          () => child.kill('SIGTERM'),
          (error: unknown) => {
            child.kill('SIGKILL');
            reject(error);
          },
        );
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('main.ts as a process', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vultr-main-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('prints the ready line, serves, and flushes its state file on SIGTERM', async () => {
    let instanceId = '';
    const run = await runMain({ VULTR_API_URL: 'http://127.0.0.1:0/v2', VULTR_EMULATOR_KEYS: 'vk_main', STACK_DIR: dir }, async (url) => {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/);
      const res = await fetch(`${url}/instances`, {
        method: 'POST',
        headers: { authorization: 'Bearer vk_main', 'content-type': 'application/json' },
        body: JSON.stringify({ region: 'ewr', plan: 'vc2-1c-1gb', os_id: 2284 }),
      });
      expect(res.status).toBe(202);
      instanceId = ((await res.json()) as { instance: { id: string } }).instance.id;
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const state = JSON.parse(await readFile(join(dir, 'vultr-state.json'), 'utf8')) as { instances: Array<{ id: string }> };
    expect(state.instances.map((i) => i.id)).toEqual([instanceId]);
  });

  it('exits 2 with one clear stderr line on a bad setting', async () => {
    const run = await runMain({ VULTR_BOOT_DELAY_MS: 'soon', STACK_DIR: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe('vultr emulator: VULTR_BOOT_DELAY_MS must be a whole number of milliseconds (got "soon")\n');
  });
});
