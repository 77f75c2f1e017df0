import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackUrl, parseConfig } from '../helpers/config';
import { realCloudRefusal } from '../helpers/run/guards';
import { parseHostMap } from './lib/host-map.mjs';
import { chromiumArgsValue, hostMapValue, nodeOptionsValue } from './lib/host-names';
import { failedInOrder, lastOutcomes, readSuiteReport } from './lib/report';
import { documentedBlank, documentedVariables, stackEnv, suiteEnv } from './lib/stack';
import { addresses, configRefusals, NAMES, PORTS, RUNS, stackValues, suiteValues, tally, testsStarted, verdictLine } from './remote-drill';

const names = Object.values(NAMES);
const consentOf = (kind: string) => RUNS.find((r) => r.kind === kind)!.consent;

describe('the remote drill presents the stack under reserved names', () => {
  it('gives every address a name the suite does not take for this machine, each in the host map', () => {
    const map = parseHostMap(hostMapValue(names, '127.0.0.1'));
    for (const [name, value] of Object.entries(addresses())) {
      const host = new URL(value.replace(/^postgres:/, 'http:')).hostname;
      expect(isLoopbackUrl(value.replace(/^postgres:/, 'http:')), name).toBe(false);
      expect(map.get(host), name).toEqual({ address: '127.0.0.1', family: 4 });
    }
  });

  it("maps the same names in the browser, through a CHROMIUM_ARGS the suite's config accepts", () => {
    const config = parseConfig({ CHROMIUM_ARGS: chromiumArgsValue(names, '127.0.0.1') });
    expect(config.CHROMIUM_ARGS).toEqual([`--host-resolver-rules=${names.map((n) => `MAP ${n} 127.0.0.1`).join(',')}`]);
  });

  it('adds the preload to NODE_OPTIONS as a file URL, after what the caller had', () => {
    expect(nodeOptionsValue(undefined, '/a dir/host-map.mjs')).toBe('--import file:///a%20dir/host-map.mjs');
    expect(nodeOptionsValue(' --max-old-space-size=512 ', '/x.mjs')).toBe('--max-old-space-size=512 --import file:///x.mjs');
  });
});

describe("the drill's runs meet the suite's guards", () => {
  const env = (kind: string) => suiteEnv({}, PORTS, '/tmp/stack', documentedBlank({}, [], suiteValues('/tmp/stack', consentOf(kind), 'drill1abcd', undefined)));

  it('without consent, the config refuses the remote BASE_URL and DATABASE_URL', () => {
    let problems: string[] = [];
    expect(() => {
      try {
        parseConfig(env('no-consent'));
      } catch (error) {
        problems = (error as ConfigError).problems;
        throw error;
      }
    }).toThrow(ConfigError);
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
    // A remote target has no default second Vultr account: the drill names one, so the isolation test runs.
    expect(config.VULTR_ISOLATION_API_KEY).toBe('vk_test_isolation_account');
    expect(config.ALLOW_SHARED_STATE_CHANGES).toBe(true);
    expect(config.START_STACK).toBe('never');
  });
});

