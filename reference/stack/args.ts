/** Command-line flags of `npm run stack`. */
import { FAULTS, parseFaults, type FaultName } from '../lib/faults';
import { parseVariants, VARIANTS, type VariantName } from '../lib/variants';

export type StackArgs = {
  /** Undefined when no `--faults` flag was given (STACK_FAULTS then applies). */
  faults: FaultName[] | undefined;
  /** Undefined when no `--variants` flag was given (STACK_VARIANTS then applies). */
  variants: VariantName[] | undefined;
  fresh: boolean;
  stop: boolean;
  /** Stop, then remove everything the stack keeps: STACK_DIR and its Postgres home outside the checkout. */
  forget: boolean;
  help: boolean;
  /** `--list-variants`: print each variant's name and description, one a line. */
  listVariants: boolean;
};

export class UsageError extends Error {}

export const USAGE = `usage: npm run stack -- [--fresh] [--faults=name,...] [--variants=name,...] | --stop | --forget | --list-variants | --help

Starts the reference stack in the foreground: embedded Postgres (unless DATABASE_URL is set), the
Vultr and Stripe emulators, the API server with the web UI, and the worker. Ctrl+C stops it all.

  --fresh            wipe the stack's state first (database, emulator state) for a clean start
  --faults=a,b       start with these fault switches on (for the self-test); known faults:
${Object.entries(FAULTS)
  .map(([name, what]) => `                       ${name}: ${what}`)
  .join('\n')}
  --variants=a,b     start as public Powernode differs from the runbook in these ways (CONTRACT 9);
                       known variants: ${Object.keys(VARIANTS).join(', ')}
  --list-variants    print every variant, one a line: its name, then what it changes
  --stop             stop the stack started from this checkout (reads <STACK_DIR>/stack.pid)
  --forget           stop it, then remove all it keeps: <STACK_DIR> and, as root (or with
                       STACK_PG_HOME), this checkout's Postgres folder under STACK_PG_HOME
  --help             this text

Addresses and keys come from the environment or .env in the repository root (see .env.example).`;

export function parseArgs(argv: string[]): StackArgs {
  const args: StackArgs = { faults: undefined, variants: undefined, fresh: false, stop: false, forget: false, help: false, listVariants: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--fresh') args.fresh = true;
    else if (arg === '--stop') args.stop = true;
    else if (arg === '--forget') args.forget = true;
    else if (arg === '--help' || arg === '-h') args.help = true;
    else if (arg === '--list-variants') args.listVariants = true;
    else if (arg === '--faults' || arg.startsWith('--faults=')) {
      const value = arg === '--faults' ? argv[++i] : arg.slice('--faults='.length);
      if (value === undefined || value.startsWith('--')) throw new UsageError('--faults expects a comma list, e.g. --faults=quota_guard_disabled');
      try {
        args.faults = parseFaults(value);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    } else if (arg === '--variants' || arg.startsWith('--variants=')) {
      const value = arg === '--variants' ? argv[++i] : arg.slice('--variants='.length);
      if (value === undefined || value.startsWith('--')) throw new UsageError('--variants expects a comma list, e.g. --variants=route_core,errors_flat');
      try {
        args.variants = parseVariants(value);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    } else throw new UsageError(`unknown argument "${arg}" (try --help)`);
  }
  if (args.stop && args.forget) throw new UsageError('--forget already stops the stack: give one of --stop and --forget');
  for (const flag of ['stop', 'forget'] as const) {
    if (args[flag] && (args.fresh || args.faults || args.variants || args.listVariants)) throw new UsageError(`--${flag} takes no other flag`);
  }
  return args;
}
