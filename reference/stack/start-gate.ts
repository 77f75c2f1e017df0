/**
 * The stack starts the API server and the worker while Postgres is still initialising: each loads
 * its code (most of its start-up time) and then waits here until the orchestrator says the database
 * is ready. Outside the stack (no gate variable, no IPC channel) this returns at once.
 */
export const START_GATE_VARIABLE = 'M1_STACK_START_GATE';
/** Child → orchestrator: loaded and listening for the start. */
export const WAITING_MESSAGE = 'm1-stack:waiting';
/** Orchestrator → child: the database is ready. */
export const START_MESSAGE = 'm1-stack:start';

export function startGate(): Promise<void> {
  if (process.env[START_GATE_VARIABLE] !== '1' || !process.send) return Promise.resolve();
  return new Promise((resolve) => {
    const onMessage = (message: unknown) => {
      if (message !== START_MESSAGE) return;
      process.off('message', onMessage);
      process.off('disconnect', onDisconnect);
      // From here on the process lives as it would without the stack: no channel to the orchestrator.
      process.disconnect();
      resolve();
    };
    // The orchestrator is gone before the database was ready: there is nothing to start for.
    const onDisconnect = () => process.exit(1);
    process.on('message', onMessage);
    process.once('disconnect', onDisconnect);
    // Only now: a start sent before the listener existed would be lost.
    process.send!(WAITING_MESSAGE);
  });
}
