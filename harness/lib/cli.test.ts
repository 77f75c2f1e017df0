import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configFile, parseCommandLine, startCli, UsageError, wholeNumber } from './cli';

type Opts = { help: boolean; config: string };
const parse = (argv: string[]): Opts => {
  if (argv.includes('--bad')) throw new UsageError('unknown argument "--bad" (try --help)');
  return { help: argv.includes('--help'), config: argv.find((a) => a.endsWith('.ts')) ?? 'package.json' };
};
const USAGE = 'usage: x [--help]\n\nmore text';

afterEach(() => vi.restoreAllMocks());

describe('parseCommandLine', () => {
  const options = { runs: { type: 'string' }, quick: { type: 'boolean' } } as const;
  const parse = (argv: string[]) => parseCommandLine(argv, options, { runs: '3' });

  it('reads name=value and name value, booleans and --help/-h', () => {
    expect(parse(['--runs=3'])).toMatchObject({ runs: '3' });
    expect(parse(['--runs', '4', '--quick'])).toMatchObject({ runs: '4', quick: true });
    expect(parse(['-h']).help).toBe(true);
    expect(parse([])).toEqual({});
  });

  it.each([
    [['--runs'], '--runs expects a value, e.g. --runs=3'],
    [['--runs', '--quick'], '--runs expects a value, e.g. --runs=3'],
    [['--quick=yes'], '--quick takes no value'],
    [['--fast'], 'unknown argument "--fast" (try --help)'],
    [['fast'], 'unknown argument "fast" (try --help)'],
    [['--runs=1', '--runs=2'], '--runs given twice'],
  ])('refuses %j with one clear line', (argv, message) => {
    expect(() => parse(argv)).toThrow(UsageError);
    expect(() => parse(argv)).toThrow(message);
  });
});

describe('wholeNumber', () => {
  it('takes a whole number within its bounds', () => {
    expect(wholeNumber('--runs', '5', 1, 20)).toBe(5);
    expect(() => wholeNumber('--runs', '0', 1, 20)).toThrow('--runs expects a whole number from 1 to 20, got "0"');
    expect(() => wholeNumber('--runs', 'two', 1, 20)).toThrow(UsageError);
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
    expect(errors.mock.calls.map((c) => String(c[0]))).toEqual(['x: unknown argument "--bad" (try --help)', 'usage: x [--help]']);
    expect(startCli('x', ['--help'], parse, USAGE, process.cwd())).toEqual({ exitCode: 0 });
    expect(logs.mock.calls.map((c) => String(c[0]))).toEqual([USAGE]);
    expect(startCli('x', ['missing.config.ts'], parse, USAGE, process.cwd())).toEqual({ exitCode: 2 });
    expect(errors.mock.calls.at(-1)?.[0]).toBe('x: --config: no such file missing.config.ts');
  });

  it('gives the options and the resolved config path when it can run', () => {
    const start = startCli('x', [], parse, USAGE, process.cwd());
    expect(start).toEqual({ options: { help: false, config: 'package.json' }, configPath: join(process.cwd(), 'package.json') });
  });
});
