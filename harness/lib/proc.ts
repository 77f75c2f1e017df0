/**
 * The process table from /proc (Linux): who is alive, who descends from whom, who is in a process
 * group. The harnesses use it to prove that what they started is gone, and to stop by id what is
 * not; the bench's memory sampler reads it too.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** cpuTicks: user + system time, in clock ticks (USER_HZ, 100 a second on Linux). */
export type ProcStat = { state: string; ppid: number; pgid: number; startTime: number; cpuTicks: number };

/** /proc/<pid>/stat. The command name may hold spaces and parentheses; the fields after the last ')' do not. */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  // After the name: state, ppid, pgrp, ..., utime and stime the 12th and 13th, starttime the 20th (fields 14, 15, 22 of proc(5)).
  const ppid = Number(fields[1]);
  const pgid = Number(fields[2]);
  const startTime = Number(fields[19]);
  const cpuTicks = Number(fields[11]) + Number(fields[12]);
  const valid = [ppid, pgid, startTime, cpuTicks].every(Number.isInteger);
  return valid ? { state: fields[0] ?? '?', ppid, pgid, startTime, cpuTicks } : undefined;
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** A zombie (Z) or dead (X) process has exited; whether its parent reaps it is not ours to wait for. */
const exited = (stat: ProcStat) => stat.state === 'Z' || stat.state === 'X';

/** Every live process, by pid. */
export function processTable(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = readText(`/proc/${entry}/stat`);
    const stat = text === undefined ? undefined : parseProcStat(text);
    if (stat && !exited(stat)) table.set(Number(entry), stat);
  }
  return table;
}

/** Every process under the roots (the roots included), from a pid → parent pid map. */
export function descendants(roots: number[], parentOf: Map<number, number>): Set<number> {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parentOf) {
    const list = children.get(ppid) ?? [];
    list.push(pid);
    children.set(ppid, list);
  }
  const found = new Set<number>();
  const queue = roots.filter((pid) => parentOf.has(pid));
  while (queue.length > 0) {
    const pid = queue.pop()!;
    if (found.has(pid)) continue;
    found.add(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** Live members of a process group; by signal 0 where there is no /proc. */
export function groupMembers(pgid: number): number[] {
  if (pgid <= 0) return [];
  if (!existsSync('/proc/self/stat')) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM' ? [pgid] : [];
    }
  }
  return [...processTable()].filter(([, stat]) => stat.pgid === pgid).map(([pid]) => pid);
}

/** A process started in a group of its own (detached): its tree and its group, as they are now. */
export function treeOf(root: number): number[] {
  const table = processTable();
  const tree = descendants([root], new Map([...table].map(([pid, stat]) => [pid, stat.ppid])));
  for (const [pid, stat] of table) if (stat.pgid === root) tree.add(pid);
  return [...tree];
}

/** Pids with their start times: a later look tells a survivor from a reused pid. */
export type Snapshot = Map<number, number>;

export function snapshot(pids: number[]): Snapshot {
  const table = processTable();
  return new Map(pids.flatMap((pid) => (table.has(pid) ? [[pid, table.get(pid)!.startTime] as const] : [])));
}

/** The processes of a snapshot still alive (same pid and start time). */
export function survivors(of: Snapshot): number[] {
  const table = processTable();
  return [...of].filter(([pid, startTime]) => table.get(pid)?.startTime === startTime).map(([pid]) => pid);
}

export function alive(pid: number): boolean {
  const text = readText(`/proc/${pid}/stat`);
  const stat = text === undefined ? undefined : parseProcStat(text);
  return stat !== undefined && !exited(stat);
}

/**
 * Live processes (other than this one) whose command line contains `text`, e.g. a stack's directory.
 * The arguments are read joined by spaces (/proc separates them with NULs), so `-p 54601` matches.
 */
export function processesMentioning(text: string): number[] {
  return [...processTable().keys()].filter((pid) => pid !== process.pid && (readText(`/proc/${pid}/cmdline`) ?? '').replaceAll('\0', ' ').includes(text));
}
