/**
 * `npm run test:fresh-clone`: the reference stack and a unit test's throwaway database start from a
 * clone in a folder that only its owner may enter (mode 0700, like root's home or `mktemp -d`), whose
 * path has spaces. As root, Postgres runs as another OS user, which cannot enter such a folder: this
 * proves its binaries and data are placed where it can, tied to the clone, and that
 * `npm run stack -- --stop` and `--forget` leave no process and no file of the clone's behind.
 *
 * The clone gets this checkout's installed node_modules and built web UI by hard link (a copy across
 * file systems), so it measures the placement, not an `npm ci`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkoutHomeDir, pgHome } from '@m1/reference/stack';
import { busyPorts } from '@m1/reference/probe';
import { processesMentioning } from './lib/proc';

const ROOT = resolve(import.meta.dirname, '..');
const PORTS = { base: 4601, vultr: 4602, stripe: 4603, worker: 4604, postgres: 54601 } as const;
const READY_TIMEOUT_MS = 120_000;
const USAGE = 'usage: npm run test:fresh-clone [-- --keep]\n\n  --keep   leave the clone folder for inspection (its stack is still stopped and forgotten)';

type Check = { name: string; ok: boolean; detail?: string };

function say(line: string): void {
  process.stdout.write(`fresh-clone: ${line}\n`);
}

/** node_modules by hard link where the file system allows it: the clone's own files, at no copy cost. */
function hardLinkTree(from: string, to: string): void {
  if (spawnSync('cp', ['-al', from, to]).status === 0) return;
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, verbatimSymlinks: true });
}

