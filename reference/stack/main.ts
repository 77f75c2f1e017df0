/**
 * `npm run stack`: the reference stack in the foreground. Embedded Postgres (or DATABASE_URL),
 * migrations and seeds, the queues, the Vultr and Stripe emulators (hosted in this process), then
 * the API server (serving the built web UI) and the worker, each a child process running an esbuild
 * bundle and logging to <STACK_DIR>/logs/. Ctrl+C, SIGTERM, SIGHUP or the death of whoever started
 * it stop everything it started.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { portOf, workerProbeUrl, type StackConfig } from '../lib/config';
import { parseFaults, type FaultName } from '../lib/faults';
import { parseVariants, variantList, type VariantName } from '../lib/variants';
import { parseArgs, USAGE, UsageError, type StackArgs } from './args';
import { bundleEntries } from './bundle';
import { CHILD_GUARD_FILE, ManagedChild, waitHealthy } from './children';
import { emulatorPlan, type HostedEmulator } from './emulators';
import { fromRepoRoot, REFERENCE_DIR, REPO_ROOT } from './paths';
import { ClusterError, forgetClusters, stackDataDir, tidyCheckoutHome } from '../db/cluster';
import { databaseTarget, startEmbeddedPostgres, stopOrphanedPostgres, type EmbeddedDatabase } from './postgres';
import { busyPorts, isHealthy, pidAlive, portInUse, sleep } from './probe';
import { loadStackConfig } from './stack-config';
import { buildWeb, webBuildState } from './web-build';

const STARTUP_TIMEOUT_MS = 60_000;
const CHILD_STOP_GRACE_MS = 5_000;
/** Node flags of the API server and worker (stack traces through the bundles' source maps). */
const CHILD_NODE_ARGS = ['--enable-source-maps'];
/** Faults that change what migrate/seed write: they only bite on a database created with them. */
const DATABASE_FAULTS: FaultName[] = ['pending_migration', 'stale_plan_limits', 'ai_quota_exhausted', 'platform_credential_missing', 'credential_unhealthy'];
/** Variants that change the schema: like the database faults, they only bite on a new database. */
const DATABASE_VARIANTS: VariantName[] = ['cloud_id_in_config'];

/** Faults and variants the stack starts with. */
type Switches = { faults: FaultName[]; variants: VariantName[] };

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function fail(line: string): void {
  process.stderr.write(`stack: ${line}\n`);
}

type Part = { name: string; variable: string; url: string; port: number; healthUrl: string };

function partsOf(config: StackConfig): Part[] {
  return [
    { name: 'API server', variable: 'BASE_URL', url: config.baseUrl, port: portOf(config.baseUrl), healthUrl: `${config.baseUrl}/up` },
    {
      name: 'Vultr emulator',
      variable: 'VULTR_API_URL',
      url: config.vultrApiUrl,
      port: portOf(config.vultrApiUrl),
      healthUrl: `${new URL(config.vultrApiUrl).origin}/__emulator/health`,
    },
    {
      name: 'Stripe emulator',
      variable: 'STRIPE_API_BASE',
      url: config.stripeApiBase,
      port: portOf(config.stripeApiBase),
      healthUrl: `${config.stripeApiBase}/__emulator/health`,
    },
    // The stack's own probe path: it answers whether or not the worker_command variant hides /health.
    { name: 'worker', variable: 'WORKER_HEALTH_URL', url: config.workerHealthUrl, port: portOf(config.workerHealthUrl), healthUrl: workerProbeUrl(config.workerHealthUrl) },
  ];
}