describe('the environments leave nothing to the caller', () => {
  const documented = documentedVariables(readFileSync('.env.example', 'utf8'));
  const inherited = { ALLOW_REAL_CLOUD: '1', DATABASE_URL: 'postgres://x@h/d', STRIPE_WEBHOOK_URL: 'http://127.0.0.1:1/x', E2E_RUN_ID: 'old1', npm_lifecycle_event: 'x', PATH: '/bin' };

  it("the suite's: every documented variable blank (a .env cannot fill one in), its own values, no inherited run id", () => {
    expect(documented).toContain('ALLOW_REAL_CLOUD');
    const env = suiteEnv(inherited, PORTS, '/tmp/s', documentedBlank(inherited, documented, { BASE_URL: 'http://a.test' }));
    expect(env).toMatchObject({ ALLOW_REAL_CLOUD: '', DATABASE_URL: '', STRIPE_WEBHOOK_URL: '', BACKEND_LOG_COMMAND: '', BASE_URL: 'http://a.test', PATH: '/bin' });
    expect('E2E_RUN_ID' in env).toBe(false);
    expect('npm_lifecycle_event' in env).toBe(false);
  });

  it("the stack's: known by the reserved names, its own Postgres port and home, the host map preloaded", () => {
    const env = stackEnv(inherited, PORTS, '/tmp/s', documentedBlank(inherited, documented, stackValues('/tmp/s', '/tmp/pg', undefined)));
    const { BASE_URL, VULTR_API_URL, STRIPE_API_BASE, WORKER_HEALTH_URL } = addresses();
    expect(env).toMatchObject({ BASE_URL, VULTR_API_URL, STRIPE_API_BASE, WORKER_HEALTH_URL, DATABASE_URL: '', STACK_PG_PORT: '54801', STACK_PG_HOME: '/tmp/pg', STACK_DIR: '/tmp/s', STRIPE_WEBHOOK_URL: '' });
    expect(env.ALLOW_REAL_CLOUD).toBe('');
    expect(env.NODE_OPTIONS).toMatch(/^--import file:\/\/.*\/harness\/lib\/host-map\.mjs$/);
    expect(parseHostMap(env.E2E_HOST_MAP).size).toBe(names.length);
    expect('E2E_RUN_ID' in env).toBe(false);
  });
});

describe('reading a run', () => {
  type Result = { status: string; startTime: string; duration?: number; error?: { message: string }; errors?: { message: string }[] };
  const spec = (title: string, file: string, projectName: string, result: Result, annotations?: { type: string; description?: string }[]) => ({
    title,
    file,
    tests: [{ projectName, status: result.status === 'passed' ? 'expected' : 'unexpected', annotations, results: [result] }],
  });
  const report = readSuiteReport({
    suites: [
      {
        title: 'negative-paths.spec.ts',
        suites: [
          {
            title: 'Negative paths',
            specs: [
              spec('declined card', 'negative-paths.spec.ts', 'negative', { status: 'passed', startTime: '2025-01-01T00:00:02Z' }),
              spec('quota guard', 'negative-paths.spec.ts', 'negative', {
                status: 'failed',
                startTime: '2025-01-01T00:00:03Z',
                duration: 1000,
                error: { message: '\u001b[31mApproveRefused: refusing to approve: set ALLOW_REAL_CLOUD=1\u001b[39m\n  at x' },
              }),
            ],
          },
        ],
      },
      {
        title: 'activation-funnel.spec.ts',
        specs: [spec('funnel', 'activation-funnel.spec.ts', 'funnel', { status: 'timedOut', startTime: '2025-01-01T00:00:01Z', duration: 5000, errors: [{ message: 'Test timeout of 150000ms exceeded.' }] })],
      },
      { title: 'x.spec.ts', specs: [spec('skipped one', 'x.spec.ts', 'negative', { status: 'skipped', startTime: '' }, [{ type: 'skip', description: 'set ALLOW_SHARED_STATE_CHANGES=1' }])] },
    ],
  });

  it("takes each test's last result, its title with its file, its first error line without colour, and a skip's reason", () => {
    const outcomes = lastOutcomes(report);
    expect(outcomes.map((o) => [o.title, o.status, o.message, o.skipReason])).toEqual([
      ['negative-paths.spec.ts › Negative paths › declined card', 'passed', undefined, undefined],
      ['negative-paths.spec.ts › Negative paths › quota guard', 'failed', 'ApproveRefused: refusing to approve: set ALLOW_REAL_CLOUD=1', undefined],
      ['activation-funnel.spec.ts › funnel', 'timedOut', 'Test timeout of 150000ms exceeded.', undefined],
      ['x.spec.ts › skipped one', 'skipped', undefined, 'set ALLOW_SHARED_STATE_CHANGES=1'],
    ]);
    // In the order they ended, as the runner reports them: the quota guard ended first.
    expect(failedInOrder(outcomes).map((o) => o.title)).toEqual(['negative-paths.spec.ts › Negative paths › quota guard', 'activation-funnel.spec.ts › funnel']);
    expect(tally(outcomes)).toEqual({ passed: 1, failed: 2, skipped: 1 });
    expect(lastOutcomes(undefined)).toEqual([]);
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
