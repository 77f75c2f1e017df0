/**
 * Which Chromium the suite launches: CHROMIUM_PATH when set, else Playwright's bundled build when
 * it is installed, else Debian's. Never downloads anything.
 *
 * Headless runs take Debian's `chromium-headless-shell` when it is installed, as Playwright does
 * with its own builds: the same engine without the desktop browser around it. On two cores CPU is
 * what the suite waits on, and the shell leaves more of it (`npm run bench`: cores kept busy 1.67 →
 * 1.33-1.38, full suite from a running stack 25.1 → 19.5 s, runner and browsers' peak RSS 2.7 →
 * 1.7 GB). Headed runs need the full `chromium`.
 */
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium } from '@playwright/test';

export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
export const DEBIAN_HEADLESS_SHELL = '/usr/bin/chromium-headless-shell';

export type BrowserChoice =
  | { kind: 'override'; executablePath: string }
  | { kind: 'bundled' }
  | { kind: 'debian'; executablePath: string }
  | { kind: 'none' };

export function chooseChromium(overridePath: string, { headless }: { headless: boolean }, exists: (p: string) => boolean = existsSync): BrowserChoice {
  if (overridePath) return { kind: 'override', executablePath: overridePath };
  let bundled: string;
  try {
    bundled = chromium.executablePath();
  } catch {
    bundled = '';
  }
  if (bundled && exists(bundled)) return { kind: 'bundled' };
  if (headless && exists(DEBIAN_HEADLESS_SHELL)) return { kind: 'debian', executablePath: DEBIAN_HEADLESS_SHELL };
  if (exists(DEBIAN_CHROMIUM)) return { kind: 'debian', executablePath: DEBIAN_CHROMIUM };
  return { kind: 'none' };
}

/**
 * Flags for a machine with no outside network: without them Chromium keeps trying to reach
 * Google's services at start and floods the log with refused connections.
 */
export const OFFLINE_CHROMIUM_ARGS = [
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
  '--disable-gpu',
];

/**
 * True when Playwright's own ffmpeg build is installed (video recording needs it; Debian's ffmpeg
 * is not used). Without it the suite keeps traces and screenshots, and records no video.
 */
export function hasVideoEncoder(): boolean {
  const root = process.env.PLAYWRIGHT_BROWSERS_PATH || join(homedir(), '.cache', 'ms-playwright');
  try {
    return readdirSync(root).some((dir) => dir.startsWith('ffmpeg'));
  } catch {
    return false;
  }
}
