import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { webBuildState } from './web-build';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function webDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'm1-web-'));
  dirs.push(dir);
  return dir;
}

function touch(path: string, secondsAgo: number): void {
  writeFileSync(path, 'x');
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, at, at);
}

describe('webBuildState', () => {
  it('is no_web_sources without index.html and src', () => {
    expect(webBuildState(webDir())).toBe('no_web_sources');
  });

  it('is missing without dist/index.html, stale when a source is newer, else fresh', () => {
    const dir = webDir();
    mkdirSync(join(dir, 'src', 'pages'), { recursive: true });
    touch(join(dir, 'index.html'), 100);
    touch(join(dir, 'src', 'pages', 'Chat.tsx'), 100);
    // Directory mtimes move when files are added; pin them so only the files decide.
    for (const d of [join(dir, 'src'), join(dir, 'src', 'pages')]) utimesSync(d, new Date(Date.now() - 100_000), new Date(Date.now() - 100_000));
    expect(webBuildState(dir)).toBe('missing');

    mkdirSync(join(dir, 'dist'));
    touch(join(dir, 'dist', 'index.html'), 50);
    expect(webBuildState(dir)).toBe('fresh');

    touch(join(dir, 'src', 'pages', 'Chat.tsx'), 10);
    expect(webBuildState(dir)).toBe('stale');
  });
});
