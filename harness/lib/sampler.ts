/**
 * The memory and CPU of process trees, sampled from /proc every 100 ms: the bench's peak RSS and
 * cores busy, and, for every harness that passes one to runPlaywright, a record of every process a
 * run had, so what outlives it can be found and stopped by id.
 */
import { descendants, processTable, readText, type ProcStat } from './proc';

export const SAMPLE_EVERY_MS = 100;
const TICKS_PER_SECOND = 100;

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** VmRSS of /proc/<pid>/status in kB; kernel threads and zombies have none. */
export function parseVmRssKb(status: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

/**
 * A short name for a process: "node" alone says nothing when half the tree is Node. The script a
 * Node process runs, Postgres's own process title, Chromium's --type.
 */
export function processLabel(cmdline: string, comm: string): string {
  let argv = cmdline.split('\0').filter(Boolean);
  // Chromium rewrites its command line as one space-separated title.
  if (argv.length === 1 && /^(chromium|chrome|headless_shell)$/.test(comm)) argv = argv[0]!.split(' ').filter(Boolean);
  const first = (argv[0] ?? comm).trim();
  if (first.startsWith('postgres:')) return first.includes('127.0.0.1(') ? 'postgres backend' : first.split(' ').slice(0, 3).join(' ');
  const program = first.split('/').at(-1) ?? comm;
  if (program === 'postgres') return 'postgres';
  if (/^(chromium|chrome|headless_shell)$/.test(program)) {
    const type = argv.find((a) => a.startsWith('--type='));
    return type ? `chromium ${type.slice('--type='.length)}` : 'chromium browser';
  }
  if (program === 'node' || comm === 'node') {
    const script = argv.slice(1).find((a) => !a.startsWith('-') && /\.(ts|mts|js|mjs|cjs)$/.test(a));
    return script ? `node ${script.split('/').slice(-2).join('/')}` : 'node';
  }
  return program || comm;
}

export type RssPeak = {
  peakMb: number;
  /** The two trees at the sample of the peak. */
  stackMb: number;
  runnerMb: number;
  processes: number;
  /** The largest processes at the peak, for "where the memory goes". */
  top: { name: string; mb: number }[];
  samples: number;
  /**
   * CPU time the two trees used while sampled (processes that lived under 100 ms unseen), and
   * that divided by the sampled wall time: how many cores the run kept busy on average.
   */
  cpuSeconds: number;
  coresBusy: number;
  /** CPU the sampler itself spent, per sample (it shares the 2 cores with what it measures). */
  samplerCpuMsPerSample: number;
};

export type RootGroups = { stack?: number; runner?: number };
export type Group = keyof RootGroups;

/**
 * Sums the RSS of the stack's and the runner's process trees every 100 ms and keeps the peak. It
 * also remembers every process it saw (pid, start time, tree), so whatever outlives its parent can
 * be found and stopped by its own id afterwards. The roots object may change while it runs.
 */
export class TreeSampler {
  private timer: NodeJS.Timeout | undefined;
  private peak: Omit<RssPeak, 'samples' | 'samplerCpuMsPerSample' | 'cpuSeconds' | 'coresBusy'> = { peakMb: 0, stackMb: 0, runnerMb: 0, processes: 0, top: [] };
  private samples = 0;
  private cpuMicros = 0;
  private firstSampleAt: number | undefined;
  private lastSampleAt: number | undefined;
  /** Per process: its start time (to tell a reused pid), its tree, the CPU ticks when first and last seen. */
  readonly seen = new Map<number, { startTime: number; group: Group; firstTicks: number; lastTicks: number }>();

  constructor(readonly roots: RootGroups) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_EVERY_MS);
    return this;
  }

  stop(): RssPeak {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.sample();
    }
    let ticks = 0;
    for (const p of this.seen.values()) ticks += p.lastTicks - p.firstTicks;
    const cpuSeconds = ticks / TICKS_PER_SECOND;
    const wallSeconds = ((this.lastSampleAt ?? 0) - (this.firstSampleAt ?? 0)) / 1000;
    return {
      ...this.peak,
      samples: this.samples,
      cpuSeconds: round(cpuSeconds, 1),
      coresBusy: wallSeconds > 0 ? round(cpuSeconds / wallSeconds, 2) : 0,
      samplerCpuMsPerSample: this.samples ? round(this.cpuMicros / 1000 / this.samples, 2) : 0,
    };
  }

  sample(): void {
    const cpuBefore = process.cpuUsage();
    const table = processTable();
    const parentOf = new Map([...table].map(([pid, stat]) => [pid, stat.ppid]));
    const kb = { stack: 0, runner: 0 };
    const sizes = new Map<number, number>();
    for (const group of ['stack', 'runner'] as const) {
      const root = this.roots[group];
      if (root === undefined) continue;
      for (const pid of descendants([root], parentOf)) {
        if (sizes.has(pid)) continue;
        const size = this.record(pid, table.get(pid)!, group);
        sizes.set(pid, size);
        kb[group] += size;
      }
    }
    const totalMb = (kb.stack + kb.runner) / 1024;
    if (totalMb > this.peak.peakMb) {
      const top = [...sizes]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([pid, size]) => ({
          name: processLabel(readText(`/proc/${pid}/cmdline`) ?? '', (readText(`/proc/${pid}/comm`) ?? '?').trim()),
          mb: round(size / 1024, 1),
        }));
      this.peak = { peakMb: round(totalMb, 1), stackMb: round(kb.stack / 1024, 1), runnerMb: round(kb.runner / 1024, 1), processes: sizes.size, top };
    }
    this.samples += 1;
    this.firstSampleAt ??= performance.now();
    this.lastSampleAt = performance.now();
    const used = process.cpuUsage(cpuBefore);
    this.cpuMicros += used.user + used.system;
  }

  /** Notes the process and its CPU ticks; its RSS in kB. */
  private record(pid: number, stat: ProcStat, group: Group): number {
    const known = this.seen.get(pid);
    // A process already running when first seen brings its past CPU: only what it uses from then on counts.
    const firstTicks = known && known.startTime === stat.startTime ? known.firstTicks : this.samples === 0 ? stat.cpuTicks : 0;
    this.seen.set(pid, { startTime: stat.startTime, group, firstTicks, lastTicks: stat.cpuTicks });
    return parseVmRssKb(readText(`/proc/${pid}/status`) ?? '');
  }

  /** Processes of a tree it saw that are still alive (same pid and start time: not a reused pid). */
  survivors(group: Group): number[] {
    const table = processTable();
    return [...this.seen].filter(([pid, s]) => s.group === group && table.get(pid)?.startTime === s.startTime).map(([pid]) => pid);
  }
}
