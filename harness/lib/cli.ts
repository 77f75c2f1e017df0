/**
 * The harnesses' command lines: node:util parseArgs, with its errors turned into one clear line
 * (a UsageError: exit code 2, never a stack trace), `--help`/`-h` on every command, the
 * `--config` check, and the start that runs `main` only when the module is the script invoked.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: printed as one line, exit code 2, never a stack trace. */
export class UsageError extends Error {}

type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
type WithHelp<O extends OptionSpecs> = O & { help: { type: 'boolean'; short: 'h' } };

/**
 * Parses `--name=value` / `--name value` flags and `--help`; no positionals. `examples` gives each
 * string flag a value to show when it is missing (`--runs expects a value, e.g. --runs=3`). A
 * flag given twice is refused unless its spec says `multiple`.
 */
export function parseCommandLine<O extends OptionSpecs>(argv: string[], options: O, examples: Partial<Record<keyof O, string>> = {}) {
  const specs = { ...options, help: { type: 'boolean', short: 'h' } } as WithHelp<O>;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: specs, strict: true, allowPositionals: false, tokens: true });
  } catch (error) {
    throw new UsageError(usageMessage(error as Error & { code?: string }, argv, examples));
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue;
    if (seen.has(token.name) && !specs[token.name]?.multiple) throw new UsageError(`--${token.name} given twice`);
    seen.add(token.name);
  }
  return parsed.values;
}

function usageMessage(error: Error & { code?: string }, argv: string[], examples: Record<string, string | undefined>): string {
  const option = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  const name = option?.replace(/^-+/, '') ?? '';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      // As typed, value and all.
      return `unknown argument "${argv.find((a) => a === option || a.startsWith(`${option}=`)) ?? option}" (try --help)`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unknown argument "${/'([^']*)'/.exec(error.message)?.[1]}" (try --help)`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(error.message)) return `${option} takes no value`;
      return examples[name] === undefined ? `${option} expects a value` : `${option} expects a value, e.g. ${option}=${examples[name]}`;
    default:
      return error.message;
  }
}

/** `--name`'s value as a whole number within [min, max]. */
export function wholeNumber(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`${name} expects a whole number from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** `--config`: a Playwright config file, by its extension (whether it exists is checked at start). */
export function configFile(value: string): string {
  if (value === '') throw new UsageError('--config expects a value, e.g. --config=playwright.config.ts');
  if (!/\.(ts|mts|js|mjs)$/.test(value)) throw new UsageError(`--config expects a Playwright config file (.ts or .js), got "${value}"`);
  return value;
}

/**
 * Parses the command line of `script`; prints `--help`, or the problem and the usage line, and
 * returns the exit code when there is nothing to run. Otherwise the options and, when they name
 * one, the config's resolved path (a missing config file is a usage error too).
 */
export function startCli<T extends { help: boolean; config?: string }>(
  script: string,
  argv: string[],
  parse: (argv: string[]) => T,
  usage: string,
  root: string,
): { options: T; configPath: string } | { exitCode: number } {
  let options: T;
  try {
    options = parse(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${script}: ${error.message}`);
    console.error(usage.split('\n')[0]);
    return { exitCode: 2 };
  }
  if (options.help) {
    console.log(usage);
    return { exitCode: 0 };
  }
  if (options.config === undefined) return { options, configPath: '' };
  const configPath = resolve(root, options.config);
  if (!existsSync(configPath)) {
    console.error(`${script}: --config: no such file ${options.config}`);
    return { exitCode: 2 };
  }
  return { options, configPath };
}

/**
 * Runs `main` with the command line when the module at `moduleUrl` is the script node was started
 * with (not when a test imports it), and exits with its code; an unexpected error exits 1.
 */
export function runWhenInvoked(script: string, moduleUrl: string, main: (argv: string[]) => Promise<number>): void {
  const entry = process.argv[1];
  if (entry === undefined || resolve(entry) !== fileURLToPath(moduleUrl)) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${script}: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
