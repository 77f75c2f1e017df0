/**
 * How playwright.config.ts starts the reference stack for a run, when the target is the local
 * default and nothing answers yet (Playwright reuses a stack that already answers).
 */
import { isLoopbackUrl, type Config } from '../config';

/** The stack's own database: m1:m1@loopback/m1_reference (what .env.example holds), on any port. */
export function isStackOwnDatabase(databaseUrl: string): boolean {
  const url = new URL(databaseUrl);
  return isLoopbackUrl(databaseUrl) && url.username === 'm1' && url.password === 'm1' && url.pathname === '/m1_reference';
}

/**
 * For the stack a set DATABASE_URL means "use that server": its own database's URL becomes a port
 * (STACK_PG_PORT) for the embedded Postgres instead. Any other URL is passed through.
 */
export function stackStartEnv(databaseUrl: string): Record<string, string> {
  return isStackOwnDatabase(databaseUrl) ? { DATABASE_URL: '', STACK_PG_PORT: new URL(databaseUrl).port || '5432' } : {};
}

/** Why the stack may not be started over this database, or null when it may. */
export function stackStartRefusal(config: Pick<Config, 'DATABASE_URL' | 'ALLOW_STACK_ON_DATABASE'>): string | null {
  if (isStackOwnDatabase(config.DATABASE_URL) || config.ALLOW_STACK_ON_DATABASE) return null;
  const url = new URL(config.DATABASE_URL);
  return (
    `refusing to start the reference stack over DATABASE_URL ${url.host}${url.pathname}, which is not its own database ` +
    '(its migrations and seeds would land there): start the target yourself and set START_STACK=never, ' +
    'or set ALLOW_STACK_ON_DATABASE=1 if that database is meant for the reference stack'
  );
}

/**
 * The webServer command. A refused start is a command that prints why and fails: Playwright runs
 * the command only when nothing answers, so a stack that is already up is still reused.
 */
export function stackStartCommand(config: Pick<Config, 'DATABASE_URL' | 'ALLOW_STACK_ON_DATABASE'>): string {
  const refusal = stackStartRefusal(config);
  if (refusal === null) return 'npm run stack --silent';
  return `node -e ${JSON.stringify(`console.error(${JSON.stringify(`config: ${refusal}`)}); process.exit(1)`)}`;
}
