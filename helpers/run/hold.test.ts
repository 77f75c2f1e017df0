import { describe, expect, it } from 'vitest';
import { holdOver } from './hold';

/** A fake clock: sleeping moves it on. */
function clock() {
  let t = 0;
  return { now: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('holdOver', () => {
  it('keeps asking until the mission settled plus the margin, and passes when every answer held', async () => {
    const c = clock();
    const held = await holdOver(
      async (): Promise<number> => 0,
      (count) => (count === 0 ? null : `${count} creations`),
      { settled: async () => c.now() >= 300, marginMs: 1000, timeoutMs: 10_000, intervalMs: 100, ...c },
    );
    expect(held.problem).toBeNull();
    expect(c.now()).toBe(1300);
    expect(held.observations).toBe(14);
  });

  it('runs the window from the moment the caller knows the mission was final, when it gives one', async () => {
    const c = clock();
    await c.sleep(700);
    const held = await holdOver(async (): Promise<number> => 0, () => null, {
      settled: async () => true,
      settledBy: 0,
      marginMs: 1000,
      timeoutMs: 10_000,
      intervalMs: 100,
      ...c,
    });
    expect(held.problem).toBeNull();
    expect(c.now()).toBe(1000);
  });

  it('stops at the first answer that shows the thing, and says what it was', async () => {
    const c = clock();
    const answers = [0, 0, 1, 0];
    const held = await holdOver(
      async () => answers.shift() ?? 0,
      (count) => (count === 0 ? null : `${count} creation`),
      { settled: async () => true, marginMs: 1000, timeoutMs: 10_000, intervalMs: 100, ...c },
    );
    expect(held).toMatchObject({ last: 1, problem: '1 creation', observations: 3 });
  });

  it('fails when the mission never settles, rather than calling a moving target absent', async () => {
    const c = clock();
    const held = await holdOver(async () => 0, () => null, { settled: async () => false, marginMs: 1000, timeoutMs: 500, intervalMs: 100, ...c });
    expect(held.problem).toMatch(/did not reach a final state within 500 ms/);
  });
});
