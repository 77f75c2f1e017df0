import { describe, expect, it } from 'vitest';
import { wrapperConfigSource } from './wrapper-config';

describe('wrapperConfigSource', () => {
  it("wraps the config, resolving its tests and local reporters against its own directory and adding a json reporter", () => {
    const source = wrapperConfigSource('/repo/playwright.config.ts', { reporters: 'keep', writtenBy: 'harness/bench.ts' });
    expect(source).toContain('// Written by harness/bench.ts');
    expect(source).toContain('import base from "/repo/playwright.config";');
    expect(source).toContain('const configDir = "/repo";');
    expect(source).toContain("testDir: resolve(configDir, base.testDir ?? '.')");
    expect(source).toContain("name.startsWith('.') ? resolve(configDir, name) : name");
    expect(source).toContain("if (!reporter.some(([name]) => name === 'json')) reporter.unshift(['json']);");
    expect(source).not.toContain('use:');
  });

  it('keeps only the json reporter and overrides `use` when asked', () => {
    const source = wrapperConfigSource('/repo/other.config.mts', { reporters: 'json', use: { video: 'off' }, writtenBy: 'harness/selftest.ts' });
    expect(source).toContain('import base from "/repo/other.config";');
    expect(source).toContain("const reporter: Entry[] = [['json']];");
    expect(source).toContain('use: { ...base.use, video: "off" }');
  });
});
