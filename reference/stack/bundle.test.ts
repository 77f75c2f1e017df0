import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntries } from './bundle';

let dir: string;
let src: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'm1-bundle-'));
  src = join(dir, 'src');
  // A package the bundle must load from here, not from beside the bundle.
  mkdirSync(join(dir, 'node_modules', 'greeting'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'greeting', 'package.json'), JSON.stringify({ name: 'greeting', type: 'module', exports: './index.js' }));
  writeFileSync(join(dir, 'node_modules', 'greeting', 'index.js'), `export const greeting = 'hello';`);
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(join(src, 'lib', 'data.txt'), 'beside the source');
  writeFileSync(
    join(src, 'lib', 'where.ts'),
    `import { readFileSync } from 'node:fs';
     export const here: string = import.meta.url;
     export const data: string = readFileSync(new URL('./data.txt', import.meta.url), 'utf8');`,
  );
  writeFileSync(join(src, 'preload.ts'), `(globalThis as { order?: string[] }).order = ['preload'];`);
  writeFileSync(
    join(src, 'main.ts'),
    `import { greeting } from 'greeting';
     import { data, here } from './lib/where';
     const order = (globalThis as { order?: string[] }).order ?? [];
     order.push('main');
     console.log(JSON.stringify({ greeting, data, here, order }));`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(file: string): Record<string, unknown> {
  // From a directory with no node_modules anywhere above it that could hold `greeting`.
  const result = spawnSync(process.execPath, [file], { cwd: tmpdir(), encoding: 'utf8' });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

describe('bundleEntries', () => {
  it('bundles an entry that runs under plain node from anywhere, preload first, files found beside their sources', async () => {
    const out = join(dir, 'out-1');
    const result = await bundleEntries([{ name: 'main', file: join(src, 'main.ts'), preload: [join(src, 'preload.ts')] }], out);

    expect(result.reused).toBe(false);
    expect(result.outputs.get('main')).toBe(join(out, 'main.mjs'));
    expect(run(result.outputs.get('main')!)).toEqual({
      greeting: 'hello',
      data: 'beside the source',
      here: pathToFileURL(join(src, 'lib', 'where.ts')).href,
      order: ['preload', 'main'],
    });
  });

  it('reuses the bundle while its sources are unchanged and rebuilds when one changes', async () => {
    const out = join(dir, 'out-2');
    const entries = [{ name: 'main', file: join(src, 'main.ts') }];
    expect((await bundleEntries(entries, out)).reused).toBe(false);
    expect((await bundleEntries(entries, out)).reused).toBe(true);

    writeFileSync(join(src, 'lib', 'data.txt'), 'not a source: read at run time');
    expect((await bundleEntries(entries, out)).reused).toBe(true);

    writeFileSync(join(src, 'lib', 'where.ts'), `export const here = 'changed'; export const data = 'inline';`);
    const rebuilt = await bundleEntries(entries, out);
    expect(rebuilt.reused).toBe(false);
    expect(run(rebuilt.outputs.get('main')!)).toMatchObject({ here: 'changed', data: 'inline' });
  });

  it('rejects with the compiler message when a source does not compile', async () => {
    writeFileSync(join(src, 'broken.ts'), 'export const = ;');
    await expect(bundleEntries([{ name: 'broken', file: join(src, 'broken.ts') }], join(dir, 'out-3'))).rejects.toThrow(/broken\.ts/);
  });
});
