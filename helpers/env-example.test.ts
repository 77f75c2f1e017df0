import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from './config';

// Variables only the reference stack reads (the suite never does); documented in the same file.
const STACK_ONLY = new Set([
  'STRIPE_PUBLISHABLE_KEY',
  'CREDENTIALS_ENCRYPTION_KEY',
  'VULTR_BOOT_DELAY_MS',
  'VULTR_EMULATOR_KEYS',
  'PROVISION_POLL_INTERVAL_MS',
  'STACK_DIR',
  'STACK_PG_PORT',
  'STACK_PG_HOME',
  'STACK_FAULTS',
  'STACK_VARIANTS',
  'STACK_PG_OS_USER',
  'VULTR_OK_DELAY_MS',
  'VULTR_RATE_LIMIT_PER_SECOND',
]);

describe('.env.example', () => {
  const documented = [...readFileSync('.env.example', 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);

  it('documents every variable the suite reads', () => {
    expect(CONFIG_KEYS.filter((k) => !documented.includes(k))).toEqual([]);
  });

  it('documents nothing that nobody reads', () => {
    expect(documented.filter((k) => !(CONFIG_KEYS as string[]).includes(k!) && !STACK_ONLY.has(k!))).toEqual([]);
  });

  it('gives every variable a line of meaning above it', () => {
    const lines = readFileSync('.env.example', 'utf8').split('\n');
    const bare = lines.filter((line, i) => /^[A-Z]/.test(line) && !lines.slice(Math.max(0, i - 3), i).some((l) => l.startsWith('# ')));
    expect(bare).toEqual([]);
  });
});
