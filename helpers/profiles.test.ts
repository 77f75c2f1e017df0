import { readFileSync } from 'node:fs';
import dotenv from 'dotenv';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, parseConfig, PLACEHOLDER, PROFILES } from './config';

const VARIANT_NAMES = [
  'route_core',
  'cost_730h',
  'cloud_id_in_config',
  'step_executing',
  'mission_api_core',
  'errors_flat',
  'paywall_in_chat',
  'login_ids_core',
  'step_stream_core',
  'brief_core',
  'worker_command',
  'log_journald',
];

describe('profiles/powernode-core.env', () => {
  const text = readFileSync('profiles/powernode-core.env', 'utf8');
  const values = dotenv.parse(text);
  const lines = text.split('\n');

  it('sets only variables the suite reads, each with a comment above it', () => {
    expect(Object.keys(values).filter((k) => !(CONFIG_KEYS as string[]).includes(k))).toEqual([]);
    const bare = lines.filter((line, i) => /^[A-Z]/.test(line) && !lines.slice(Math.max(0, i - 3), i).some((l) => l.startsWith('# ')));
    expect(bare).toEqual([]);
  });

  it("spells out the powernode-core profile's every value, each under the variant it answers", () => {
    for (const [name, value] of Object.entries(PROFILES['powernode-core'])) {
      expect(values[name], name).toBe(value);
      const at = lines.findIndex((l) => l.startsWith(`${name}=`));
      expect(lines[at - 1], `the comment above ${name}`).toMatch(new RegExp(`^# (${VARIANT_NAMES.join('|')}):`));
    }
    expect(VARIANT_NAMES.filter((v) => !text.includes(`# ${v}:`))).toEqual([]);
  });

  it('is refused until every placeholder is filled in, and then runs as the profile', () => {
    expect(() => parseConfig(values)).toThrow(/still holds the profile file's <FILL IN/);
    const filled = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v.includes(PLACEHOLDER) ? fill(k) : v]));
    const config = parseConfig({ ...filled, ALLOW_REMOTE_TARGET: '1', ALLOW_REAL_CLOUD: '1' });
    expect(config).toMatchObject({ TARGET_PROFILE: 'powernode-core', PAYWALL_SOURCE: 'chat', BACKEND_LOG_FORMAT: 'journald', EXPECTED_MONTHLY_COST_USD: 5.11 });
    expect(config.BACKEND_LOG_COMMAND).toBe('journalctl -u powernode-backend@default -o short-iso --since "3 hours ago"');
  });
});

function fill(name: string): string {
  const examples: Record<string, string> = {
    BASE_URL: 'https://powernode.example.com',
    DATABASE_URL: 'postgres://app:secret@db.example.com:5432/powernode',
    STRIPE_SECRET_KEY: 'sk_test_abc',
    STRIPE_WEBHOOK_SECRET: 'whsec_abc',
  };
  return examples[name] ?? 'filled-in-value';
}

describe('profiles/reference-all-variants.env', () => {
  it('is the powernode-core profile with the reference stack’s log and worker commands', () => {
    const values = dotenv.parse(readFileSync('profiles/reference-all-variants.env', 'utf8'));
    expect(values).toEqual({
      TARGET_PROFILE: 'powernode-core',
      BACKEND_LOG_COMMAND: 'cat .stack/logs/backend.journal',
      WORKER_STATE_COMMAND: 'npm run --silent worker-state --workspace reference',
    });
  });
});
