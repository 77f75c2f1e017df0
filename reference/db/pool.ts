import pg from 'pg';

// numeric(10,4) comes back as a string by default; every numeric here is a price, safe as a float.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max, idleTimeoutMillis: 10_000 });
  // An idle client losing its connection (database restarted) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}
