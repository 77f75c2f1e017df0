import { describe, expect, it } from 'vitest';
import { chromium } from '@playwright/test';
import { chooseChromium, DEBIAN_CHROMIUM, DEBIAN_HEADLESS_SHELL } from './browser';

/** A file system holding exactly these paths; Playwright's bundled build is never among them. */
const holding = (...paths: string[]) => (p: string) => paths.includes(p);
const bundled = (() => {
  try {
    return chromium.executablePath();
  } catch {
    return '';
  }
})();

describe('chooseChromium', () => {
  it('takes CHROMIUM_PATH over everything, headless or not', () => {
    const all = holding(DEBIAN_CHROMIUM, DEBIAN_HEADLESS_SHELL, bundled);
    expect(chooseChromium('/opt/chrome', { headless: true }, all)).toEqual({ kind: 'override', executablePath: '/opt/chrome' });
    expect(chooseChromium('/opt/chrome', { headless: false }, all)).toEqual({ kind: 'override', executablePath: '/opt/chrome' });
  });

  it("takes Playwright's bundled build when it is installed", () => {
    expect(chooseChromium('', { headless: true }, holding(bundled, DEBIAN_HEADLESS_SHELL))).toEqual({ kind: 'bundled' });
  });

  it("headless: takes Debian's headless shell when it is installed", () => {
    expect(chooseChromium('', { headless: true }, holding(DEBIAN_CHROMIUM, DEBIAN_HEADLESS_SHELL))).toEqual({ kind: 'debian', executablePath: DEBIAN_HEADLESS_SHELL });
  });

  it('headless without the shell: Debian chromium', () => {
    expect(chooseChromium('', { headless: true }, holding(DEBIAN_CHROMIUM))).toEqual({ kind: 'debian', executablePath: DEBIAN_CHROMIUM });
  });

  it('headed: never the headless shell, which has no window', () => {
    expect(chooseChromium('', { headless: false }, holding(DEBIAN_CHROMIUM, DEBIAN_HEADLESS_SHELL))).toEqual({ kind: 'debian', executablePath: DEBIAN_CHROMIUM });
    expect(chooseChromium('', { headless: false }, holding(DEBIAN_HEADLESS_SHELL))).toEqual({ kind: 'none' });
  });

  it('nothing installed: none', () => {
    expect(chooseChromium('', { headless: true }, holding())).toEqual({ kind: 'none' });
  });
});
