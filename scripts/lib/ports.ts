/**
 * Which local ports are taken, for the scripts that start their own reference stacks (bench,
 * self-test, interrupted runs, local shards): before starting one, and after stopping it.
 */
import { connect } from 'node:net';

/**
 * True unless a connection to 127.0.0.1:port is refused. A connection that neither opens nor fails
 * within a second counts as busy: something holds the port without answering, and a stack started
 * on it would fail.
 */
export function portBusy(port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((answer) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (busy: boolean) => {
      socket.destroy();
      answer(busy);
    };
    socket.setTimeout(timeoutMs, () => done(true));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The ports of the list that are busy, in list order. */
export async function busyPorts(ports: readonly number[]): Promise<number[]> {
  const busy = await Promise.all(ports.map((port) => portBusy(port)));
  return ports.filter((_, i) => busy[i]);
}
