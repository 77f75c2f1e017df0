import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configFile, flagValue, startCli, UsageError } from './cli';

type Opts = { help: boolean; config: string };
const parse = (argv: string[]): Opts => {
  if (argv.includes('--bad')) throw new UsageError('unknown argument "--bad" (try --help)');
  return { help: argv.includes('--help'), config: argv.find((a) => a.endsWith('.ts')) ?? 'package.json' };
};
const USAGE = 'usage: x [--help]\n\nmore text';

afterEach(() => vi.restoreAllMocks());

describe('flagValue', () => {
  it('reads name=value and name value, and names an example when the value is missing', () => {
    expect(flagValue(['--runs=3'], 0, '--runs', '3')).toEqual(['3', 0]);
    expect(flagValue(['--runs', '4', '--quick'], 0, '--runs', '3')).toEqual(['4', 1]);
    expect(() => flagValue(['--runs'], 0, '--runs', '3')).toThrow('--runs expects a value, e.g. --runs=3');
    expect(() => flagValue(['--runs', '--quick'], 0, '--runs', '3')).toThrow(UsageError);
  });
});

describe('configFile', () => {
  it('takes .ts/.mts/.js/.mjs files only', () => {
    expect(configFile('a.config.mjs')).toBe('a.config.mjs');
    expect(() => configFile('settings.json')).toThrow('--config expects a Playwright config file (.ts or .js), got "settings.json"');
  });
});

describe('startCli', () => {
  it('answers 2 with the problem and the usage line, 0 with the help, 2 for a missing config', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const logs = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(startCli('x', ['--bad'], parse, USAGE, process.cwd())).toEqual({ exitCode: 2 });
    expect(errors.mock.calls.map((c) => c[0])).toEqual(['x: unknown argument "--bad" (try --help)', 'usage: x [--help]']);
    expect(startCli('x', ['--help'], parse, USAGE, process.cwd())).toEqual({ exitCode: 0 });
    expect(logs.mock.calls.map((c) => c[0])).toEqual([USAGE]);
    expect(startCli('x', ['missing.config.ts'], parse, USAGE, process.cwd())).toEqual({ exitCode: 2 });
    expect(errors.mock.calls.at(-1)?.[0]).toBe('x: --config: no such file missing.config.ts');
  });

  it('gives the options and the resolved config path when it can run', () => {
    const start = startCli('x', [], parse, USAGE, process.cwd());
    expect(start).toEqual({ options: { help: false, config: 'package.json' }, configPath: join(process.cwd(), 'package.json') });
  });
});
