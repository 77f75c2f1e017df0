import { execSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isStackOwnDatabase, stackStartCommand, stackStartEnv, stackStartRefusal } from './stack-start';

const own = 'postgres://m1:m1@127.0.0.1:54329/m1_reference';
const devDb = 'postgres://dev:devpw@127.0.0.1:5432/powernode_development';

describe('starting the reference stack for a run', () => {
  it("knows the stack's own database on any port, and nothing else", () => {
    expect(isStackOwnDatabase(own)).toBe(true);
    expect(isStackOwnDatabase('postgres://m1:m1@localhost:4205/m1_reference')).toBe(true);
    expect(isStackOwnDatabase(devDb)).toBe(false);
    expect(isStackOwnDatabase('postgres://m1:m1@db.example:54329/m1_reference')).toBe(false);
  });

  it('gives the embedded Postgres a port instead of a server', () => {
    expect(stackStartEnv('postgres://m1:m1@127.0.0.1:4205/m1_reference')).toEqual({ DATABASE_URL: '', STACK_PG_PORT: '4205' });
    expect(stackStartEnv(devDb)).toEqual({});
  });

  it('refuses to run migrations and seeds over a database that is not its own, unless told to', () => {
    expect(stackStartRefusal({ DATABASE_URL: own, ALLOW_STACK_ON_DATABASE: false })).toBeNull();
    const refusal = stackStartRefusal({ DATABASE_URL: devDb, ALLOW_STACK_ON_DATABASE: false });
    expect(refusal).toMatch(/^refusing to start the reference stack over DATABASE_URL 127\.0\.0\.1:5432\/powernode_development/);
    expect(refusal).toContain('START_STACK=never');
    expect(refusal).toContain('ALLOW_STACK_ON_DATABASE=1');
    expect(refusal).not.toContain('devpw');
    expect(stackStartRefusal({ DATABASE_URL: devDb, ALLOW_STACK_ON_DATABASE: true })).toBeNull();
  });

  it('turns a refusal into a command that prints it and fails', () => {
    expect(stackStartCommand({ DATABASE_URL: own, ALLOW_STACK_ON_DATABASE: false })).toBe('npm run stack --silent');
    const command = stackStartCommand({ DATABASE_URL: devDb, ALLOW_STACK_ON_DATABASE: false });
    let failure: { status: number; stderr: string } | undefined;
    try {
      execSync(command, { stdio: 'pipe', encoding: 'utf8' });
    } catch (error) {
      failure = error as { status: number; stderr: string };
    }
    expect(failure?.status).toBe(1);
    expect(failure?.stderr.trim()).toBe(`config: ${stackStartRefusal({ DATABASE_URL: devDb, ALLOW_STACK_ON_DATABASE: false })}`);
  });
});
