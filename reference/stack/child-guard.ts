/**
 * Preloaded into every process the orchestrator starts (`node --import tsx --import <this>`).
 * When the orchestrator dies without stopping its children (SIGKILL, a killed terminal), each
 * child notices its parent changed and stops itself, so nothing outlives the stack.
 */
const PARENT = process.ppid;
const CHECK_EVERY_MS = 250;
const FORCE_AFTER_MS = 5_000;

let orphanedAt: number | undefined;
setInterval(() => {
  if (process.ppid === PARENT) return;
  if (orphanedAt === undefined) {
    orphanedAt = Date.now();
    process.kill(process.pid, 'SIGTERM');
  } else if (Date.now() - orphanedAt > FORCE_AFTER_MS) {
    process.exit(1);
  }
}, CHECK_EVERY_MS).unref();
