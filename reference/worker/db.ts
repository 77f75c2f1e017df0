import type pg from 'pg';

/** A pool or a checked-out client: the queries here run on either. */
export type Queryable = {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
};

export { inTransaction } from '../db/transaction';
