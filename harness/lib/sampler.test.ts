import { describe, expect, it } from 'vitest';
import { alive, descendants, parseProcStat, snapshot, survivors, treeOf } from './proc';
import { parseVmRssKb, processLabel, TreeSampler } from './sampler';

describe('/proc parsing', () => {
  const stat = (comm: string, ppid: number, start: number) =>
    `4242 (${comm}) S ${ppid} 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 11 0 ${start} 1234567 8901 18446744073709551615`;

  it('reads the state, parent pid, group, start time and CPU ticks (user + system), even when the command name holds spaces and parentheses', () => {
    expect(parseProcStat(stat('node', 17, 99001))).toEqual({ state: 'S', ppid: 17, pgid: 4242, startTime: 99001, cpuTicks: 8 });
    expect(parseProcStat(stat('Web Content (x) ) y', 3, 5))).toEqual({ state: 'S', ppid: 3, pgid: 4242, startTime: 5, cpuTicks: 8 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads VmRSS in kB; a kernel thread has none', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t  900000 kB\nVmRSS:\t  123456 kB\nRssAnon:\t 1 kB\n')).toBe(123456);
    expect(parseVmRssKb('Name:\tkworker/0:1\nState:\tI (idle)\n')).toBe(0);
  });

  it('finds every descendant of the roots, and nothing of a root that is gone', () => {
    const parentOf = new Map([
      [10, 1],
      [11, 10],
      [12, 11],
      [13, 10],
      [20, 1],
      [21, 20],
    ]);
    expect([...descendants([10], parentOf)].sort()).toEqual([10, 11, 12, 13]);
    expect([...descendants([99], parentOf)]).toEqual([]);
    expect([...descendants([11, 20], parentOf)].sort()).toEqual([11, 12, 20, 21]);
  });

  it('names processes by what they run', () => {
    expect(processLabel('postgres: m1 m1_reference 127.0.0.1(41690) idle\0', 'postgres')).toBe('postgres backend');
    expect(processLabel('postgres: checkpointer \0', 'postgres')).toBe('postgres: checkpointer');
    expect(processLabel('/usr/lib/chromium/chromium\0--type=renderer\0--lang=en\0', 'chromium')).toBe('chromium renderer');
    expect(processLabel('/usr/lib/chromium/chromium\0--headless\0', 'chromium')).toBe('chromium browser');
    expect(processLabel('/usr/lib/chromium/chromium --type=gpu-process --no-sandbox\0', 'chromium')).toBe('chromium gpu-process');
    expect(processLabel('/usr/bin/node\0--enable-source-maps\0/tmp/x/stack/build/api.mjs\0', 'node')).toBe('node build/api.mjs');
    expect(processLabel('/usr/lib/chromium/chrome_crashpad_handler\0--monitor-self\0', 'chrome_crashpad')).toBe('chrome_crashpad_handler');
    expect(processLabel('', 'sh')).toBe('sh');
  });

  it('samples this process from /proc: a peak above zero, the CPU it burns meanwhile, itself among the survivors', () => {
    const sampler = new TreeSampler({ runner: process.pid });
    sampler.sample();
    const until = Date.now() + 300;
    while (Date.now() < until) Math.sqrt(Math.random());
    sampler.sample();
    const peak = sampler.stop();
    expect(peak.cpuSeconds).toBeGreaterThanOrEqual(0.1);
    expect(peak.coresBusy).toBeGreaterThan(0.3);
    expect(peak.peakMb).toBeGreaterThan(10);
    expect(peak.runnerMb).toBe(peak.peakMb);
    expect(peak.stackMb).toBe(0);
    expect(sampler.survivors('runner')).toContain(process.pid);
    expect(sampler.survivors('stack')).toEqual([]);
  });
});

describe('process groups and snapshots', () => {
  it('finds this process in its own group and tree, and as a survivor of a snapshot of itself', () => {
    expect(treeOf(process.pid)).toContain(process.pid);
    expect(alive(process.pid)).toBe(true);
    expect(survivors(snapshot([process.pid]))).toEqual([process.pid]);
    // A pid that is not running is no survivor.
    expect(survivors(new Map([[process.pid, -1]]))).toEqual([]);
  });
});
