/**
 * The stack's configuration as the orchestrator and its scripts see it: `.env` from the repository
 * root, then readStackConfig, then STACK_PG_PORT (the embedded Postgres's port when it is not the
 * default: DATABASE_URL cannot carry it, since setting DATABASE_URL means "use that server").
 */
import { DEFAULT_DATABASE_URL, readStackConfig, type StackConfig } from '../lib/config';
import { loadRepoEnv } from './paths';

export function withEmbeddedPort(config: StackConfig, port: string | undefined): StackConfig {
  if (port === undefined || port === '') return config;
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65_535) throw new Error('STACK_PG_PORT: expects a port number, e.g. 54329');
  if (!config.embeddedDatabase) throw new Error('STACK_PG_PORT: only for the embedded Postgres; DATABASE_URL is set, so it names the server');
  const url = new URL(DEFAULT_DATABASE_URL);
  url.port = port;
  return { ...config, databaseUrl: url.toString() };
}

/** Throws one Error whose message lists every problem, one per line. */
export function loadStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig {
  loadRepoEnv();
  return withEmbeddedPort(readStackConfig(env), env.STACK_PG_PORT);
}
