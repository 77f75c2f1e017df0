/**
 * `@m1/reference/stack`: what a tool outside reference/ needs to run a stack of its own (the
 * suite's harnesses start one per run on ports of their own): the default addresses, the
 * variables that move them, the start and stop commands, and the line that says it is ready.
 * Everything here is derived from the stack's own config and entry point, so it cannot drift.
 */
import { DEFAULT_DATABASE_URL, portOf, readStackConfig } from '../lib/config';
import { REFERENCE_DIR } from '../stack/paths';

export { DEFAULT_DATABASE_URL };
/** Where a stack's embedded Postgres keeps its data (outside the checkout as root), and how to forget it. */
export { checkoutHomeDir, forgetClusters, pgHome, stackDataDir } from '../db/cluster';

export type StackPorts = { base: number; vultr: number; stripe: number; worker: number; postgres: number };

const defaults = readStackConfig({});

/** The ports of a stack started with no variables set (CONTRACT section 1). */
export const DEFAULT_PORTS: Readonly<StackPorts> = {
  base: portOf(defaults.baseUrl),
  vultr: portOf(defaults.vultrApiUrl),
  stripe: portOf(defaults.stripeApiBase),
  worker: portOf(defaults.workerHealthUrl),
  postgres: portOf(DEFAULT_DATABASE_URL),
};

/** How long the Vultr emulator takes to boot an instance when VULTR_BOOT_DELAY_MS is not set. */
export const DEFAULT_VULTR_BOOT_DELAY_MS = defaults.vultrBootDelayMs;

/** The embedded Postgres's URL on another port: same user, password and database. */
export function embeddedDatabaseUrl(port: number): string {
  const url = new URL(DEFAULT_DATABASE_URL);
  url.port = String(port);
  return url.toString();
}

/**
 * True when the URL names the stack's own embedded Postgres (its user, password and database),
 * whatever the host and port. The stack reads a set DATABASE_URL as "use that server", so a
 * caller gives it STACK_PG_PORT instead (see embeddedDatabaseEnv).
 */
export function isEmbeddedDatabaseUrl(databaseUrl: string): boolean {
  const own = new URL(DEFAULT_DATABASE_URL);
  const url = new URL(databaseUrl);
  return url.username === own.username && url.password === own.password && url.pathname === own.pathname;
}

/** The variables that start the embedded Postgres on a port: DATABASE_URL empty (not unset, so .env cannot fill it in). */
export function embeddedDatabaseEnv(port: number): { DATABASE_URL: string; STACK_PG_PORT: string } {
  return { DATABASE_URL: '', STACK_PG_PORT: String(port) };
}

/** The variables the stack (and the suite) read for each part's address. */
export function stackAddresses(ports: StackPorts) {
  const base = `http://127.0.0.1:${ports.base}`;
  return {
    BASE_URL: base,
    VULTR_API_URL: `http://127.0.0.1:${ports.vultr}/v2`,
    STRIPE_API_BASE: `http://127.0.0.1:${ports.stripe}`,
    WORKER_HEALTH_URL: `http://127.0.0.1:${ports.worker}/health`,
    STRIPE_WEBHOOK_URL: `${base}/api/v1/billing/stripe/webhook`,
  };
}

/** Each part's health check, as the stack itself polls them at start. */
export function healthUrls(ports: StackPorts): string[] {
  const a = stackAddresses(ports);
  return [`${a.BASE_URL}/up`, `http://127.0.0.1:${ports.vultr}/__emulator/health`, `${a.STRIPE_API_BASE}/__emulator/health`, a.WORKER_HEALTH_URL];
}

export type StackCommand = { command: string; args: string[]; cwd: string };

/**
 * `npm run stack` without npm: run with node directly, the stack's parent is the caller, and the
 * stack stops itself when its parent goes. `fresh` wipes its state first; `faults` switches faults on.
 */
export function startCommand(options: { fresh?: boolean; faults?: readonly string[] } = {}): StackCommand {
  const args = ['--import', 'tsx', 'stack/main.ts'];
  if (options.fresh) args.push('--fresh');
  if (options.faults && options.faults.length > 0) args.push(`--faults=${options.faults.join(',')}`);
  return { command: process.execPath, args, cwd: REFERENCE_DIR };
}

/** `npm run stack -- --stop`: stops the stack whose STACK_DIR the environment names. */
export function stopCommand(): StackCommand {
  return { command: process.execPath, args: ['--import', 'tsx', 'stack/main.ts', '--stop'], cwd: REFERENCE_DIR };
}

/** The line the stack prints once every part it started is healthy, with its own start time. */
export const READY_LINE = /^stack ready in (\d+) ms/m;

/** Lines of its start that say where the time went (a new cluster, the bundles, the web build). */
export const START_NOTE = /^(Postgres: new cluster|API server and worker bundles|web UI:)/;
