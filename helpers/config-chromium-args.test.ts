// CHROMIUM_ARGS on its own file while config.test.ts changes on other branches; fold it in later.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, splitArgs } from './config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('CHROMIUM_ARGS', () => {
  it('is no extra flag by default', () => {
    expect(parseConfig({}).CHROMIUM_ARGS).toEqual([]);
  });

  it('splits on blanks and keeps a quoted value whole, quotes removed', () => {
    const config = parseConfig({
      CHROMIUM_ARGS: ` --host-resolver-rules="MAP dev.powernode.test 127.0.0.1,MAP db.powernode.test 127.0.0.1"   --lang='en US' --no-sandbox `,
    });
    expect(config.CHROMIUM_ARGS).toEqual(['--host-resolver-rules=MAP dev.powernode.test 127.0.0.1,MAP db.powernode.test 127.0.0.1', '--lang=en US', '--no-sandbox']);
  });

  it('expands nothing: a shell would, this does not', () => {
    expect(splitArgs('--user-data-dir=$HOME/x --a=`id` --b=$(id)')).toEqual(['--user-data-dir=$HOME/x', '--a=`id`', '--b=$(id)']);
  });

  it('refuses a word that is not a flag, and an unclosed quote, naming the variable', () => {
    expect(problemsOf({ CHROMIUM_ARGS: '--ok about:blank -x' })).toEqual([
      'CHROMIUM_ARGS: expects Chromium flags separated by spaces, each starting with -- (quote a value with spaces); has "about:blank", "-x"',
    ]);
    expect(problemsOf({ CHROMIUM_ARGS: '--host-resolver-rules="MAP a.test 127.0.0.1' })).toEqual([
      'CHROMIUM_ARGS: expects Chromium flags separated by spaces, each starting with -- (quote a value with spaces); has an unclosed " quote',
    ]);
  });
});
