import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { busyPorts, portInUse } from './probe';

const servers: Server[] = [];

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const port = await listening();
  await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
  return port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
});

describe('portInUse', () => {
  it('is true for a listening port and false for a refused one', async () => {
    const taken = await listening();
    const free = await freePort();
    expect(await portInUse(taken)).toBe(true);
    expect(await portInUse(free)).toBe(false);
  });
});

describe('busyPorts', () => {
  it('lists only the taken ports, in the order given', async () => {
    const a = await listening();
    const free = await freePort();
    const b = await listening();
    expect(await busyPorts([b, free, a])).toEqual([b, a]);
    expect(await busyPorts([])).toEqual([]);
  });
});
