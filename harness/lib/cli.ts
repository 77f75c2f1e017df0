/**
 * What the scripts that run the suite their own way (bench, self-test, local shards) share on their
 * command line: the usage error, `--name=value` / `--name value` flags, the `--config` check, and
 * the start that turns a bad command line into exit code 2 with one clear line.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A bad command line: printed as one line, exit code 2, never a stack trace. */
export class UsageError extends Error {}

/**
 * The value of flag `name` at `argv[i]`, given as `name=value` or as the next argument, and the
 * index the caller's loop continues from. `example` goes into the message when the value is missing.
 */
export function flagValue(argv: readonly string[], i: number, name: string, example: string): [string, number] {
  const arg = argv[i]!;
  if (arg.startsWith(`${name}=`)) return [arg.slice(name.length + 1), i];
  const next = argv[i + 1];
  if (next === undefined || next.startsWith('--')) throw new UsageError(`${name} expects a value, e.g. ${name}=${example}`);
  return [next, i + 1];
}

/** `--config`: a Playwright config file, by its extension (whether it exists is checked at start). */
export function configFile(value: string): string {
  if (!/\.(ts|mts|js|mjs)$/.test(value)) throw new UsageError(`--config expects a Playwright config file (.ts or .js), got "${value}"`);
  return value;
}

/**
 * Parses the command line of `script`; prints `--help`, or the problem and the usage line, and
 * returns the exit code when there is nothing to run. Otherwise the options and the config's path.
 */
export function startCli<T extends { help: boolean; config: string }>(
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
