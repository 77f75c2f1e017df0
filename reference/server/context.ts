/** Everything a route module needs, resolved once by buildApp. */
import type pg from 'pg';
import type Stripe from 'stripe';
import type { StackConfig } from '../lib/config';
import type { Variants } from '../lib/variants';
import type { ErrorStyle } from './http/errors';
import type { BackendLog } from './http/request-log';
import type { MissionEventHub } from './mission-events';
import type { Faults } from './services/faults';
import type { StreamTickets } from './stream-tickets';
import type { Queue } from './services/missions';

export type RouteContext = {
  config: StackConfig;
  pool: pg.Pool;
  queue: Queue;
  stripe: Stripe;
  faults: Faults;
  variants: Variants;
  /** `flat` under the errors_flat variant; every error body goes through errorBody with it. */
  errorStyle: ErrorStyle;
  workerHealthy: () => Promise<boolean>;
  missionEvents: MissionEventHub;
  streamTickets: StreamTickets;
  log: BackendLog;
  now: () => Date;
  heartbeatMs: number;
  /** Ends each open event stream; emptied as streams close. */
  openStreams: Set<() => void>;
};
