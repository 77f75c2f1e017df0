/** Is something listening, and is it healthy? Short timeouts: these run in tight startup loops. */
import { connect } from 'node:net';

export async function isHealthy(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

/** True when a TCP connection to 127.0.0.1:<port> is accepted (or hangs: something holds it). */
export function portInUse(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (inUse: boolean) => {
      socket.destroy();
      resolve(inUse);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The ports of the list that are in use (see portInUse), in list order. */
export async function busyPorts(ports: readonly number[]): Promise<number[]> {
  const inUse = await Promise.all(ports.map((port) => portInUse(port)));
  return ports.filter((_, i) => inUse[i]);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
