/**
 * Absence held over a window, not read in one snapshot: a second instance or a stray create call
 * can arrive after the step that should have prevented it answered. The probe is asked again and
 * again until the mission that could still cause the thing has reached its final state, plus a
 * margin for what was already on its way; the first answer that shows the thing ends the hold.
 */
export type HoldOptions = {
  /** True once nothing can cause the thing any more (the mission reached a final state). */
  settled: () => Promise<boolean>;
  /** How long to keep looking once settled. */
  marginMs: number;
  /**
   * When the caller knows the mission was final by then: the API refused the approve (402, 422),
   * so no job exists. The window then runs from that moment, not from when the hold first asked.
   */
  settledBy?: number;
  /** How long to wait for `settled` at most. */
  timeoutMs: number;
  intervalMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
};

export type Held<T> = {
  /** The first answer with a problem, else the last answer. */
  last: T;
  /** What was wrong with `last`, or null when every answer held. */
  problem: string | null;
  observations: number;
  heldForMs: number;
};

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function holdOver<T>(probe: () => Promise<T>, problemOf: (answer: T) => string | null, options: HoldOptions): Promise<Held<T>> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const started = now();
  let settledAt: number | null = null;
  for (let observations = 1; ; observations++) {
    const askedAt = now();
    if (settledAt === null && (await options.settled())) settledAt = Math.min(askedAt, options.settledBy ?? askedAt);
    const last = await probe();
    const problem = problemOf(last);
    const done = (extra: string | null = null): Held<T> => ({ last, problem: problem ?? extra, observations, heldForMs: now() - started });
    if (problem !== null) return done();
    // This answer was asked for after the window closed: nothing came late.
    if (settledAt !== null && askedAt >= settledAt + options.marginMs) return done();
    if (settledAt === null && askedAt - started >= options.timeoutMs) {
      return done(`the mission did not reach a final state within ${options.timeoutMs} ms, so the absence could not be held to its end`);
    }
    await sleep(options.intervalMs);
  }
}