/** The environment a stack from the clone runs with: its own ports, its own embedded Postgres. */
function cloneEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(DATABASE_URL|STACK_DIR|STACK_FAULTS|BASE_URL|VULTR_API_URL|STRIPE_API_BASE|WORKER_HEALTH_URL|STRIPE_WEBHOOK_URL|npm_)/.test(name)) delete env[name];
  }
  return {
    ...env,
    BASE_URL: `http://127.0.0.1:${PORTS.base}`,
    VULTR_API_URL: `http://127.0.0.1:${PORTS.vultr}/v2`,
    STRIPE_API_BASE: `http://127.0.0.1:${PORTS.stripe}`,
    WORKER_HEALTH_URL: `http://127.0.0.1:${PORTS.worker}/health`,
    STRIPE_WEBHOOK_URL: `http://127.0.0.1:${PORTS.base}/api/v1/billing/stripe/webhook`,
    STACK_PG_PORT: String(PORTS.postgres),
  };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { code: number | null; output: string } {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 180_000 });
  return { code: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? `\n${result.error.message}` : ''}` };
}

function waitForReady(child: ChildProcess): Promise<{ ready: boolean; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const timer = setTimeout(() => resolve({ ready: false, output: `${output}\n(no "stack ready" within ${READY_TIMEOUT_MS / 1000} s)` }), READY_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (/stack ready in/.test(output)) {
        clearTimeout(timer);
        resolve({ ready: true, output });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ ready: false, output });
    });
  });
}


async function main(): Promise<number> {
  let keep: boolean;
  try {
    const { values } = parseArgs({ args: process.argv.slice(2), options: { keep: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } }, strict: true });
    if (values.help) {
      say(USAGE);
      return 0;
    }
    keep = values.keep;
  } catch (error) {
    process.stderr.write(`fresh-clone: ${(error as Error).message}\n${USAGE.split('\n')[0]}\n`);
    return 2;
  }
  const busy = await busyPorts(Object.values(PORTS));
  if (busy.length > 0) {
    process.stderr.write(`fresh-clone: ports ${busy.join(', ')} are in use; this check needs ${PORTS.base}-${PORTS.worker} and ${PORTS.postgres} free\n`);
    return 1;
  }

  const began = Date.now();
  // mkdtemp makes the folder 0700: nobody but its owner may enter it.
  const folder = mkdtempSync(join(tmpdir(), 'm1 fresh clone '));
  const clone = join(folder, 'm1 clone');
  const env = cloneEnv();
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string) => {
    checks.push({ name, ok, detail: ok ? undefined : detail });
    say(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? `: ${detail}` : ''}`);
  };
  let stack: ChildProcess | undefined;
  try {
    check('the folder is 0700', (statSync(folder).mode & 0o777) === 0o700, `mode ${(statSync(folder).mode & 0o777).toString(8)}`);
    const cloned = run('git', ['clone', '--quiet', '--no-hardlinks', ROOT, clone], folder, env);
    check('git clone', cloned.code === 0, cloned.output.trim());
    if (cloned.code !== 0) return 1;
    hardLinkTree(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    if (existsSync(join(ROOT, 'reference', 'node_modules'))) hardLinkTree(join(ROOT, 'reference', 'node_modules'), join(clone, 'reference', 'node_modules'));
    if (existsSync(join(ROOT, 'reference', 'web', 'dist'))) cpSync(join(ROOT, 'reference', 'web', 'dist'), join(clone, 'reference', 'web', 'dist'), { recursive: true });

    const home = pgHome(env);
    const cloneHome = home === undefined ? undefined : checkoutHomeDir(home, clone);
    say(`clone at ${clone}; its Postgres home: ${cloneHome ?? `${clone}/.stack/pgdata (this user runs Postgres)`}`);

    stack = spawn('npm', ['run', '--silent', 'stack'], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = await waitForReady(stack);
    const firstError = started.output.split('\n').find((line) => line.startsWith('stack: '));
    check('the stack starts from the clone', started.ready, firstError ?? started.output.trim().split('\n').slice(-5).join(' | '));
    if (started.ready) {
      const up = await fetch(`http://127.0.0.1:${PORTS.base}/api/v1/health`).then((r) => r.status, (e: Error) => e.message);
      check('its API answers /api/v1/health with 200 (the database answers)', up === 200, `got ${up}`);
      const email = `e2e+fresh-clone-${Date.now()}@e2e.powernode.test`;
      const register = await fetch(`http://127.0.0.1:${PORTS.base}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: 'fresh-clone-password-1', name: 'Fresh Clone' }),
      }).then((r) => r.status, (e: Error) => e.message);
      check('a signup is written to its database (201)', register === 201, `got ${register}`);
      const postgres = processesMentioning(`-p ${PORTS.postgres}`);
      if (cloneHome !== undefined) {
        const inHome = postgres.every((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(cloneHome));
        check("its Postgres runs from the clone's folder under STACK_PG_HOME", postgres.length > 0 && inHome, `postgres pids ${postgres.join(', ') || 'none'}`);
      }
    }

    const unit = run('npx', ['vitest', 'run', 'reference/db/migrate.test.ts', '--reporter=dot'], clone, env);
    check('a unit test starts a throwaway database from the clone', unit.code === 0, unit.output.trim().split('\n').slice(-8).join(' | '));

    const stop = run('npm', ['run', '--silent', 'stack', '--', '--stop'], clone, env);
    check('npm run stack -- --stop', stop.code === 0, stop.output.trim());
    await new Promise((resolve) => (stack!.exitCode === null ? stack!.once('close', resolve) : resolve(undefined)));
    stack = undefined;
    const left = [...new Set([...processesMentioning(clone), ...(cloneHome ? processesMentioning(cloneHome) : [])])];
    check('no process of the clone is left', left.length === 0, `pids ${left.join(', ')}`);
    check('its ports are free', (await busyPorts(Object.values(PORTS))).length === 0, (await busyPorts(Object.values(PORTS))).join(', '));
    if (cloneHome !== undefined) {
      const remaining = existsSync(cloneHome) ? readdirSync(cloneHome).filter((e) => e !== 'checkout' && !e.startsWith('stack-')) : [];
      check('--stop removed the binaries copy and throwaway clusters', remaining.length === 0, `left: ${remaining.join(', ')}`);
    }

    const forget = run('npm', ['run', '--silent', 'stack', '--', '--forget'], clone, env);
    check('npm run stack -- --forget', forget.code === 0, forget.output.trim());
    check('--forget removed the stack state in the clone', !existsSync(join(clone, '.stack')));
    if (cloneHome !== undefined) check("--forget removed the clone's folder under STACK_PG_HOME", !existsSync(cloneHome), `${cloneHome} still exists`);
  } finally {
    if (stack && stack.exitCode === null) {
      stack.kill('SIGTERM');
      await new Promise((resolve) => stack!.once('close', resolve));
    }
    if (!keep) rmSync(folder, { recursive: true, force: true });
    else say(`kept ${folder}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  say(`${failed === 0 ? 'PASS' : 'FAIL'}: ${checks.length - failed} of ${checks.length} checks in ${((Date.now() - began) / 1000).toFixed(1)} s`);
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`fresh-clone: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
