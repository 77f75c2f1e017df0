/**
 * The planted-secret proof on a real blob report: Playwright itself runs a test that puts a
 * configured secret in the page and session material on the wire, with tracing on and the blob
 * reporter, as a CI shard does. The scan must find the secret inside the trace zip inside the blob
 * report, and the masking must leave none of the session material there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskInZips, scanArtifacts } from './secret-scan';

const ROOT = resolve(import.meta.dirname, '..', '..');
const WORK = join(ROOT, 'test-results', 'planted-blob');
const PLANTED_KEY = 'vk_planted_blob_secret_0815';
const BEARER = 'm1at_PlantedBearer4242abcd';
const COOKIE = 'session=PlantedCookieValue9988';

const SPEC = `import { createServer } from 'node:http';
import { test } from '@playwright/test';
test('plants a secret and session material', async ({ page }) => {
  const server = createServer((_req, res) => {
    res.setHeader('Set-Cookie', process.env.PLANTED_COOKIE + '; Path=/');
    res.setHeader('content-type', 'text/html');
    res.end('<html><body>ok</body></html>');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await page.setExtraHTTPHeaders({ Authorization: 'Bearer ' + process.env.PLANTED_BEARER });
  await page.goto('http://127.0.0.1:' + port + '/');
  await page.setContent('<p>' + process.env.PLANTED_KEY + '</p>');
  await new Promise((done) => server.close(done));
});
`;

const CONFIG = `import { defineConfig } from '@playwright/test';
import { chooseChromium, OFFLINE_CHROMIUM_ARGS } from '../../../helpers/browser';
const browser = chooseChromium(process.env.CHROMIUM_PATH ?? '', { headless: true });
export default defineConfig({
  testDir: '.',
  // Its own: Playwright empties the output folder first, and the default is the package's test-results.
  outputDir: 'artifacts',
  testMatch: /planted\\.spec\\.ts/,
  reporter: [['blob']],
  use: {
    trace: 'on',
    launchOptions: { executablePath: browser.kind === 'bundled' || browser.kind === 'none' ? undefined : browser.executablePath, args: OFFLINE_CHROMIUM_ARGS },
  },
});
`;

describe('secret scan on a real blob report', () => {
  let blobDir = '';
  let run: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    rmSync(WORK, { recursive: true, force: true });
    const suite = join(WORK, 'suite');
    mkdirSync(suite, { recursive: true });
    writeFileSync(join(suite, 'planted.spec.ts'), SPEC);
    writeFileSync(join(suite, 'planted.config.ts'), CONFIG);
    run = spawnSync(process.execPath, [join(ROOT, 'node_modules/@playwright/test/cli.js'), 'test', '--config', join(suite, 'planted.config.ts')], {
      cwd: suite,
      // From the environment, not the spec's text: a trace keeps a copy of the spec's source too.
      env: { ...process.env, PLANTED_KEY, PLANTED_BEARER: BEARER, PLANTED_COOKIE: COOKIE, PLAYWRIGHT_BLOB_OUTPUT_DIR: join(WORK, 'blob-report') },
      encoding: 'utf8',
      timeout: 90_000,
    });
    blobDir = join(WORK, 'blob-report');
  }, 120_000);

  afterAll(() => rmSync(WORK, { recursive: true, force: true }));

  it('is a real blob report, with the trace zip inside', () => {
    expect(run.status, `${String(run.stdout)}\n${String(run.stderr)}`).toBe(0);
    expect(readdirSync(blobDir).filter((f) => f.endsWith('.zip'))).toHaveLength(1);
  });

  it('masks the session material in the nested trace, and still finds the configured secret there', () => {
    const session = [
      { name: 'bearer token', value: BEARER },
      { name: 'cookie', value: COOKIE.split('=')[1]! },
    ];
    // Both are there before masking: the proof below is not of an absence that could not be seen.
    expect(new Set(scanArtifacts([blobDir], session, WORK).map((f) => f.secret))).toEqual(new Set(['bearer token', 'cookie']));
    expect(maskInZips([blobDir], [])).toBeGreaterThanOrEqual(2);
    expect(scanArtifacts([blobDir], session, WORK)).toEqual([]);
    const findings = scanArtifacts([blobDir], [{ name: 'VULTR_API_KEY', value: PLANTED_KEY }], WORK);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.secret === 'VULTR_API_KEY' && /^blob-report\/report.*\.zip!\/resources\/.*\.zip!\//.test(f.file))).toBe(true);
  });
});
