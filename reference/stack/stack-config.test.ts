import { describe, expect, it } from 'vitest';
import { readStackConfig } from '../lib/config';
import { withEmbeddedPort } from './stack-config';

describe('withEmbeddedPort', () => {
  it('moves the embedded Postgres to STACK_PG_PORT', () => {
    const config = withEmbeddedPort(readStackConfig({}), '4155');
    expect(config.databaseUrl).toBe('postgres://m1:m1@127.0.0.1:4155/m1_reference');
    expect(config.embeddedDatabase).toBe(true);
  });

  it('leaves the default alone when unset', () => {
    expect(withEmbeddedPort(readStackConfig({}), undefined).databaseUrl).toBe('postgres://m1:m1@127.0.0.1:54329/m1_reference');
  });

  it('rejects a bad port and a port beside an external DATABASE_URL', () => {
    expect(() => withEmbeddedPort(readStackConfig({}), 'abc')).toThrow(/STACK_PG_PORT: expects a port number/);
    expect(() => withEmbeddedPort(readStackConfig({ DATABASE_URL: 'postgres://u:p@db:5432/x' }), '4155')).toThrow(/only for the embedded Postgres/);
  });
});