function redact(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '***';
  return url.toString();
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim().split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** `--stop`: SIGTERM the orchestrator named in stack.pid and wait for it and its ports to go. */
async function stopRunningStack(stackDir: string, config: StackConfig): Promise<number> {
  const pidFile = join(stackDir, 'stack.pid');
  const pid = readPid(pidFile);
  if (pid === undefined || !pidAlive(pid)) {
    if (existsSync(pidFile)) unlinkSync(pidFile);
    say(`no stack running from ${stackDir}`);
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 20_000;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    fail(`the stack (pid ${pid}) did not stop within 20 s; kill it with: kill -9 ${pid}`);
    return 1;
  }
  const ports = partsOf(config).map((p) => p.port);
  if (config.embeddedDatabase) ports.push(databaseTarget(config.databaseUrl).port);
  while (Date.now() < deadline) {
    const busy = await busyPorts(ports);
    if (busy.length === 0) {
      say(`stack (pid ${pid}) stopped`);
      return 0;
    }
    await sleep(100);
  }
  fail(`the stack stopped but these ports are still in use: ${ports.join(', ')}`);
  return 1;
}

/** After a stop: this checkout's copy of the Postgres binaries outside it, once no cluster of it runs. */
function tidyAfterStop(): number {
  for (const path of tidyCheckoutHome()) say(`removed ${path}`);
  return 0;
}

/** `--forget`: STACK_DIR and whatever the stack keeps outside the checkout. */
function forgetStack(stackDir: string): number {
  const { removed, kept } = forgetClusters(stackDir, { everything: true });
  rmSync(stackDir, { recursive: true, force: true });
  for (const path of [stackDir, ...removed]) say(`removed ${path}`);
  for (const path of kept) fail(`kept ${path}: a Postgres still runs on it (another stack or a unit test of this checkout); stop it, then --forget again`);
  return kept.length > 0 ? 1 : 0;
}

class Stack {
  readonly children: ManagedChild[] = [];
  readonly emulators: HostedEmulator[] = [];
  database: EmbeddedDatabase | undefined;
  private stopping: Promise<never> | undefined;

  constructor(private readonly pidFile: string) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  start(child: ManagedChild): ManagedChild {
    this.children.push(child);
    return child;
  }

  /** Children first (they hold database connections and call the emulators), then the emulators and Postgres; then exit. */
  shutdown(reason: string, code: number): Promise<never> {
    this.stopping ??= (async () => {
      say(`stopping the stack (${reason})`);
      await Promise.all(this.children.map((c) => c.stop(CHILD_STOP_GRACE_MS)));
      await Promise.all(this.emulators.map((e) => e.close().catch((error: unknown) => fail(`stopping the ${e.name}: ${(error as Error).message}`))));
      await this.database?.stop().catch((error: unknown) => fail(`stopping Postgres: ${(error as Error).message}`));
      if (readPid(this.pidFile) === process.pid) rmSync(this.pidFile, { force: true });
      say('stack stopped');
      process.exit(code);
    })();
    return this.stopping;
  }

  /** Last resort on an abrupt exit: no child may outlive the orchestrator. */
  killRemaining(): void {
    for (const child of this.children) if (child.alive) child.process.kill('SIGTERM');
    if (readPid(this.pidFile) === process.pid) rmSync(this.pidFile, { force: true });
  }
}

/** Returns a note on how the embedded cluster came to be, when this start created it. */
async function prepareDatabase(config: StackConfig, { faults, variants }: Switches, stack: Stack, stackDir: string, logsDir: string): Promise<string[]> {
  // Not needed before Postgres is up: loaded while it initialises rather than ahead of its start.
  const tools = Promise.all([import('../db/migrate'), import('../db/pool'), import('../lib/queue')]);
  // Awaited below; should Postgres fail first, a failed load must not count as unhandled.
  tools.catch(() => undefined);
  const notes: string[] = [];
  if (config.embeddedDatabase) {
    const started = performance.now();
    stack.database = await startEmbeddedPostgres({
      stackDir,
      databaseUrl: config.databaseUrl,
      logFile: join(logsDir, 'postgres.log'),
    });
    if (stack.database.initialised) notes.push(`Postgres: new cluster (initdb) up in ${Math.round(performance.now() - started)} ms`);
  }
  // The application's schema and pg-boss's own (its tables, then the queues, which must exist
  // before the API server sends or the worker polls) are independent: built side by side.
  const [{ migrate, seed, appliedVariantMigrations }, { createPool }, { createBoss, ensureQueues }] = await tools;
  const pool = createPool(config.databaseUrl, 3);
  const boss = createBoss(config.databaseUrl, { pool, sendOnly: true });
  const application = async () => {
    await migrate(pool, { leavePending: faults.includes('pending_migration') ? ['0004'] : [], variants });
    // A schema variant is fixed when the database is created: a start that disagrees with the
    // database would fail on its first NodeInstance, so it stops here instead, saying why.
    const carried = await appliedVariantMigrations(pool);
    for (const name of DATABASE_VARIANTS) {
      if (variants.includes(name) && !carried.includes(name)) {
        throw new Error(`variant ${name} changes the schema, and this database was created without it: add --fresh`);
      }
      if (!variants.includes(name) && carried.includes(name)) {
        throw new Error(`this database was created with variant ${name}: name it again (--variants=${name}) or add --fresh`);
      }
    }
    await seed(pool, {
      vultrApiKey: config.vultrApiKey,
      credentialsEncryptionKey: config.credentialsEncryptionKey,
      stalePlanLimits: faults.includes('stale_plan_limits'),
      aiQuotaExhausted: faults.includes('ai_quota_exhausted'),
      platformCredentialMissing: faults.includes('platform_credential_missing'),
      platformCredentialUnhealthy: faults.includes('credential_unhealthy'),
    });
  };
  const queues = async () => {
    await boss.start();
    try {
      await ensureQueues(boss);
    } finally {
      await boss.stop({ graceful: false });
    }
  };
  const [schema, queue] = await Promise.allSettled([application(), queues()]);
  await pool.end();
  const failed = [schema, queue].find((outcome) => outcome.status === 'rejected');
  if (failed) {
    const error = (failed as PromiseRejectedResult).reason as Error;
    throw new Error(`preparing the database at ${redact(config.databaseUrl)}: ${error.message}`, { cause: error });
  }
  return notes;
}

async function prepareWeb(logsDir: string): Promise<string> {
  const webDir = join(REFERENCE_DIR, 'web');
  const state = webBuildState(webDir);
  if (state === 'no_web_sources') return 'web UI: no reference/web sources yet; skipped the build';
  if (state === 'fresh') return 'web UI: reference/web/dist is current';
  const started = performance.now();
  await buildWeb(REFERENCE_DIR, join(logsDir, 'web-build.log'));
  return `web UI: built reference/web/dist (${state}) in ${Math.round(performance.now() - started)} ms`;
}

/** The API server and the worker as bundles in <STACK_DIR>/build (reused while their sources are unchanged). */
async function bundleChildren(stackDir: string): Promise<{ outputs: Map<string, string>; note: string }> {
  const started = performance.now();
  const entry = (name: string, file: string) => ({ name, file: join(REFERENCE_DIR, file), preload: [CHILD_GUARD_FILE] });
  const outDir = join(stackDir, 'build');
  try {
    const result = await bundleEntries([entry('api', 'server/main.ts'), entry('worker', 'worker/main.ts')], outDir);
    const how = result.reused ? 'sources unchanged, reused' : `built in ${Math.round(performance.now() - started)} ms`;
    return { outputs: result.outputs, note: `API server and worker bundles: ${how} (${outDir})` };
  } catch (error) {
    throw new Error(`bundling the API server and worker: ${(error as Error).message}`, { cause: error });
  }
}

async function startStack(args: StackArgs, config: StackConfig, switches: Switches, stackDir: string): Promise<number> {
  const { faults, variants } = switches;
  const began = performance.now();
  const emulated = emulatorPlan(faults, process.env, config);
  const notStarted = new Set([
    ...(faults.includes('worker_not_started') ? ['worker'] : []),
    ...(emulated.vultr ? [] : ['Vultr emulator']),
    ...(emulated.stripe ? [] : ['Stripe emulator']),
  ]);
  const parts = partsOf(config).filter((p) => !notStarted.has(p.name));
  const pidFile = join(stackDir, 'stack.pid');

  const ports = new Map<number, string>();
  for (const part of [...parts, ...(config.embeddedDatabase ? [{ variable: 'DATABASE_URL', port: databaseTarget(config.databaseUrl).port }] : [])]) {
    const other = ports.get(part.port);
    if (other) {
      fail(`${part.variable} and ${other} both use port ${part.port}; give each its own port`);
      return 2;
    }
    ports.set(part.port, part.variable);
  }

  // Only a stack whose every port listens can be a healthy one; a cold start skips the HTTP checks.
  const listening = await Promise.all(parts.map((p) => portInUse(p.port)));
  const healthy = listening.every(Boolean) && (await Promise.all(parts.map((p) => isHealthy(p.healthUrl)))).every(Boolean);
  if (healthy) {
    say(`stack already running at ${config.baseUrl}`);
    if (args.faults?.length || args.variants?.length || args.fresh) {
      say('note: --faults/--variants/--fresh ignored; stop it first (npm run stack -- --stop) to restart with them');
    }
    return 0;
  }

  const runningPid = readPid(pidFile);
  if (runningPid !== undefined && pidAlive(runningPid) && runningPid !== process.pid) {
    fail(`a stack from ${stackDir} is running (pid ${runningPid}) but not healthy; stop it with: npm run stack -- --stop`);
    return 1;
  }

  const dataDir = stackDataDir(stackDir);
  if (config.embeddedDatabase) {
    const orphan = await stopOrphanedPostgres(dataDir);
    if (orphan) say(`stopped Postgres (pid ${orphan}) left running by an earlier stack`);
  }

  const busy: string[] = [];
  for (const [port, variable] of ports) {
    if (await portInUse(port)) busy.push(`port ${port} (${variable}) is in use by another process`);
  }
  if (busy.length > 0) {
    for (const line of busy) fail(line);
    fail('free those ports or point the variables at free ones (.env), then start again');
    return 1;
  }

  if (args.fresh) {
    for (const state of ['vultr-state.json', 'stripe-state.json']) rmSync(join(stackDir, state), { recursive: true, force: true });
    if (config.embeddedDatabase) forgetClusters(stackDir, { everything: false });
  } else {
    const existing = config.embeddedDatabase ? existsSync(join(dataDir, 'PG_VERSION')) : true;
    const late = faults.filter((f) => DATABASE_FAULTS.includes(f));
    if (existing && late.length > 0) say(`note: ${late.join(', ')} only take effect on a new database; add --fresh`);
  }
  const logsDir = join(stackDir, 'logs');
  mkdirSync(logsDir, { recursive: true });
  writeFileSync(pidFile, `${process.pid}\n`);

  const stack = new Stack(pidFile);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stack.shutdown(signal, 0));
  process.on('exit', () => stack.killRemaining());
  process.on('uncaughtException', (error) => {
    fail(`unexpected error: ${error.stack ?? error.message}`);
    void stack.shutdown('unexpected error', 1);
  });
  process.on('unhandledRejection', (error) => {
    fail(`unexpected error: ${(error as Error)?.stack ?? String(error)}`);
    void stack.shutdown('unexpected error', 1);
  });
  // Killed by a test runner that only ends its own child (us): the children must go too.
  const parentPid = process.ppid;
  setInterval(() => {
    if (process.ppid !== parentPid) void stack.shutdown('the process that started the stack exited', 0);
  }, 250).unref();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV || 'production',
    // glibc gives each thread of libuv's pool its own malloc arena, and each keeps the 16 MB that one
    // scrypt (password hashing) needed: up to 64 MB held for good. One arena keeps one such block
    // and reuses it warm, so a hash also runs faster than with blocks mapped fresh each time.
    MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || '1',
    BASE_URL: config.baseUrl,
    VULTR_API_URL: config.vultrApiUrl,
    STRIPE_API_BASE: config.stripeApiBase,
    WORKER_HEALTH_URL: config.workerHealthUrl,
    DATABASE_URL: config.databaseUrl,
    STACK_DIR: stackDir,
    STACK_CHECKOUT: REPO_ROOT,
    STACK_FAULTS: faults.join(','),
    STACK_VARIANTS: variants.join(','),
    VULTR_API_KEY: config.vultrApiKey,
    // One emulated Vultr account per key: the platform pool's, and a second account's (CONTRACT 1).
    VULTR_EMULATOR_KEYS: process.env.VULTR_EMULATOR_KEYS || [config.vultrApiKey, config.vultrIsolationKey].join(','),
    VULTR_FAULTS: emulated.vultrFaults,
    VULTR_BOOT_DELAY_MS: String(config.vultrBootDelayMs),
    STRIPE_WEBHOOK_URL: process.env.STRIPE_WEBHOOK_URL || `${config.baseUrl}/api/v1/billing/stripe/webhook`,
  };
  const part = (name: string) => parts.find((p) => p.name === name)!;
  const child = (name: string, bundle: string, log: string) =>
    stack.start(
      new ManagedChild({
        name,
        file: bundle,
        bundled: true,
        gated: true,
        nodeArgs: CHILD_NODE_ARGS,
        logFile: join(logsDir, log),
        healthUrl: part(name).healthUrl,
        env,
        cwd: REFERENCE_DIR,
      }),
    );

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let phases: string;
  try {
    const notes: string[] = [];
    // Postgres first: its initdb is the longest step of a cold start. Nothing else needs the
    // database: the API server and the worker are started as soon as their bundles exist, load
    // their code while Postgres initialises, and are released (start-gate.ts) once it is ready.
    const database = prepareDatabase(config, switches, stack, stackDir, logsDir).then((databaseNotes) => {
      notes.push(...databaseNotes);
      return performance.now() - began;
    });
    const bundling = bundleChildren(stackDir).then((bundles) => {
      notes.push(bundles.note);
      return bundles.outputs;
    });
    const web = prepareWeb(logsDir).then((note) => void notes.push(note));
    // The API server decides at start whether there is a web UI to serve: after any web build.
    const api = Promise.all([bundling, web]).then(([bundles]) => (stack.isStopping ? undefined : child('API server', bundles.get('api')!, 'api.out.log')));
    const worker = faults.includes('worker_not_started')
      ? Promise.resolve(undefined)
      : bundling.then((bundles) => (stack.isStopping ? undefined : child('worker', bundles.get('worker')!, 'worker.log')));
    // Loaded here, not at the top: the emulators' code is not needed before Postgres starts.
    const emulators = import('./emulators');
    const [databaseReadyMs] = await Promise.all([
      database,
      emulated.vultr && emulators.then(({ startVultr }) => startVultr(env, join(logsDir, 'vultr.log'))).then((e) => void stack.emulators.push(e)),
      emulated.stripe &&
        emulators
          .then(({ startStripe }) => startStripe(config, { ...env, STRIPE_WEBHOOK_URL: emulated.stripeWebhookUrl }, stackDir, join(logsDir, 'stripe.log')))
          .then((e) => void stack.emulators.push(e)),
      // A failed bundle or web build fails the start at once, not after the database.
      api,
      worker,
      Promise.all([database, api, worker]).then(async ([, ...started]) => {
        const backends = started.filter((c) => c !== undefined);
        if (stack.isStopping) return;
        for (const backend of backends) backend.release();
        await Promise.all(backends.map((c) => waitHealthy(c, deadline)));
      }),
    ]);
    for (const note of notes) say(note);
    phases = `database ready at ${Math.round(databaseReadyMs)} ms`;
  } catch (error) {
    fail((error as Error).message);
    return stack.shutdown('startup failed', 1);
  }

  for (const c of stack.children) {
    void c.exited.then((exit) => {
      if (stack.isStopping) return;
      fail(`${c.name} exited unexpectedly (${exit.signal ?? `code ${exit.code}`}); last lines of ${c.spec.logFile}:\n${c.tail()}`);
      void stack.shutdown(`${c.name} exited`, 1);
    });
  }

  say(`  web + API  ${config.baseUrl}`);
  say(`  Vultr      ${emulated.vultr ? config.vultrApiUrl : 'not started (fault vultr_unreachable)'}`);
  say(`  Stripe     ${emulated.stripe ? config.stripeApiBase : 'not started (fault stripe_unreachable)'}`);
  say(
    `  worker     ${
      faults.includes('worker_not_started')
        ? 'not started (fault worker_not_started)'
        : variants.includes('worker_command')
          ? 'no health URL (variant worker_command): npm run --silent worker-state --workspace reference'
          : config.workerHealthUrl
    }`,
  );
  say(`  Postgres   ${redact(config.databaseUrl)}${stack.database ? ` (embedded, data in ${stack.database.home.dataDir}${stack.database.home.runAs ? `, run as ${stack.database.home.runAs.name}` : ''})` : ''}`);
  say(`  logs       ${logsDir}${variants.includes('log_journald') ? ` (backend: cat ${join(logsDir, 'backend.journal')})` : ''}`);
  say(`  faults     ${faults.length > 0 ? faults.join(', ') : 'none'}`);
  say(`  variants   ${variants.length > 0 ? variants.join(', ') : 'none'}`);
  say(`stack ready in ${Math.round(performance.now() - began)} ms (${phases}; stop: Ctrl+C or npm run stack -- --stop)`);
  // Children and Postgres keep the event loop alive until shutdown exits.
  return new Promise<number>(() => undefined);
}

async function main(argv: string[]): Promise<number> {
  let args: StackArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      fail(error.message);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    say(USAGE);
    return 0;
  }
  if (args.listVariants) {
    say(variantList());
    return 0;
  }

  let config: StackConfig;
  let switches: Switches;
  try {
    config = loadStackConfig();
    switches = { faults: args.faults ?? parseFaults(config.faults), variants: args.variants ?? parseVariants(config.variants) };
  } catch (error) {
    for (const line of (error as Error).message.split('\n')) fail(line);
    return 2;
  }
  const stackDir = fromRepoRoot(config.stackDir);
  if (args.stop || args.forget) {
    const stopped = await stopRunningStack(stackDir, config);
    if (stopped !== 0) return stopped;
    return args.forget ? forgetStack(stackDir) : tidyAfterStop();
  }
  mkdirSync(stackDir, { recursive: true });
  return startStack(args, config, switches, stackDir);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    fail(error instanceof ClusterError ? error.message : ((error as Error).stack ?? String(error)));
    process.exit(1);
  },
);
