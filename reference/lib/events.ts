/**
 * Mission progress events: the worker writes step/mission state to the database, then NOTIFYs
 * this channel; the API server LISTENs and pushes each event to the page over SSE.
 */
export const MISSION_EVENTS_CHANNEL = 'mission_events';

export type MissionEvent =
  | { type: 'step'; mission_id: string; account_id: string; step_id: string; status: 'pending' | 'running' | 'completed' | 'failed' }
  | {
      type: 'mission';
      mission_id: string;
      account_id: string;
      phase: string;
      status: string;
      error_code: string | null;
      error_message: string | null;
    };

type Queryable = { query(text: string, values?: unknown[]): Promise<unknown> };

export async function publishMissionEvent(db: Queryable, event: MissionEvent): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [MISSION_EVENTS_CHANNEL, JSON.stringify(event)]);
}
