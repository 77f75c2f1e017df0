import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackUrl, parseConfig } from '../helpers/config';
import { realCloudRefusal } from '../helpers/run/guards';
import { parseHostMap } from './lib/host-map.mjs';
import {
  addresses,
  chromiumArgsValue,
  configRefusals,
  documentedVariables,
  failures,
  hostMapValue,
  isolatedEnv,
  NAMES,
  nodeOptionsValue,
  outcomesOf,
  RUNS,
  suiteValues,
  tally,
  testsStarted,
  verdictLine,
} from './remote-drill';

const consentOf = (kind: string) => RUNS.find((r) => r.kind === kind)!.consent;

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the remote drill presents the stack under reserved names', () => {
  it('gives every address a name the suite does not take for this machine, each in the host map', () => {
    const map = parseHostMap(hostMapValue());
    for (const [name, value] of Object.entries(addresses())) {
      const host = new URL(value.replace(/^postgres:/, 'http:')).hostname;
      expect(isLoopbackUrl(value.replace(/^postgres:/, 'http:')), name).toBe(false);
      expect(map.get(host), name).toEqual({ address: '127.0.0.1', family: 4 });
    }
  });

  it("maps the same names in the browser, through a CHROMIUM_ARGS the suite's config accepts", () => {
    const config = parseConfig({ CHROMIUM_ARGS: chromiumArgsValue() });
    expect(config.CHROMIUM_ARGS).toEqual([`--host-resolver-rules=${Object.values(NAMES).map((n) => `MAP ${n} 127.0.0.1`).join(',')}`]);
  });

  it('adds the preload to NODE_OPTIONS as a file URL, after what the caller had', () => {
    expect(nodeOptionsValue(undefined, '/a dir/host-map.mjs')).toBe('--import file:///a%20dir/host-map.mjs');
    expect(nodeOptionsValue(' --max-old-space-size=512 ', '/x.mjs')).toBe('--max-old-space-size=512 --import file:///x.mjs');
  });
});

describe("the drill's runs meet the suite's guards", () => {
  const env = (kind: string) => isolatedEnv({}, [], suiteValues('/tmp/stack', consentOf(kind), 'drill1abcd', undefined));

  it('without consent, the config refuses the remote BASE_URL and DATABASE_URL', () => {
    const problems = problemsOf(env('no-consent'));
    expect(problems.some((p) => p.startsWith('BASE_URL:') && p.includes('ALLOW_REMOTE_TARGET=1'))).toBe(true);
    expect(problems.some((p) => p.startsWith('DATABASE_URL:') && p.includes('ALLOW_REMOTE_TARGET=1'))).toBe(true);
  });

  it('with ALLOW_REMOTE_TARGET=1 only, the config accepts the target and the approve guard refuses', () => {
    const config = parseConfig(env('remote-only'));
    expect(config.isLocalTarget).toBe(false);
    expect(realCloudRefusal(config)).toMatch(/ALLOW_REAL_CLOUD=1/);
  });

  it('with all consent, nothing refuses', () => {
    const config = parseConfig(env('full-consent'));
    expect(realCloudRefusal(config)).toBeNull();
    expect(config.ALLOW_SHARED_STATE_CHANGES).toBe(true);
    expect(config.START_STACK).toBe('never');
  });
});

describe('isolatedEnv', () => {
  it('blanks every documented variable, so a .env cannot fill one in, and drops an inherited run id', () => {
    const documented = documentedVariables(readFileSync('.env.example', 'utf8'));
    expect(documented).toContain('ALLOW_REAL_CLOUD');
    const env = isolatedEnv({ ALLOW_REAL_CLOUD: '1', DATABASE_URL: 'postgres://x@h/d', E2E_RUN_ID: 'old1', npm_lifecycle_event: 'x', PATH: '/bin' }, documented, { BASE_URL: 'http://a.test' });
    expect(env.ALLOW_REAL_CLOUD).toBe('');
    expect(env.DATABASE_URL).toBe('');
    expect(env.BASE_URL).toBe('http://a.test');
    expect(env.PATH).toBe('/bin');
    expect('E2E_RUN_ID' in env).toBe(false);
    expect('npm_lifecycle_event' in env).toBe(false);
  });
});

describe('reading a run', () => {
  const report = {
    suites: [
      {
        title: 'negative-paths.spec.ts',
        specs: [],
        suites: [
          {
            title: 'Negative paths',
            specs: [
              { title: 'declined card', tests: [{ projectName: 'negative', results: [{ status: 'passed', startTime: '2025-01-01T00:00:02Z' }] }] },
              {
                title: 'quota guard',
                tests: [{ projectName: 'negative', results: [{ status: 'failed', startTime: '2025-01-01T00:00:03Z', duration: 1000, error: { message: '\u001b[31mApproveRefused: refusing to approve: set ALLOW_REAL_CLOUD=1\u001b[39m\n  at x' } }] }],
              },
            ],
          },
        ],
      },
      {
        title: 'activation-funnel.spec.ts',
        specs: [{ title: 'funnel', tests: [{ projectName: 'funnel', results: [{ status: 'timedOut', startTime: '2025-01-01T00:00:01Z', duration: 5000, errors: [{ message: 'Test timeout of 150000ms exceeded.' }] }] }] }],
      },
      { title: 'x.spec.ts', specs: [{ title: 'skipped one', tests: [{ projectName: 'negative', results: [{ status: 'skipped', startTime: '' }] }] }] },
    ],
  };

  it("takes each test's last result, its title path and its first error line, without colour", () => {
    const outcomes = outcomesOf(report);
    expect(outcomes.map((o) => [o.title, o.status, o.message])).toEqual([
      ['negative-paths.spec.ts › Negative paths › declined card', 'passed', undefined],
      ['negative-paths.spec.ts › Negative paths › quota guard', 'failed', 'ApproveRefused: refusing to approve: set ALLOW_REAL_CLOUD=1'],
      ['activation-funnel.spec.ts › funnel', 'timedOut', 'Test timeout of 150000ms exceeded.'],
      ['x.spec.ts › skipped one', 'skipped', undefined],
    ]);
    // In the order they ended, as the runner reports them: the quota guard ended first.
    expect(failures(outcomes).map((o) => o.title)).toEqual(['negative-paths.spec.ts › Negative paths › quota guard', 'activation-funnel.spec.ts › funnel']);
    expect(tally(outcomes)).toEqual({ passed: 1, failed: 2, skipped: 1 });
    expect(outcomesOf(null)).toEqual([]);
  });

  it("finds the config's refusal lines and whether tests started", () => {
    const refused = 'config: BASE_URL: points at a non-loopback host; set ALLOW_REMOTE_TARGET=1\nconfig: fix the variables above (see .env.example); no test was run\n';
    expect(configRefusals(refused)).toHaveLength(2);
    expect(testsStarted(refused)).toBe(false);
    expect(testsStarted('\nRunning 20 tests using 2 workers\n')).toBe(true);
  });

  it('ends with a PASS or FAIL line that names what did not hold, never "N passed, N failed"', () => {
    expect(verdictLine([{ name: 'a', ok: true }], 125)).toBe('remote-drill: PASS — all 1 checks held (2m05s)');
    const fail = verdictLine([{ name: 'a', ok: true }, { name: 'run 2: exits non-zero', ok: false }], 61);
    expect(fail).toBe('remote-drill: FAIL — 1 of 2 checks did not hold: run 2: exits non-zero (1m01s)');
    expect(fail).not.toMatch(/\d+ passed, \d+ failed/);
    expect(verdictLine([], 1)).toMatch(/^remote-drill: FAIL/);
  });
});
