// Environment → emulator options for main.ts. Every problem becomes one ConfigError line naming the
// variable and what it expects.
import { join } from 'node:path';
import { ISOLATION_ACCOUNT_KEY } from '../../lib/config';
import type { VultrEmulatorOptions, VultrFaults } from './server';

export class ConfigError extends Error {}

// The one list of fault switches the emulator knows; each is inert unless named in VULTR_FAULTS.
export const FAULTS: Record<string, keyof VultrFaults> = {
  never_running: 'neverRunning',
  rate_limited: 'rateLimited',
};

const DEFAULT_API_URL = 'http://127.0.0.1:3101/v2';
const DEFAULT_API_KEY = 'vk_test_platform_pool';

function nonNegativeInteger(env: NodeJS.ProcessEnv, name: string, unit: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be a whole number of ${unit} (got "${raw}")`);
  return Number(raw.trim());
}

function portFrom(raw: string): number {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`VULTR_API_URL must be a URL like ${DEFAULT_API_URL} (got "${raw}")`);
  }
  if (url.protocol !== 'http:') throw new ConfigError(`VULTR_API_URL must use http: the emulator serves plain HTTP (got "${raw}")`);
  if (url.port === '') throw new ConfigError(`VULTR_API_URL must name a port, e.g. ${DEFAULT_API_URL} (got "${raw}")`);
  if (url.pathname.replace(/\/$/, '') !== '/v2') throw new ConfigError(`VULTR_API_URL must end in /v2, where the emulator serves the API (got "${raw}")`);
  return Number(url.port);
}

export function readConfig(env: NodeJS.ProcessEnv): VultrEmulatorOptions {
  const port = portFrom(env.VULTR_API_URL?.trim() || DEFAULT_API_URL);

  // Each key is a Vultr account of its own (accounts.ts); unset, the platform pool's and a second one.
  const keySource = env.VULTR_EMULATOR_KEYS ?? env.VULTR_API_KEY ?? `${DEFAULT_API_KEY},${ISOLATION_ACCOUNT_KEY}`;
  const apiKeys = keySource
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k !== '');
  if (apiKeys.length === 0) throw new ConfigError('VULTR_EMULATOR_KEYS must list at least one API key (comma-separated)');

  const faults: VultrFaults = {};
  for (const name of (env.VULTR_FAULTS ?? '').split(',').map((f) => f.trim()).filter((f) => f !== '')) {
    const fault = FAULTS[name];
    if (!fault) throw new ConfigError(`VULTR_FAULTS names an unknown fault "${name}" (known: ${Object.keys(FAULTS).join(', ')})`);
    faults[fault] = true;
  }

  const rateLimitPerSecond = nonNegativeInteger(env, 'VULTR_RATE_LIMIT_PER_SECOND', 'requests per second');
  if (rateLimitPerSecond === 0) throw new ConfigError('VULTR_RATE_LIMIT_PER_SECOND must be at least 1');

  return {
    host: '127.0.0.1',
    port,
    apiKeys,
    bootDelayMs: nonNegativeInteger(env, 'VULTR_BOOT_DELAY_MS', 'milliseconds'),
    okDelayMs: nonNegativeInteger(env, 'VULTR_OK_DELAY_MS', 'milliseconds'),
    rateLimitPerSecond,
    stateFile: join(env.STACK_DIR?.trim() || '.stack', 'vultr-state.json'),
    faults,
  };
}
