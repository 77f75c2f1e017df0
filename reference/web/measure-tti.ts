/**
 * Time to interactive of `/new` in headless Chromium against a running stack: from navigation
 * start until the chat input is enabled and the Brief Card is on screen, for a signed-in user.
 * Also reports the built JS size (raw and gzip). Run: `npx tsx reference/web/measure-tti.ts`
 * (BASE_URL defaults to http://127.0.0.1:3100; RUNS defaults to 7).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from '@playwright/test';

const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:3100').replace(/\/+$/, '');
const RUNS = Number(process.env.RUNS || 7);
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const OFFLINE_ARGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run', '--disable-gpu'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function bundleSizes(): { file: string; raw: number; gzip: number }[] {
  const assets = join(dirname(fileURLToPath(import.meta.url)), 'dist', 'assets');
  if (!existsSync(assets)) return [];
  return readdirSync(assets)
    .filter((f) => f.endsWith('.js'))
    .map((file) => {
      const body = readFileSync(join(assets, file));
      return { file, raw: body.length, gzip: gzipSync(body).length };
    });
}

async function main(): Promise<void> {
  const email = `tti+${Date.now()}@measure.test`;
  const registered = await fetch(`${BASE_URL}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: `Tti-${Date.now()}-pw`, name: 'TTI probe' }),
  });
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}: is the stack running at ${BASE_URL}?`);
  const token = ((await registered.json()) as { data: { access_token: string } }).data.access_token;

  const browser = await chromium.launch({ executablePath: existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined, args: OFFLINE_ARGS });
  const samples: { tti: number; domInteractive: number }[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      // A new context each time: a cold HTTP cache, as a first visit.
      const context = await browser.newContext();
      await context.addInitScript((t) => window.localStorage.setItem('m1.access_token', t), token);
      const page = await context.newPage();
      await page.goto(`${BASE_URL}/new`);
      await page.getByTestId('brief-card').waitFor();
      await page.waitForFunction(() => {
        const input = document.querySelector('[data-testid="chat-input"]') as HTMLTextAreaElement | null;
        return input !== null && !input.disabled;
      });
      const sample = await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
        return { tti: performance.now(), domInteractive: nav.domInteractive };
      });
      if (run > 0) samples.push(sample); // the first visit also warms the server's caches
      await context.close();
    }
  } finally {
    await browser.close();
  }
  const result = {
    baseUrl: BASE_URL,
    runs: samples.length,
    ttiMsMedian: Math.round(median(samples.map((s) => s.tti))),
    ttiMsMax: Math.round(Math.max(...samples.map((s) => s.tti))),
    domInteractiveMsMedian: Math.round(median(samples.map((s) => s.domInteractive))),
    js: bundleSizes(),
  };
  console.log(`/new interactive after ${result.ttiMsMedian} ms (median of ${result.runs}; max ${result.ttiMsMax} ms)`);
  for (const js of result.js) console.log(`JS ${js.file}: ${(js.raw / 1024).toFixed(1)} KB raw, ${(js.gzip / 1024).toFixed(1)} KB gzip`);
  console.log(JSON.stringify(result));
}

main().catch((error: unknown) => {
  console.error(`measure-tti: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
