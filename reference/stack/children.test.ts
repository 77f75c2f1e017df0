import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEntries } from './bundle';
import { CHILD_GUARD_FILE, ChildExitedError, ManagedChild, waitHealthy } from './children';
import { isHealthy, pidAlive, sleep } from './probe';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'm1-children-'));
  // A health endpoint on the port given as argv[2], exiting cleanly on SIGTERM.
  writeFileSync(
    join(dir, 'healthy.mjs'),
    `import { createServer } from 'node:http';
     const server = createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
     process.on('SIGTERM', () => server.close(() => process.exit(0)));`,
  );
  writeFileSync(join(dir, 'crash.mjs'), `console.error('boom: missing configuration'); process.exit(3);`);
  // Runs forever, recording its pid: the grandchild of the guard test.
  writeFileSync(join(dir, 'forever.mjs'), `import { writeFileSync } from 'node:fs'; writeFileSync(process.env.PID_FILE, String(process.pid)); setInterval(() => {}, 1000);`);
  // What the stack's API server and worker do: load, wait at the gate, then serve.
  writeFileSync(
    join(dir, 'gated.ts'),
    `import { createServer } from 'node:http';
     import { startGate } from ${JSON.stringify(fileURLToPath(new URL('./start-gate.ts', import.meta.url)))};
     await startGate();
     const server = createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
     process.on('SIGTERM', () => server.close(() => process.exit(0)));`,
  );
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

function spec(name: string, file: string, env: NodeJS.ProcessEnv = {}, healthUrl = 'http://127.0.0.1:1/health') {
  return { name, file: join(dir, file), logFile: join(dir, `${name}.log`), healthUrl, env: { ...process.env, ...env }, cwd: dir };
}

async function bundle(name: string, file: string): Promise<string> {
  const { outputs } = await bundleEntries([{ name, file: join(dir, file), preload: [CHILD_GUARD_FILE] }], join(dir, 'build'));
  return outputs.get(name)!;
}

describe('ManagedChild', () => {
  it('starts a child, waits until healthy, and stops it by SIGTERM', async () => {
    const port = await freePort();
    const child = new ManagedChild(spec('healthy', 'healthy.mjs', { PORT: String(port) }, `http://127.0.0.1:${port}/health`));

    await waitHealthy(child, Date.now() + 10_000);
    expect(child.alive).toBe(true);

    await child.stop();
    expect(child.exit).toEqual({ code: 0, signal: null });
  });

  it('reports a child that exits during startup with the end of its log', async () => {
    const child = new ManagedChild(spec('crash', 'crash.mjs'));

    const error = await waitHealthy(child, Date.now() + 10_000).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ChildExitedError);
    expect((error as Error).message).toMatch(/crash exited during startup \(code 3\)/);
    expect((error as Error).message).toContain('boom: missing configuration');
  });

  it('holds a gated, bundled child at the gate until released, then lets it start', async () => {
    const port = await freePort();
    const healthUrl = `http://127.0.0.1:${port}/health`;
    const file = await bundle('gated', 'gated.ts');
    const child = new ManagedChild({ ...spec('gated', 'gated.ts', { PORT: String(port) }, healthUrl), file, bundled: true, gated: true });

    await sleep(500);
    expect(child.alive).toBe(true);
    expect(await isHealthy(healthUrl)).toBe(false);

    child.release();
    await waitHealthy(child, Date.now() + 10_000);
    await child.stop();
    expect(child.exit).toEqual({ code: 0, signal: null });
  });

  it('does not outlive an orchestrator that is killed outright', async () => {
    const pidFile = join(dir, 'grandchild.pid');
    const childrenModule = fileURLToPath(new URL('./children.ts', import.meta.url));
    const orchestrator = join(dir, 'orchestrator.mjs');
    writeFileSync(
      orchestrator,
      `const { ManagedChild } = await import(${JSON.stringify(childrenModule)});
       new ManagedChild(${JSON.stringify(spec('forever', 'forever.mjs', { PID_FILE: pidFile }))});
       setInterval(() => {}, 1000);`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', orchestrator], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(50);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(grandchild)).toBe(true);

    parent.kill('SIGKILL');

    for (let i = 0; i < 60 && pidAlive(grandchild); i++) await sleep(50);
    expect(pidAlive(grandchild)).toBe(false);
  });

  it('does not let a bundled child (guard built in) outlive an orchestrator that is killed outright', async () => {
    const pidFile = join(dir, 'bundled-grandchild.pid');
    writeFileSync(join(dir, 'forever-entry.ts'), `await import(${JSON.stringify(join(dir, 'forever.mjs'))});`);
    const file = await bundle('forever', 'forever-entry.ts');
    const childrenModule = fileURLToPath(new URL('./children.ts', import.meta.url));
    const orchestrator = join(dir, 'bundled-orchestrator.mjs');
    writeFileSync(
      orchestrator,
      `const { ManagedChild } = await import(${JSON.stringify(childrenModule)});
       new ManagedChild(${JSON.stringify({ ...spec('bundled-forever', 'forever.mjs', { PID_FILE: pidFile }), file, bundled: true, gated: true })});
       setInterval(() => {}, 1000);`,
    );
    const parent = spawn(process.execPath, ['--import', 'tsx', orchestrator], { cwd: fileURLToPath(new URL('.', import.meta.url)), stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(pidFile); i++) await sleep(50);
    const grandchild = Number(readFileSync(pidFile, 'utf8'));
    expect(pidAlive(grandchild)).toBe(true);

    parent.kill('SIGKILL');

    for (let i = 0; i < 60 && pidAlive(grandchild); i++) await sleep(50);
    expect(pidAlive(grandchild)).toBe(false);
  });
});
